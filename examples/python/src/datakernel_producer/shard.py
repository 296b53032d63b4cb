"""Which shard of the event stream a subject's events go to (docs/producers.md, "Sharded streams
and Redis Cluster"): the subject id's 16 bytes as one 128-bit big-endian unsigned integer, mod the
kernel's redis.shards. Written byte by byte, the way a language without big integers computes it.
"""

from __future__ import annotations

import uuid

__all__ = ["shard_for", "stream_key"]


def shard_for(subject_id: str, shards: int) -> int:
    """The shard (0 .. shards-1) of the subject id in canonical UUID text."""
    if shards < 1:
        raise ValueError("shards must be at least 1")
    r = 0
    for b in uuid.UUID(subject_id).bytes:
        r = (r * 256 + b) % shards
    return r


def stream_key(base: str, shard: int, shards: int) -> str:
    """`base` (e.g. "fdc:events") when there is one shard, else "base:{shard}": the braces are a
    Redis Cluster hash tag, so each shard's stream lives whole on one node."""
    if not 0 <= shard < shards:
        raise ValueError("shard %d outside 0..%d" % (shard, shards - 1))
    return base if shards == 1 else "%s:{%d}" % (base, shard)
