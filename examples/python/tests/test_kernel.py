"""The package against a real kernel (tests/kernel_world.py): onboarding with a certificate from
the CA (a key made by the package, its certificate request signed by LocalSSHCA) and with a
given certificate (ssh-keygen), waiting for the admin's approval, token exchange and renewal
(6-second tokens, no skew tolerance), subject registration, publishing, deregistration; and
what landed in Postgres.

Run: python3 -m unittest discover -v -s tests   (in examples/python; `make test` runs it)
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import threading
import time
import unittest
from typing import List, Optional

from kernel_world import PACKAGE_ROOT, REPO, TOKEN_TTL_SECONDS, KernelWorld, ssh_keygen, wait_until

from datakernel_producer import Certificate, LocalSSHCA, Producer, RegistrationRefused
from datakernel_producer.market import QUOTE_SCHEMA, TRADE_SCHEMA

world: Optional[KernelWorld] = None


def setUpModule() -> None:
    global world
    world = KernelWorld()


def tearDownModule() -> None:
    if world is not None:
        world.stop()


def kernel() -> KernelWorld:
    assert world is not None
    return world


class OnboardInBackground:
    """Runs Producer.onboard on a thread, since it returns only after the admin's approval."""

    def __init__(self, **kwargs: object) -> None:
        self.producer: Optional[Producer] = None
        self.error: Optional[BaseException] = None
        self.thread = threading.Thread(target=self._run, kwargs=kwargs, daemon=True)
        self.thread.start()

    def _run(self, **kwargs: object) -> None:
        try:
            self.producer = Producer.onboard(kernel().redis_url, prefix=kernel().prefix, **kwargs)  # type: ignore[arg-type]
        except BaseException as e:  # handed to the test thread
            self.error = e

    def result(self) -> Producer:
        self.thread.join(120)
        if self.error is not None:
            raise self.error
        assert self.producer is not None, "onboard() did not return:\n" + kernel().log_tail()
        return self.producer


def trade(i: int) -> dict[str, object]:
    return {"venue": "XNAS", "symbol": "AAPL", "price": "187.%02d" % (i % 100), "size": 100 + i,
            "side": "buy", "trade_id": "T-%d" % i}


