#!/usr/bin/env bash
# Regenerates the `kernel-fuzz cert` seed corpus: real OpenSSH certificates (ssh-keygen) of every
# key type the kernel handles, signed by CAs of every supported type. TEST KEYS ONLY: the CA
# private keys are committed (ca-*.key) so the fuzzer can re-sign mutated certificate bodies with
# the Ed25519 CA and reach the policy checks behind the signature check. Never trust these CAs.
#
# Usage: Tests/Fixtures/fuzz/cert/generate.sh   (rewrites the directory's *.pub and ca-*.key)
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -f ./*.pub ./*.key

# CAs: ed25519, ecdsa 256/384/521, rsa 3072 (rsa-sha2-512 signatures, ssh-keygen's default).
ssh-keygen -q -t ed25519 -N '' -C 'fuzz test CA ed25519' -f "$work/ca-ed25519"
ssh-keygen -q -t ecdsa -b 256 -N '' -C 'fuzz test CA p256' -f "$work/ca-ecdsa256"
ssh-keygen -q -t ecdsa -b 384 -N '' -C 'fuzz test CA p384' -f "$work/ca-ecdsa384"
ssh-keygen -q -t ecdsa -b 521 -N '' -C 'fuzz test CA p521' -f "$work/ca-ecdsa521"
ssh-keygen -q -t rsa -b 3072 -N '' -C 'fuzz test CA rsa' -f "$work/ca-rsa"
for ca in ed25519 ecdsa256 ecdsa384 ecdsa521 rsa; do
    cp "$work/ca-$ca.pub" "ca-$ca.pub"
done
# Only the Ed25519 CA's private half is kept: the fuzzer re-signs with it (KernelAuth signs Ed25519).
cp "$work/ca-ed25519" ca-ed25519.key

# Certified keys of every type.
ssh-keygen -q -t ed25519 -N '' -C 'producer key' -f "$work/k-ed25519"
ssh-keygen -q -t ecdsa -b 256 -N '' -f "$work/k-ecdsa256"
ssh-keygen -q -t ecdsa -b 384 -N '' -f "$work/k-ecdsa384"
ssh-keygen -q -t ecdsa -b 521 -N '' -f "$work/k-ecdsa521"
ssh-keygen -q -t rsa -b 2048 -N '' -f "$work/k-rsa"

# sign CA KEY NAME ARGS…: one certificate, written as NAME-cert.pub. Validity is fixed
# (2025-01-01 … 2035-01-01 UTC) so the fuzzer's clock (2026) is inside it.
sign() {
    local ca=$1 key=$2 name=$3
    shift 3
    cp "$work/k-$key.pub" "$work/$name.pub"
    ssh-keygen -q -s "$work/ca-$ca" "$@" "$work/$name.pub"
    cp "$work/$name-cert.pub" "$name-cert.pub"
}
window=(-V 20250101000000:20350101000000)

# Producer-shaped: ed25519 user certificates, principal "producer", from each CA type.
for ca in ed25519 ecdsa256 ecdsa384 ecdsa521 rsa; do
    sign "$ca" ed25519 "user-ed25519-by-$ca" -I "producer-$ca" -n producer -z 1 "${window[@]}"
done
# rsa-sha2-256 CA signature (the default is rsa-sha2-512).
sign rsa ed25519 user-ed25519-by-rsa256 -t rsa-sha2-256 -I producer-rsa256 -n producer -z 2 "${window[@]}"
# Every certified key type, user and host.
for key in ecdsa256 ecdsa384 ecdsa521 rsa; do
    sign ed25519 "$key" "user-$key-by-ed25519" -I "user-$key" -n alice,bob -z 3 "${window[@]}"
    sign ecdsa256 "$key" "host-$key-by-ecdsa256" -h -I "host-$key" -n host.example.com -z 4 "${window[@]}"
done
sign ed25519 ed25519 host-ed25519-by-ed25519 -h -I host-ed25519 -n host.example.com,10.0.0.1 -z 5 "${window[@]}"
# Critical options and extensions; admin-shaped (source-address) and refused (force-command).
sign ed25519 ed25519 admin-source-address -I admin -n admin \
    -O source-address=10.0.0.0/8,127.0.0.1 -O no-port-forwarding -z 6 "${window[@]}"
sign ed25519 ed25519 user-force-command -I forced -n producer,ops \
    -O force-command=/bin/true -O source-address=192.168.0.0/16 -O no-pty -z 7 "${window[@]}"
sign ed25519 ed25519 user-clear-extensions -I bare -n producer -O clear -z 8 "${window[@]}"
sign ed25519 ed25519 user-verify-required -I sk-opts -n producer -O verify-required -O no-touch-required -z 9 "${window[@]}"
# Validity edge cases: forever, not yet valid, expired, no principals, many principals.
sign ed25519 ed25519 user-forever -I forever -n producer -z 10 -V always:forever
sign ed25519 ed25519 user-not-yet-valid -I future -n producer -z 11 -V 20990101:20991231
sign ed25519 ed25519 user-expired -I past -n producer -z 12 -V 20000101:20010101
sign ed25519 ed25519 user-no-principals -I anyone -z 13 "${window[@]}"
sign ed25519 ed25519 user-many-principals -I many -n "$(seq -s, -f 'p%g' 1 40)" -z 14 "${window[@]}"
echo "wrote $(ls ./*-cert.pub | wc -l) certificates and $(ls ./ca-*.pub | wc -l) CAs into $(pwd)"
