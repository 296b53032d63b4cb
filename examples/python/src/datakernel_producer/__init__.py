"""A Data Kernel producer in a few lines: onboarding (key, certificate, registration, approval,
token exchange and renewal), subject registration and publishing over Redis Streams.

    from datakernel_producer import LocalSSHCA, Producer
    from datakernel_producer.market import TRADE_SCHEMA

    with Producer.onboard("redis://127.0.0.1:6379", key="producer", ca=LocalSSHCA("producer_ca"),
                          name="acme-feed") as producer:   # returns once an admin approved the key
        trade = producer.register_subject("XNAS.AAPL.trade", "trade", TRADE_SCHEMA)
        producer.publish(trade, {"venue": "XNAS", "symbol": "AAPL", "price": "187.26", "size": 100})

docs/producers.md, "The Python package" walks through it.
"""

from .ca import CertificateAuthority, CertificateRequest, LocalSSHCA
from .canonical import canonical, canonical_text
from .errors import (
    ApprovalTimeout,
    NoTokenIssued,
    ProducerError,
    RegistrationRefused,
    Stopped,
    SubjectRefused,
)
from .events import rfc3339, uuid7
from .identity import Certificate, ProducerKey
from .producer import Producer, Subject, connect
from .shard import shard_for, stream_key

__version__ = "0.1.0"

__all__ = [
    "ApprovalTimeout", "Certificate", "CertificateAuthority", "CertificateRequest", "LocalSSHCA",
    "NoTokenIssued", "Producer", "ProducerError", "ProducerKey", "RegistrationRefused", "Stopped",
    "Subject", "SubjectRefused", "canonical", "canonical_text", "connect", "rfc3339", "shard_for",
    "stream_key", "uuid7",
]