class OnboardingTest(unittest.TestCase):
    def test_csr_to_the_ca_approval_renewal_subjects_publishing(self) -> None:
        k = kernel()
        key = k.path("csr-producer")
        self.assertFalse(os.path.exists(key))
        onboarding = OnboardInBackground(key=key, ca=LocalSSHCA(k.path("producer_ca")), name="csr-feed",
                                         contact="ops@csr.test", meta={"desk": "4"})
        row = k.approve_when_pending("csr-feed")
        producer = onboarding.result()
        self.addCleanup(producer.close)

        # The key was made (private, OpenSSH) and its certificate came from the CA.
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        cert = Certificate.read(key + "-cert.pub")
        self.assertEqual(cert.fingerprint, producer.fingerprint)
        self.assertEqual(cert.key_id, "csr-feed")
        # The kernel knows the key by the fingerprint the package computed, approved.
        self.assertEqual(row["fingerprint"], producer.fingerprint)
        self.assertEqual(producer.producer_id, row["producer_id"])
        self.assertEqual(k.query("SELECT status, producer_id FROM producer_keys WHERE fingerprint = '%s'" % producer.fingerprint),
                         [["approved", producer.producer_id]])
        self.assertEqual(k.scalar("SELECT name FROM producers WHERE producer_id = '%s'" % producer.producer_id), "csr-feed")
        # The kernel audited the signed payload as the package sent it (canonical JSON).
        self.assertEqual(k.scalar("SELECT DISTINCT payload::text FROM producer_registrations WHERE fingerprint = '%s'"
                                  % producer.fingerprint),
                         '{"meta": {"desk": "4"}, "contact": "ops@csr.test", "producer_hint": "csr-feed"}')

        # Subjects: one of a plugin family (typed table), one of a family no plugin serves (generic).
        trades = producer.register_subject("XNAS.AAPL.trade.csr", "trade", TRADE_SCHEMA, attrs={"venue": "XNAS"})
        notes = producer.register_subject("csr.notes", "csr_note", {"type": "object"})
        self.assertEqual(trades.stream, k.prefix + "events")
        self.assertEqual(sorted(r[0] for r in k.query(
            "SELECT subject_id FROM producer_subjects WHERE producer_id = '%s'" % producer.producer_id)),
            sorted([trades.subject_id, notes.subject_id]))

        first_token, first_expiry = producer.token, producer.token_expires_at
        ids: List[str] = [producer.publish(trades, trade(i)) for i in range(20)]
        note_ids = [producer.publish(notes, {"text": "note %d" % i}, tags={"core.desk": "4"}) for i in range(5)]

        # Renewal: the background thread replaces the token before it expires, more than once.
        self.assertTrue(wait_until(lambda: producer.renewals >= 2 and time.time() > first_expiry,
                                   timeout=10 * TOKEN_TTL_SECONDS),
                        "renewals=%d\n%s" % (producer.renewals, k.log_tail()))
        self.assertNotEqual(producer.token, first_token)
        self.assertGreater(producer.token_expires_at, first_expiry)
        # Published after the first token expired (and the kernel allows no skew): only a
        # renewed token gets these stored.
        ids += [producer.publish(trades, trade(i)) for i in range(20, 40)]
        note_ids += [producer.publish(notes, {"text": "note %d" % i}) for i in range(5, 10)]

        stored = "SELECT event_id FROM %s WHERE producer_id = '{}'".format(producer.producer_id)
        self.assertTrue(wait_until(lambda: len(k.query(stored % "md_trade")) == len(ids)),
                        "%d of %d trades stored; dead letters: %s" % (len(k.query(stored % "md_trade")), len(ids),
                                                                     k.dead_letters()[:3]))
        self.assertEqual(sorted(r[0] for r in k.query(stored % "md_trade")), sorted(ids))
        self.assertTrue(wait_until(lambda: len(k.query(stored % "events")) == len(note_ids)), k.dead_letters()[:3])
        self.assertEqual(sorted(r[0] for r in k.query(stored % "events")), sorted(note_ids))
        self.assertEqual(k.query("SELECT DISTINCT price::text, size::text FROM md_trade WHERE event_id = '%s'" % ids[7]),
                         [["187.07", "107"]])
        self.assertEqual(k.dead_letters(), [])
        # One token by certificate, the others by renewal; each recorded by the kernel.
        self.assertGreaterEqual(int(k.scalar("SELECT count(*) FROM producer_tokens WHERE producer_id = '%s'"
                                             % producer.producer_id)), 1 + producer.renewals)

        # Leaving: the producer is disabled.
        self.assertEqual(producer.deregister(), "deregistered")
        self.assertEqual(k.scalar("SELECT disabled_at IS NOT NULL FROM producers WHERE producer_id = '%s'"
                                  % producer.producer_id), "t")

    def test_given_certificate_then_a_restart_is_approved_at_once(self) -> None:
        k = kernel()
        key = k.path("given-producer")
        ssh_keygen("-t", "ed25519", "-N", "", "-C", "given", "-f", key)
        ssh_keygen("-s", k.path("producer_ca"), "-I", "given-feed-1", "-n", "producer", "-V", "-5m:+1h", key + ".pub")
        certificate = k.path("given-certificate.pub")
        os.rename(key + "-cert.pub", certificate)  # not where the package would look by itself

        onboarding = OnboardInBackground(key=key, certificate=certificate, name="given-feed")
        row = k.approve_when_pending("given-feed")
        first = onboarding.result()
        self.assertEqual(first.producer_id, row["producer_id"])
        first.close()

        # A restarted producer registers again: its approved key is answered at once.
        with Producer.onboard(k.redis_url, prefix=k.prefix, key=key, certificate=certificate, name="given-feed",
                              approval_timeout=30) as again:
            self.assertEqual(again.producer_id, row["producer_id"])
            self.assertEqual([r for r in k.pending() if r.get("name") == "given-feed"], [])
            quotes = again.register_subject("XNAS.MSFT.quote.given", "quote", QUOTE_SCHEMA)
            event_id = again.publish(quotes, {"venue": "XNAS", "symbol": "MSFT", "bid_price": "411.10",
                                              "bid_size": 200, "ask_price": "411.12", "ask_size": 300})
            self.assertTrue(wait_until(lambda: k.query(
                "SELECT producer_id, symbol, bid_price::text FROM md_quote WHERE event_id = '%s'" % event_id)
                == [[row["producer_id"], "MSFT", "411.10"]]), k.dead_letters()[:3])

    def test_a_certificate_from_another_ca_is_refused(self) -> None:
        k = kernel()
        key = k.path("stranger")
        ssh_keygen("-t", "ed25519", "-N", "", "-C", "stranger-ca", "-f", k.path("stranger_ca"))
        with self.assertRaises(RegistrationRefused) as refused:
            Producer.onboard(k.redis_url, prefix=k.prefix, key=key, ca=LocalSSHCA(k.path("stranger_ca")),
                             name="stranger-feed", approval_timeout=30)
        self.assertEqual(refused.exception.answer.get("status"), "invalid_cert")
        self.assertEqual(k.scalar("SELECT count(*) FROM producers WHERE name = 'stranger-feed'"), "0")


