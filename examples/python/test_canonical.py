"""Checks examples/python/src/datakernel_producer/canonical.py against every vector of
Tests/Fixtures/canonical/vectors.json (the same vectors the Swift kernel is tested with).

Run from anywhere: python3 -m unittest examples/python/test_canonical.py  (or python3 test_canonical.py)
"""

import json
import os
import sys
import unittest

# The module file itself rather than the package: canonical.py needs only the standard library, so
# this check runs where redis and cryptography (which the package imports) are not installed.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src", "datakernel_producer"))
from canonical import canonical  # noqa: E402

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "Tests", "Fixtures", "canonical", "vectors.json")


def _bytes(vector, name):
    if name + "_hex" in vector:
        return bytes.fromhex(vector[name + "_hex"])
    return vector[name].encode("utf-8", errors="surrogatepass")


class CanonicalVectorsTest(unittest.TestCase):
    def test_every_vector(self):
        with open(VECTORS, encoding="utf-8") as f:
            vectors = json.load(f)["vectors"]
        self.assertGreater(len(vectors), 100)
        for vector in vectors:
            with self.subTest(vector["name"]):
                given = _bytes(vector, "input")
                expected = _bytes(vector, "output") if ("output" in vector or "output_hex" in vector) else given
                self.assertEqual(canonical(given), expected)
                # The canonical form is a fixed point.
                self.assertEqual(canonical(expected), expected)

    def test_deep_nesting_limit(self):
        ok = b"[" * 10000 + b"]" * 10000
        self.assertEqual(canonical(ok), ok)
        too_deep = b"[" * 10001 + b"]" * 10001
        self.assertEqual(canonical(too_deep), too_deep)  # Go refuses it: unchanged

    def test_signing_payload(self):
        payload = {"producer_hint": "acme-feed", "contact": "ops@acme.test", "meta": {"é": "<1>"}}
        self.assertEqual(canonical(json.dumps(payload).encode()),
                         '{"contact":"ops@acme.test","meta":{"é":"\\u003c1\\u003e"},"producer_hint":"acme-feed"}'.encode())


if __name__ == "__main__":
    unittest.main()
