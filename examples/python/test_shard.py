"""Checks examples/python/src/datakernel_producer/shard.py against the fixed vectors of
Tests/Fixtures/shard/vectors.json (the same vectors the Swift kernel is tested with).

Run from anywhere: python3 -m unittest examples/python/test_shard.py  (or python3 test_shard.py)
"""

import json
import os
import random
import sys
import unittest
import uuid

# The module file itself rather than the package: shard.py needs only the standard library, so
# this check runs where redis and cryptography (which the package imports) are not installed.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src", "datakernel_producer"))
from shard import shard_for, stream_key  # noqa: E402

# Subject id -> expected shard for each of the shard counts, computed as int(uuid.UUID(id).hex, 16) % n:
# the vectors the Swift kernel is tested with (Tests/KernelEventsTests/StreamShardTests.swift).
VECTORS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                            "Tests", "Fixtures", "shard", "vectors.json")
with open(VECTORS_FILE, encoding="utf-8") as _f:
    _table = json.load(_f)
SHARD_COUNTS = _table["shard_counts"]
VECTORS = [(v["subject_id"], v["shards"]) for v in _table["vectors"]]


class ShardTest(unittest.TestCase):
    def test_fixed_vectors(self):
        self.assertGreaterEqual(len(VECTORS), 10)
        for subject_id, expected in VECTORS:
            for n, shard in zip(SHARD_COUNTS, expected):
                with self.subTest(subject_id=subject_id, shards=n):
                    self.assertEqual(shard_for(subject_id, n), shard)
                    self.assertEqual(shard_for(subject_id.upper(), n), shard)

    def test_one_shard_is_always_zero(self):
        for subject_id, _ in VECTORS:
            self.assertEqual(shard_for(subject_id, 1), 0)
        for _ in range(1000):
            self.assertEqual(shard_for(str(uuid.uuid4()), 1), 0)

    def test_in_range_and_equal_to_the_big_integer_rule(self):
        rng = random.Random(8)
        for n in [1, 2, 3, 5, 8, 13, 16, 100, 255, 256, 257, 1023, 1024]:
            for _ in range(300):
                subject_id = str(uuid.UUID(int=rng.getrandbits(128)))
                shard = shard_for(subject_id, n)
                self.assertTrue(0 <= shard < n)
                self.assertEqual(shard, int(uuid.UUID(subject_id).hex, 16) % n)

    def test_stream_keys(self):
        self.assertEqual(stream_key("fdc:events", 0, 1), "fdc:events")
        self.assertEqual(stream_key("fdc:events", 0, 4), "fdc:events:{0}")
        self.assertEqual(stream_key("fdc:events", 15, 16), "fdc:events:{15}")
        self.assertEqual(stream_key("fdc:events", shard_for("c9bf9e57-1685-4c89-bafb-ff5af830be8a", 16), 16),
                         "fdc:events:{10}")
        with self.assertRaises(ValueError):
            stream_key("fdc:events", 4, 4)
        with self.assertRaises(ValueError):
            shard_for("c9bf9e57-1685-4c89-bafb-ff5af830be8a", 0)


if __name__ == "__main__":
    unittest.main()