def program_in_the_docs() -> str:
    """The first python block of docs/producers.md, "The Python package"."""
    with open(os.path.join(REPO, "docs", "producers.md"), encoding="utf-8") as f:
        text = f.read()
    section = text.split("\n## The Python package\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"^```python\n(.*?)^```$", section, re.S | re.M)
    assert match is not None, 'no python block in docs/producers.md, "The Python package"'
    return match.group(1)


class DocsProgramTest(unittest.TestCase):
    def test_the_program_in_docs_producers_md_runs_as_written(self) -> None:
        k = kernel()
        program = program_in_the_docs()
        self.assertLessEqual(len(program.splitlines()), 30, "the docs promise at most 30 lines")
        # Its working directory holds what an operator's CA would: the CA's private key.
        workdir = k.path("docs-program")
        os.mkdir(workdir)
        shutil.copy(k.path("producer_ca"), os.path.join(workdir, "producer_ca"))
        with open(os.path.join(workdir, "program.py"), "w", encoding="utf-8") as f:
            f.write(program)
        env = dict(os.environ, REDIS_URL=k.redis_url, KEY_PREFIX=k.prefix,
                   PYTHONPATH=os.path.join(PACKAGE_ROOT, "src"))
        output = open(os.path.join(workdir, "output.txt"), "w+")
        self.addCleanup(output.close)
        process = subprocess.Popen([sys.executable, "program.py"], cwd=workdir, env=env, stdout=output,
                                   stderr=subprocess.STDOUT, text=True)
        self.addCleanup(process.kill)  # a no-op once it exited

        def text() -> str:
            output.seek(0)
            return output.read()

        row = k.approve_when_pending("acme-feed")
        self.assertTrue(wait_until(lambda: process.poll() is not None, timeout=120), text())
        self.assertEqual(process.returncode, 0, text())
        self.assertIn("published 100 trades as producer %s" % row["producer_id"], text())
        self.assertIn("registration sent (fingerprint %s" % row["fingerprint"][:16], text())
        self.assertEqual(Certificate.read(os.path.join(workdir, "producer-cert.pub")).fingerprint, row["fingerprint"])
        stored = "SELECT count(DISTINCT event_id) FROM md_trade WHERE producer_id = '%s'" % row["producer_id"]
        self.assertTrue(wait_until(lambda: k.scalar(stored) == "100"), "%s stored; %s" % (k.scalar(stored), k.dead_letters()[:3]))
        self.assertEqual(k.dead_letters(), [])


if __name__ == "__main__":
    unittest.main()
