"""The producer's key and certificate, and the signed control requests (docs/onboarding.md,
"Keys, certificates and signatures").

A producer holds an Ed25519 key in an OpenSSH private key file; the operator's producer CA
certifies its public key; every control request carries the certificate, the canonical payload, a
fresh nonce and a pure Ed25519 signature over ``canonical(payload) + "." + nonce``.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import struct
from dataclasses import dataclass
from typing import Mapping, Optional

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    SSHCertificate,
    load_ssh_private_key,
    load_ssh_public_identity,
)

from .canonical import canonical
from .errors import ProducerError

__all__ = ["ProducerKey", "Certificate", "fingerprint_of", "new_nonce"]


def fingerprint_of(public_key: Ed25519PublicKey) -> str:
    """The key's identity as the kernel computes it: SHA3-512 of the SSH wire encoding of the
    public key (string "ssh-ed25519", string <32 bytes>), standard base64, padded."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    wire = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + raw
    return base64.b64encode(hashlib.sha3_512(wire).digest()).decode("ascii")


def new_nonce() -> str:
    """Base64url of 16 random bytes, unpadded: fresh for every request."""
    return base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode("ascii")


class ProducerKey:
    """An Ed25519 key in OpenSSH format (unencrypted)."""

    def __init__(self, private_key: Ed25519PrivateKey, path: Optional[str] = None) -> None:
        self.private_key = private_key
        self.path = path
        self.fingerprint = fingerprint_of(private_key.public_key())

    @classmethod
    def load(cls, path: str) -> "ProducerKey":
        with open(path, "rb") as f:
            key = load_ssh_private_key(f.read(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ProducerError("%s is not an Ed25519 key (the kernel certifies only Ed25519 keys)" % path)
        return cls(key, path)

    @classmethod
    def generate(cls, path: str, comment: str = "datakernel-producer") -> "ProducerKey":
        """A new key written to `path` (mode 0600, OpenSSH format) and `path.pub`, as
        ``ssh-keygen -t ed25519 -N ''`` writes them."""
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())
        # O_EXCL: never overwrite a key someone else just made; 0600 from the start, never wider.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        produced = cls(key, path)
        with open(path + ".pub", "w", encoding="ascii") as f:
            f.write(produced.public_line(comment) + "\n")
        return produced

    @classmethod
    def load_or_generate(cls, path: str, comment: str = "datakernel-producer") -> "ProducerKey":
        if os.path.exists(path):
            return cls.load(path)
        return cls.generate(path, comment)

    def public_line(self, comment: str = "") -> str:
        """The public key as one authorized_keys line: ``ssh-ed25519 AAAA… comment``."""
        line = self.private_key.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode("ascii")
        return line + (" " + comment if comment else "")

    def sign_text(self, text: str) -> str:
        """Standard base64 of the 64-byte pure Ed25519 signature of the text's UTF-8 bytes."""
        return base64.b64encode(self.private_key.sign(text.encode("utf-8"))).decode("ascii")


@dataclass(frozen=True)
class Certificate:
    """An OpenSSH user certificate line (``ssh-ed25519-cert-v01@openssh.com AAAA… comment``)."""

    line: str
    valid_after: int
    valid_before: int
    key_id: str
    fingerprint: str

    @classmethod
    def parse(cls, text: str) -> "Certificate":
        line = text.strip()
        try:
            cert = load_ssh_public_identity(line.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as e:
            raise ProducerError("not an OpenSSH certificate: %s" % e) from e
        if not isinstance(cert, SSHCertificate):
            raise ProducerError("a plain public key, not a certificate: have the producer CA sign it")
        public = cert.public_key()
        if not isinstance(public, Ed25519PublicKey):
            raise ProducerError("the certificate is not for an Ed25519 key")
        return cls(line=line, valid_after=cert.valid_after, valid_before=cert.valid_before,
                   key_id=cert.key_id.decode("utf-8", errors="replace"), fingerprint=fingerprint_of(public))

    @classmethod
    def read(cls, path: str) -> "Certificate":
        with open(path, encoding="ascii") as f:
            return cls.parse(f.read())

    def usable_for(self, key: ProducerKey, margin_seconds: int = 300) -> bool:
        """Certifies `key` and stays valid for at least `margin_seconds` more."""
        now = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
        return (self.fingerprint == key.fingerprint and self.valid_after <= now
                and now + margin_seconds < self.valid_before)


def signed_request(key: ProducerKey, certificate: Certificate, payload: Mapping[str, object]) -> tuple[dict[str, str], str]:
    """The four fields of a signed control request, and its nonce. The payload is sent in its
    canonical form, so the signature covers exactly what the kernel canonicalizes
    (docs/onboarding.md, "Keys, certificates and signatures")."""
    text = canonical(json.dumps(payload).encode("utf-8")).decode("utf-8")
    nonce = new_nonce()
    fields = {"pubkey": certificate.line, "payload": text, "nonce": nonce, "sig": key.sign_text(text + "." + nonce)}
    return fields, nonce
