#!/usr/bin/env bash
# `make demo`: the whole mission on one machine, from a fresh clone.
#
#  1. local Redis and Postgres (.ci/services), dev CAs for producers and admins (.run/ca)
#  2. the kernel (release build, example plugins) in the background
#  3. the example producer registers; an admin approves it with `kernel admin`
#  4. the producer exchanges a token, registers subjects and streams events for DEMO_SECONDS
#  5. what landed: rows per family, the DLQ by reason, one-minute VWAP from md_trade
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${DEMO_SECONDS:-20}"
rate="${DEMO_RATE:-200}"
demo=.run/demo
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "services, keys and builds"
.ci/services up >/dev/null
make --no-print-directory dev-keys
make --no-print-directory build >/dev/null
make --no-print-directory plugins PLUGIN_CONFIG=release >/dev/null
swift build -c release --product producer-example >/dev/null
bin="$(swift build -c release --show-bin-path)"
set -a; source .run/env; set +a
redis_port="${KERNEL_REDIS_ADDR##*:}"
pg_url="$KERNEL_PG_DSN"

# A producer key certified by the dev producer CA, and an admin key certified by the admin CA.
mkdir -p "$demo" && chmod 700 "$demo"
rm -f "$demo"/producer* "$demo"/admin*
ssh-keygen -q -t ed25519 -N '' -C demo-producer -f "$demo/producer"
ssh-keygen -q -s .run/ca/producer_ca -I demo-producer -n producer -V -5m:+1d "$demo/producer.pub"
ssh-keygen -q -t ed25519 -N '' -C demo-admin -f "$demo/admin"
ssh-keygen -q -s .run/ca/admin_ca -I demo-admin -n admin -V -5m:+1d "$demo/admin.pub"

say "kernel"
bin/kernel migrate --config config/kernel.yaml >/dev/null
bin/kernel run --config config/kernel.yaml >"$demo/kernel.log" 2>&1 &
kernel_pid=$!
cleanup() { kill "$kernel_pid" 2>/dev/null || true; wait "$kernel_pid" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fs http://127.0.0.1:7600/readyz >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs http://127.0.0.1:7600/readyz >/dev/null || { echo "kernel not ready; see $demo/kernel.log"; exit 1; }
echo "kernel ready (pid $kernel_pid, log $demo/kernel.log)"

say "producer registers and waits for approval"
name="demo-$(date +%s)"
"$bin/producer-example" --redis "127.0.0.1:$redis_port" --prefix fdc: --key "$demo/producer" --name "$name" \
  --rate "$rate" --seconds "$seconds" >"$demo/producer.log" 2>&1 &
producer_pid=$!

approved=""
for _ in $(seq 1 100); do
  row="$(bin/kernel admin pending --key "$demo/admin" --json 2>/dev/null | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    if r.get("name") == sys.argv[1]:
        print(r["producer_id"], r["fingerprint"]); break' "$name" || true)"
  if [ -n "$row" ]; then
    read -r pid fp <<<"$row"
    bin/kernel admin approve --key "$demo/admin" --producer "$pid" --fingerprint "$fp" --notes "make demo"
    approved=yes
    break
  fi
  sleep 0.3
done
[ -n "$approved" ] || { echo "no pending registration appeared; see $demo/producer.log"; exit 1; }

say "streaming for ${seconds}s at ${rate} events/s"
wait "$producer_pid" || { echo "producer failed; see $demo/producer.log"; tail -5 "$demo/producer.log"; exit 1; }
tail -1 "$demo/producer.log"
sleep 1

say "what landed"
psql "$pg_url" -qAt -F ' ' -c "
  SELECT 'md_trade', count(*) FROM md_trade UNION ALL
  SELECT 'md_quote', count(*) FROM md_quote UNION ALL
  SELECT 'md_book (rows)', count(*) FROM md_book UNION ALL
  SELECT 'md_bar', count(*) FROM md_bar UNION ALL
  SELECT 'events (generic)', count(*) FROM events"
echo
echo "DLQ by reason:"
redis-cli -p "$redis_port" --raw XRANGE fdc:events:dlq - + | awk 'prev=="reason"{c[$0]++} {prev=$0} END{n=0; for (r in c) {print "  " r, c[r]; n++} if (n==0) print "  (empty)"}'
echo
echo "one-minute VWAP from md_trade:"
psql "$pg_url" -c "
  SELECT date_trunc('minute', ts) AS minute, symbol,
         round(sum(price * size) / nullif(sum(size), 0), 4) AS vwap, sum(size) AS volume, count(*) AS trades
  FROM md_trade GROUP BY 1, 2 ORDER BY 1 DESC, 2 LIMIT 5"
