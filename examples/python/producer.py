#!/usr/bin/env python3
"""Example Data Kernel producer (docs/producers.md): register an SSH-certified Ed25519 key, wait
for an admin's approval, exchange the certificate for a token, register one subject per schema
family and publish simulated market data until --seconds pass or Ctrl-C.

    pip install redis cryptography
    python3 producer.py --redis 127.0.0.1:6379 --prefix fdc: --key producer [--cert producer-cert.pub]
                        [--shards N] [--cluster]

Every control request is an XADD of {pubkey, payload, nonce, sig} where sig is standard base64 of
pure Ed25519 over canonical(payload) + "." + nonce (docs/protocol.md); answers arrive on response streams.

With --shards N (the kernel's redis.shards) each event goes to the shard stream of its subject,
P+events:{shard_for(subject_id, N)}; with --cluster the --redis address is a seed node of a Redis
Cluster (the kernel's redis.cluster).
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import random
import signal
import struct
import sys
import time

import redis
import redis.cluster
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_ssh_private_key

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from canonical import canonical  # noqa: E402
from shard import shard_for, stream_key  # noqa: E402

# The example plugins' payload schemas (Plugins/Trade, Quote, Book, Bar): a subject's schema body
# must agree with the plugin of its family (docs/plugins.md).
NUM = {"type": ["number", "string"]}
NUM_OR_NULL = {"type": ["number", "string", "null"]}
STR = {"type": "string"}
LEVELS = {"type": "array", "items": {"type": "array", "items": NUM}}
SCHEMAS = {
    "trade": {"type": "object", "required": ["venue", "symbol", "price", "size"], "properties": {
        "venue": STR, "symbol": STR, "price": NUM, "size": NUM,
        "side": {"type": "string", "enum": ["buy", "sell", "unknown"]}, "trade_id": STR, "exchange_ts": STR}},
    "quote": {"type": "object", "required": ["venue", "symbol"], "properties": {
        "venue": STR, "symbol": STR, "bid_price": NUM_OR_NULL, "bid_size": NUM_OR_NULL,
        "ask_price": NUM_OR_NULL, "ask_size": NUM_OR_NULL, "exchange_ts": {"type": ["string", "null"]}}},
    "book": {"type": "object", "required": ["venue", "symbol", "type", "bids", "asks"], "properties": {
        "venue": STR, "symbol": STR, "type": {"type": "string", "enum": ["snapshot", "delta"]},
        "sequence": {"type": "integer"}, "bids": LEVELS, "asks": LEVELS, "exchange_ts": STR}},
    "bar": {"type": "object", "required": ["venue", "symbol", "interval", "start", "open", "high", "low", "close", "volume"],
            "properties": {"venue": STR, "symbol": STR, "interval": STR, "start": STR, "open": NUM, "high": NUM,
                           "low": NUM, "close": NUM, "volume": NUM, "trades": {"type": "integer"}, "vwap": NUM,
                           "exchange_ts": STR}},
}

stopping = False


def log(message):
    print(message, flush=True)


def rfc3339(ns):
    """RFC 3339 UTC with nanoseconds, e.g. 2026-11-25T14:30:00.123456789Z."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + ".%09dZ" % nanos


def parse_rfc3339(text):
    return datetime.datetime.fromisoformat(text[:19]).replace(tzinfo=datetime.timezone.utc).timestamp()


