"""Checks examples/python/src/datakernel_producer/shard.py against the fixed vectors of
Tests/KernelEventsTests/StreamShardTests.swift (the Swift kernel side of the same rule).

Run from anywhere: python3 -m unittest examples/python/test_shard.py  (or python3 test_shard.py)
"""

import os
import random
import sys
import unittest
import uuid

# The module file itself rather than the package: shard.py needs only the standard library, so
# this check runs where redis and cryptography (which the package imports) are not installed.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src", "datakernel_producer"))
from shard import shard_for, stream_key  # noqa: E402

SHARD_COUNTS = [2, 3, 4, 7, 16, 1000, 1024]

# Subject id -> expected shard for each of SHARD_COUNTS, computed as int(uuid.UUID(id).hex, 16) % n.
# The same table is in Tests/KernelEventsTests/StreamShardTests.swift.
VECTORS = [
    ("00000000-0000-0000-0000-000000000000", [0, 0, 0, 0, 0, 0, 0]),
    ("ffffffff-ffff-ffff-ffff-ffffffffffff", [1, 0, 3, 3, 15, 455, 1023]),
    ("00000000-0000-0000-0000-000000000001", [1, 1, 1, 1, 1, 1, 1]),
    ("0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c21", [1, 0, 1, 1, 1, 433, 33]),
    ("3f1e2d4c-5b6a-4789-8c0d-1e2f3a4b5c6d", [1, 1, 1, 1, 13, 133, 109]),
    ("01936a52-8a4b-7d1c-b2e3-f4a5b6c7d8e9", [1, 0, 1, 2, 9, 321, 233]),
    ("c9bf9e57-1685-4c89-bafb-ff5af830be8a", [0, 2, 2, 1, 10, 146, 650]),
    ("7d444840-9dc0-11d1-b245-5ffdce74fad2", [0, 1, 2, 0, 2, 706, 722]),
    ("80000000-0000-0000-0000-000000000000", [0, 2, 0, 2, 0, 728, 0]),
    ("00000000-0000-0001-0000-000000000000", [0, 1, 0, 2, 0, 616, 0]),
]


class ShardTest(unittest.TestCase):
    def test_fixed_vectors(self):
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
