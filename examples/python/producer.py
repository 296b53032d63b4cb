#!/usr/bin/env python3
"""Example Data Kernel producer (docs/producers.md) on the datakernel_producer package: register
an SSH-certified Ed25519 key, wait for an admin's approval, exchange the certificate for a token
(renewed in the background), register one subject per schema family and publish simulated market
data until --seconds pass or Ctrl-C.

    pip install ./examples/python        (or just: pip install redis cryptography)
    python3 producer.py --redis 127.0.0.1:6379 --prefix fdc: --key producer [--cert producer-cert.pub]
                        [--shards N] [--cluster]

With --shards N (the kernel's redis.shards) each event goes to the shard stream of its subject,
P+events:{shard_for(subject_id, N)}; with --cluster the --redis address is a seed node of a Redis
Cluster (the kernel's redis.cluster).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import signal
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

try:
    import datakernel_producer  # noqa: F401  (installed with pip)
except ImportError:  # run from the repository without installing: use the package next to this file
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))

from datakernel_producer import Producer, ProducerError, Stopped, Subject, rfc3339
from datakernel_producer.market import SCHEMAS


def log(message: str) -> None:
    print(message, flush=True)


def price(cents: int) -> str:
    return "%d.%02d" % divmod(cents, 100)  # exact decimal text; the plugins accept strings


def make_payload(family: str, venue: str, symbol: str, mid: int, seq: int, ns: int) -> Dict[str, Any]:
    ts = rfc3339(ns)
    base: Dict[str, Any] = {"venue": venue, "symbol": symbol, "exchange_ts": ts}
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
        low = 1 if snapshot else 0
        size: Callable[[], int] = lambda: random.randint(low, 30) * 10  # noqa: E731
        return dict(base, type="snapshot" if snapshot else "delta", sequence=seq,
                    bids=[[price(mid - 1 - i), size()] for i in range(depth)],
                    asks=[[price(mid + 1 + i), size()] for i in range(depth)])
    open_, close = mid + random.randint(-3, 3), mid
    return dict(base, interval="1s", start=rfc3339(ns - ns % 1_000_000_000), open=price(open_), close=price(close),
                high=price(max(open_, close) + random.randint(0, 3)), low=price(min(open_, close) - random.randint(0, 3)),
                volume=random.randint(100, 5000), trades=random.randint(1, 40))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
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
    families: List[str] = args.families.split(",")
    if not families or any(f not in SCHEMAS for f in families):
        parser.error("--families takes a comma-separated list of " + ",".join(SCHEMAS))
    if not 1 <= args.shards <= 1024:
        parser.error("--shards must be in 1..1024, like redis.shards")

    # The package reports its progress (registration sent, approved, token received, rate
    # limits) through logging; print those lines as they are.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    package_log = logging.getLogger("datakernel_producer")
    package_log.addHandler(handler)
    package_log.setLevel(logging.INFO)

    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())

    producer: Optional[Producer] = None
    try:
        producer = Producer.onboard("redis://" + args.redis, key=args.key, certificate=args.cert,
                                    name=args.name, contact=args.contact, meta={"example": "python"},
                                    prefix=args.prefix, shards=args.shards, cluster=args.cluster,
                                    renew_margin=args.renew_margin, stop=stopping)
        subjects: List[Tuple[str, Subject]] = []
        for family in families:
            subject = producer.register_subject("%s.%s.%s" % (args.venue, args.symbol, family), family, SCHEMAS[family],
                                                attrs={"venue": args.venue, "symbol": args.symbol})
            # All events of a subject go to one stream (its shard), which keeps them in order.
            subjects.append((family, subject))
            log("subject %s subject_id=%s" % (family, subject.subject_id)
                + (" shard=%d stream=%s" % (subject.shard, subject.stream) if args.shards > 1 else ""))
    except Stopped:
        log("stopped before publishing")
        if producer is not None:
            producer.close()
        return
    except ProducerError as e:  # a final refusal (denied, invalid_cert, invalid_sig), no token, …
        if producer is not None:
            producer.close()
        raise SystemExit("error: %s" % e)

    with producer:
        counts = dict.fromkeys(families, 0)
        published, mid = 0, 18725
        start = time.time()
        while not stopping.is_set() and (args.seconds is None or time.time() - start < args.seconds):
            now = time.time()
            due = start + published / args.rate  # pace by schedule so slow writes do not lower the rate
            if due > now:
                time.sleep(min(due - now, 0.1))
                continue
            family, subject = subjects[published % len(subjects)]
            mid = max(100, mid + random.randint(-2, 2))
            ns = time.time_ns()
            payload = make_payload(family, args.venue, args.symbol, mid, published // len(subjects) + 1, ns)
            producer.publish(subject, payload, tags={"core.symbol": args.symbol, "core.venue": args.venue})
            published += 1
            counts[family] += 1
        log("published=%d in %.1f s (%s) renewals=%d" % (published, time.time() - start,
                                                         " ".join("%s=%d" % kv for kv in counts.items()),
                                                         producer.renewals))


if __name__ == "__main__":
    main()