def uuid7(ns):
    """UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version 7, random bits, variant 10."""
    value = (ns // 1_000_000) << 80 | 0x7 << 76 | random.getrandbits(12) << 64 | 0b10 << 62 | random.getrandbits(62)
    h = "%032x" % value
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def price(cents):
    return "%d.%02d" % divmod(cents, 100)  # exact decimal text; the plugins accept strings


class Producer:
    def __init__(self, args):
        if args.cluster:
            # --redis is a seed: the client discovers the masters (CLUSTER SLOTS), routes each
            # command by its key's hash slot and follows MOVED/ASK, for control and event streams.
            self.r = redis.cluster.RedisCluster.from_url("redis://" + args.redis, decode_responses=True)
        else:
            self.r = redis.Redis.from_url("redis://" + args.redis, decode_responses=True)
        self.p = args.prefix
        with open(args.key, "rb") as f:
            self.key = load_ssh_private_key(f.read(), password=None)
        with open(args.cert or args.key + "-cert.pub") as f:
            self.cert = f.read().strip()
        # The key's identity as the kernel computes it: SHA3-512 of the SSH wire encoding of the
        # public key (string "ssh-ed25519", string <32 bytes>), standard base64.
        raw = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        wire = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + raw
        self.fingerprint = base64.b64encode(hashlib.sha3_512(wire).digest()).decode()

    def signed(self, payload):
        """The four fields of a signed request; the payload is sent in its canonical form."""
        text = canonical(json.dumps(payload).encode()).decode()
        nonce = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
        sig = base64.b64encode(self.key.sign((text + "." + nonce).encode())).decode()
        return {"pubkey": self.cert, "payload": text, "nonce": nonce, "sig": sig}, nonce

    def last_id(self, stream):
        # Note the newest answer before asking: XREAD ... $ after the XADD could miss a fast one.
        last = self.r.xrevrange(stream, "+", "-", count=1)
        return last[0][0] if last else "0-0"

    def await_entries(self, stream, after, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline and not stopping:
            try:
                reply = self.r.xread({stream: after}, count=10, block=1000)
            except redis.exceptions.ResponseError as e:
                # A Redis Cluster failover or slot move wakes a blocked read with UNBLOCKED:
                # nothing arrived yet; read again.
                if str(e).startswith("UNBLOCKED"):
                    continue
                raise
            for _, entries in reply:
                for entry_id, fields in entries:
                    after = entry_id
                    yield fields

    def register(self, hint, contact):
        """Registers the key and waits for an admin to approve it; returns the producer id."""
        payload = {"producer_hint": hint, "contact": contact, "meta": {"example": "python"}}
        while not stopping:
            fields, nonce = self.signed(payload)
            self.r.xadd(self.p + "register", fields)
            log("registration sent (fingerprint %s…, nonce %s); waiting for approval" % (self.fingerprint[:16], nonce))
            # Re-ask before the response stream's 300 s TTL; an approved key is answered at once.
            for answer in self.await_entries(self.p + "register:resp:" + nonce, "0-0", 240):
                status = answer.get("status")
                if status == "approved":
                    return answer["producer_id"]
                if status == "rate_limited":
                    log("registration rate limited; retrying in 10 s")
                    time.sleep(10)
                    break
                if status == "replay":
                    break  # only on a reused nonce; a fresh one fixes it
                # denied, invalid_cert, invalid_sig: final
                raise SystemExit("error: registration refused: status %s, reason %s" % (status, answer.get("reason")))
        raise KeyboardInterrupt

    def exchange(self, producer_id):
        """Certificate → token. Refusals are silent: no answer within 5 s means retry later."""
        stream = self.p + "token:resp:" + producer_id
        for _ in range(6):
            after = self.last_id(stream)
            self.r.xadd(self.p + "token:exchange", self.signed({})[0])
            for answer in self.await_entries(stream, after, 5):
                # Other instances of this producer share the stream: take the answer for this key.
                if "token" in answer and answer.get("fingerprint") == self.fingerprint:
                    return answer["token"], parse_rfc3339(answer["exp"])
            if stopping:
                raise KeyboardInterrupt
            time.sleep(5)
        raise SystemExit("no token issued (key not approved, producer disabled or rate limited)")

    def renew(self, producer_id, token):
        stream = self.p + "token:resp:" + producer_id
        after = self.last_id(stream)
        self.r.xadd(self.p + "token:exchange", {"token": token})
        for answer in self.await_entries(stream, after, 5):
            if "token" in answer and "fingerprint" not in answer:
                return answer["token"], parse_rfc3339(answer["exp"])
        return None

    def register_subject(self, producer_id, key, family, attrs):
        stream = self.p + "subject:resp:" + producer_id
        payload = {"op": "register", "subject_key": key, "schema_name": family,
                   "schema_body": SCHEMAS[family], "attrs": attrs}
        for _ in range(10):
            after = self.last_id(stream)
            self.r.xadd(self.p + "subject:register", self.signed(payload)[0])
            answer = next(self.await_entries(stream, after, 5), None)
            if answer is None or answer.get("error") == "replay":
                continue
            if answer.get("status") == "ok":
                return answer["subject_id"]
            if answer.get("error") == "rate_limited":
                log("subject registration rate limited; retrying in 7 s")
                time.sleep(7)
                continue
            raise SystemExit("subject %s refused: %s" % (key, answer))
        raise SystemExit("subject %s: no answer" % key)


def make_payload(family, venue, symbol, mid, seq, ns):
    ts = rfc3339(ns)
    base = {"venue": venue, "symbol": symbol, "exchange_ts": ts}
    if family == "trade":
        side = random.choice(["buy", "sell"])
        return dict(base, price=price(mid + (1 if side == "buy" else -1)), size=random.randint(1, 50) * 10,
                    side=side, trade_id="T-%d" % seq)
    if family == "quote":
        return dict(base, bid_price=price(mid - 1), bid_size=random.randint(1, 20) * 100,
                    ask_price=price(mid + 1), ask_size=random.randint(1, 20) * 100)
    if family == "book":
        snapshot = seq % 100 == 1  # a full book now and then, deltas in between
        depth = 5 if snapshot else 1
        size = (lambda: random.randint(1, 30) * 10) if snapshot else (lambda: random.randint(0, 30) * 10)
        return dict(base, type="snapshot" if snapshot else "delta", sequence=seq,
                    bids=[[price(mid - 1 - i), size()] for i in range(depth)],
                    asks=[[price(mid + 1 + i), size()] for i in range(depth)])
    open_, close = mid + random.randint(-3, 3), mid
    return dict(base, interval="1s", start=rfc3339(ns - ns % 1_000_000_000), open=price(open_), close=price(close),
                high=price(max(open_, close) + random.randint(0, 3)), low=price(min(open_, close) - random.randint(0, 3)),
                volume=random.randint(100, 5000), trades=random.randint(1, 40))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis", default="127.0.0.1:6379")
    parser.add_argument("--prefix", default="fdc:")
    parser.add_argument("--cluster", action="store_true", help="--redis is a seed node of a Redis Cluster")
    parser.add_argument("--shards", type=int, default=1,
                        help="the kernel's redis.shards: events go to the shard stream of their subject")
    parser.add_argument("--key", required=True, help="OpenSSH Ed25519 private key (unencrypted)")
    parser.add_argument("--cert", help="certificate signed by the producer CA (default: KEY-cert.pub)")
    parser.add_argument("--name", default="example-producer-py")
    parser.add_argument("--contact", default="ops@example.test")
    parser.add_argument("--rate", type=float, default=100.0, help="events per second")
    parser.add_argument("--seconds", type=float, help="stop after this long (default: until Ctrl-C)")
    parser.add_argument("--families", default="trade,quote,book,bar")
    parser.add_argument("--venue", default="XNAS")
    parser.add_argument("--symbol", default="AAPL")
    parser.add_argument("--renew-margin", type=int, default=300, help="renew when fewer seconds are left")
    args = parser.parse_args()
    families = args.families.split(",")
    if not families or any(f not in SCHEMAS for f in families):
        parser.error("--families takes a comma-separated list of " + ",".join(SCHEMAS))
    if not 1 <= args.shards <= 1024:
        parser.error("--shards must be in 1..1024, like redis.shards")

    def stop(*_):
        global stopping
        stopping = True
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    producer = Producer(args)
    try:
        producer_id = producer.register(args.name, args.contact)
        log("approved producer_id=%s" % producer_id)
        token, exp = producer.exchange(producer_id)
        log("token received, expires at %d" % exp)
        subjects = []
        for family in families:
            key = "%s.%s.%s" % (args.venue, args.symbol, family)
            subject_id = producer.register_subject(producer_id, key, family, {"venue": args.venue, "symbol": args.symbol})
            # All events of a subject go to one stream (its shard), which keeps them in order.
            shard = shard_for(subject_id, args.shards)
            stream = stream_key(producer.p + "events", shard, args.shards)
            subjects.append((family, subject_id, stream))
            log("subject %s subject_id=%s" % (family, subject_id)
                + (" shard=%d stream=%s" % (shard, stream) if args.shards > 1 else ""))
    except KeyboardInterrupt:
        log("stopped before publishing")
        return

    counts = dict.fromkeys(families, 0)
    published, renewals, next_renewal, mid = 0, 0, 0, 18725
    start = time.time()
    while not stopping and (args.seconds is None or time.time() - start < args.seconds):
        now = time.time()
        if exp - now < args.renew_margin and now >= next_renewal:
            renewed = producer.renew(producer_id, token)
            if renewed:
                (token, exp), renewals = renewed, renewals + 1
            elif exp <= now:
                token, exp = producer.exchange(producer_id)
            next_renewal = now + 30
        due = start + published / args.rate  # pace by schedule so slow writes do not lower the rate
        if due > now:
            time.sleep(min(due - now, 0.1))
            continue
        family, subject_id, stream = subjects[published % len(subjects)]
        mid = max(100, mid + random.randint(-2, 2))
        ns = time.time_ns()
        event = {"event_id": uuid7(ns), "ts": rfc3339(ns), "subject_id": subject_id,
                 "payload": make_payload(family, args.venue, args.symbol, mid, published // len(subjects) + 1, ns),
                 "tags": [{"key": "core.symbol", "value": args.symbol}, {"key": "core.venue", "value": args.venue}]}
        producer.r.xadd(stream, {"payload": json.dumps(event, separators=(",", ":")), "token": token},
                        maxlen=1_000_000, approximate=True)
        published += 1
        counts[family] += 1
    log("published=%d in %.1f s (%s) renewals=%d" % (published, time.time() - start,
                                                     " ".join("%s=%d" % kv for kv in counts.items()), renewals))


if __name__ == "__main__":
    main()
