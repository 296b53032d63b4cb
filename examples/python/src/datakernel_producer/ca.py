"""Getting the key certified: the certificate request a producer hands to its organisation's
producer CA, and a CA that signs it with a local key.

An OpenSSH certificate has no request format of its own: what goes to the CA is the public key
line plus what the certificate should say (key id, principals, validity). A CA is any callable
that takes a `CertificateRequest` and returns the certificate line, so an organisation's signing
service (HTTP, a ticket, a vault) plugs in as a function; `LocalSSHCA` signs with a CA private
key file, as ``ssh-keygen -s`` does, for development, tests and operators who hold the key.
What the kernel checks in the certificate is in docs/onboarding.md, "Keys, certificates and
signatures".
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import (
    SSHCertificateBuilder,
    SSHCertificateType,
    load_ssh_private_key,
    load_ssh_public_key,
)

from .errors import ProducerError

__all__ = ["CertificateRequest", "CertificateAuthority", "LocalSSHCA"]


@dataclass(frozen=True)
class CertificateRequest:
    """What a producer asks its CA to certify."""

    #: the producer's public key, one authorized_keys line (``ssh-ed25519 AAAA… comment``)
    public_key: str
    #: the certificate's key id (``ssh-keygen -I``): shows in the kernel's logs
    key_id: str
    #: the principals (``ssh-keygen -n``); the kernel's ``auth.producer_principals`` may require one
    principals: Sequence[str] = field(default=("producer",))
    #: the fingerprint the kernel will show the admin who approves the key
    fingerprint: str = ""


#: A producer CA: takes the request, returns the certificate line (``ssh-ed25519-cert-v01@openssh.com …``).
CertificateAuthority = Callable[[CertificateRequest], str]


class LocalSSHCA:
    """Signs requests with a CA private key in OpenSSH format (Ed25519, ECDSA or RSA), as
    ``ssh-keygen -s CA -I key_id -n principals -V -5m:+validity`` does: a user certificate with no
    critical options. RSA CAs sign with rsa-sha2-512 (the kernel refuses SHA-1 ``ssh-rsa``)."""

    def __init__(self, ca_key_path: str, validity_seconds: int = 365 * 86400, backdate_seconds: int = 300) -> None:
        with open(ca_key_path, "rb") as f:
            key = load_ssh_private_key(f.read(), password=None)
        if not isinstance(key, (ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
            raise ProducerError("%s: a CA key must be Ed25519, ECDSA or RSA" % ca_key_path)
        self._key = key
        self.validity_seconds = validity_seconds
        # Valid a little in the past, like -V -5m:…, so clocks a little behind still accept it.
        self.backdate_seconds = backdate_seconds

    def __call__(self, request: CertificateRequest) -> str:
        public = load_ssh_public_key(request.public_key.encode("ascii"))
        if not isinstance(public, ed25519.Ed25519PublicKey):
            raise ProducerError("the kernel certifies only Ed25519 producer keys")
        now = int(time.time())
        builder = (SSHCertificateBuilder()
                   .public_key(public)
                   .serial(int.from_bytes(os.urandom(8), "big"))
                   .type(SSHCertificateType.USER)
                   .key_id(request.key_id.encode("utf-8"))
                   .valid_principals([p.encode("utf-8") for p in request.principals])
                   .valid_after(now - self.backdate_seconds)
                   .valid_before(now + self.validity_seconds))
        certificate = builder.sign(self._key)
        return certificate.public_bytes().decode("ascii")
