"""Event ids and timestamps as the event envelope wants them (docs/protocol.md, "Event envelope")."""

from __future__ import annotations

import datetime
import random
import time
from typing import Optional

__all__ = ["uuid7", "rfc3339", "parse_rfc3339"]

_random = random.SystemRandom()


def uuid7(ns: Optional[int] = None) -> str:
    """UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version 7, random bits, variant 10."""
    if ns is None:
        ns = time.time_ns()
    value = ((ns // 1_000_000) << 80 | 0x7 << 76 | _random.getrandbits(12) << 64
             | 0b10 << 62 | _random.getrandbits(62))
    h = "%032x" % value
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def rfc3339(ns: Optional[int] = None) -> str:
    """RFC 3339 UTC with nanoseconds, e.g. 2026-11-25T14:30:00.123456789Z."""
    if ns is None:
        ns = time.time_ns()
    seconds, nanos = divmod(ns, 1_000_000_000)
    stamp = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return "%s.%09dZ" % (stamp, nanos)


def parse_rfc3339(text: str) -> float:
    """Seconds since the epoch of the kernel's `exp` text (UTC, `Z`); fractions are dropped."""
    return datetime.datetime.fromisoformat(text[:19]).replace(tzinfo=datetime.timezone.utc).timestamp()
