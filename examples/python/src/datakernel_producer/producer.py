"""The producer: onboarding over the control streams, token renewal, subjects and publishing
(docs/onboarding.md; docs/producers.md, "The flow, step by step")."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Iterator, Mapping, Optional, Sequence, Type, Union

import redis
import redis.cluster

from .ca import CertificateAuthority, CertificateRequest
from .errors import (
    ApprovalTimeout,
    NoTokenIssued,
    ProducerError,
    RegistrationRefused,
    Stopped,
    SubjectRefused,
)
from .events import parse_rfc3339, rfc3339, uuid7
from .identity import Certificate, ProducerKey, signed_request
from .shard import shard_for, stream_key

__all__ = ["Producer", "Subject", "connect"]

log = logging.getLogger("datakernel_producer")

def connect(redis_url: str, cluster: bool = False) -> Any:
    """A redis-py client for `redis_url` (``redis://host:port[/db]``, ``rediss://`` for TLS) that
    decodes replies to str. With `cluster` the URL names any node of a Redis Cluster: the client
    discovers the masters and follows MOVED/ASK, for control streams and event shards alike."""
    if cluster:
        return redis.cluster.RedisCluster.from_url(redis_url, decode_responses=True)
    return redis.Redis.from_url(redis_url, decode_responses=True)


@dataclass(frozen=True)
class Subject:
    """A registered subject: what `publish` needs to address its events."""

    key: str
    subject_id: str
    schema_name: str
    schema_version: int
    #: the shard of the subject (0 with one shard) and the stream its events go to
    shard: int
    stream: str


class Producer:
    """An onboarded producer. Make one with `Producer.onboard`; it keeps a valid token (renewed
    by a background thread) until `close()`. `publish` may be called from several threads."""

    #: seconds to wait for an answer to a token or subject request before asking again
    answer_timeout = 5.0
    #: seconds before a registration is sent again while waiting for approval (the answer stream
    #: expires auth.registration_response_ttl_seconds, 300 s by default, after its last write)
    reregister_seconds = 240.0
    #: seconds to wait after a `rate_limited` answer (the default bucket refills one every 6 s)
    rate_limit_wait = 7.0

    def __init__(self, client: Any, key: ProducerKey, certificate: Certificate, *, prefix: str = "fdc:",
                 shards: int = 1, renew_margin: float = 300.0, stop: Optional[threading.Event] = None) -> None:
        if certificate.fingerprint != key.fingerprint:
            raise ProducerError("the certificate is for another key (fingerprint %s…, the key's is %s…)"
                                % (certificate.fingerprint[:16], key.fingerprint[:16]))
        if not 1 <= shards <= 1024:
            raise ValueError("shards must be in 1..1024, like the kernel's redis.shards")
        self.redis = client
        self.key = key
        self.certificate = certificate
        self.prefix = prefix
        self.shards = shards
        self.renew_margin = renew_margin
        self.producer_id: str = ""
        #: how many times the token was renewed (by token) since onboarding
        self.renewals = 0
        self._stop = stop or threading.Event()
        self._renewal_stopped = threading.Event()
        self._lock = threading.Lock()
        self._token = ""
        self._expires_at = 0.0
        self._received_at = 0.0
        self._renewer: Optional[threading.Thread] = None

    @property
    def fingerprint(self) -> str:
        return self.key.fingerprint

    # ---- onboarding ---------------------------------------------------------------------------

    @classmethod
    def onboard(cls, redis_url: str, *, key: str, certificate: Optional[str] = None,
                ca: Optional[CertificateAuthority] = None, name: Optional[str] = None,
                contact: Optional[str] = None, meta: Optional[Mapping[str, str]] = None,
                prefix: str = "fdc:", shards: int = 1, cluster: bool = False,
                principals: Sequence[str] = ("producer",), approval_timeout: Optional[float] = None,
                renew_margin: float = 300.0, stop: Optional[threading.Event] = None) -> "Producer":
        """Everything between a key file and publishing, in order:

        1. the key at `key` (OpenSSH Ed25519), made when missing and `ca` is given;
        2. its certificate: `certificate` (a path or the certificate line), else ``<key>-cert.pub``
           while it certifies the key and is valid for 5 more minutes, else a new one from `ca`
           (written to ``<key>-cert.pub``);
        3. registration (`name` becomes the producer's name, `contact`/`meta` its description),
           then waiting, re-registering every 240 s, until an admin approves the key
           (`ApprovalTimeout` after `approval_timeout` seconds; for ever when None);
        4. the certificate exchanged for a token, renewed by token from then on when fewer than
           `renew_margin` seconds are left (half the lifetime for shorter tokens).

        `prefix` and `shards` are the kernel's ``redis.key_prefix`` and ``redis.shards``.
        Setting `stop` ends a wait with `Stopped`.
        """
        client = connect(redis_url, cluster)
        try:
            producer_key = _key(key, ca is not None, name)
            cert = _certificate(producer_key, key, certificate, ca, name, principals)
            producer = cls(client, producer_key, cert, prefix=prefix, shards=shards,
                           renew_margin=renew_margin, stop=stop)
            producer.register(name=name, contact=contact, meta=meta, approval_timeout=approval_timeout)
            producer.exchange_token()
            producer.start_renewal()
            return producer
        except BaseException:
            client.close()
            raise

    def register(self, *, name: Optional[str] = None, contact: Optional[str] = None,
                 meta: Optional[Mapping[str, str]] = None, approval_timeout: Optional[float] = None) -> str:
        """Registers the key and waits for an admin to approve it (docs/onboarding.md,
        "Registration"); returns and remembers the producer id. An approved key is answered at
        once, so a restarted producer simply registers again."""
        payload: dict[str, object] = {}
        if name is not None:
            payload["producer_hint"] = name
        if contact is not None:
            payload["contact"] = contact
        if meta:
            payload["meta"] = dict(meta)
        deadline = None if approval_timeout is None else time.monotonic() + approval_timeout
        while True:
            fields, nonce = signed_request(self.key, self.certificate, payload)
            self.redis.xadd(self.prefix + "register", fields)
            log.info("registration sent (fingerprint %s…, nonce %s); waiting for approval", self.fingerprint[:16], nonce)
            wait = self.reregister_seconds if deadline is None else min(self.reregister_seconds, deadline - time.monotonic())
            for answer in self._answers(self.prefix + "register:resp:" + nonce, "0-0", wait):
                status = answer.get("status")
                if status == "approved":
                    self.producer_id = answer["producer_id"]
                    log.info("approved producer_id=%s", self.producer_id)
                    return self.producer_id
                if status == "rate_limited":
                    log.info("registration rate limited; retrying in 10 s")
                    self._sleep(10)
                    break
                if status == "replay":
                    break  # only on a reused nonce; a fresh one fixes it
                raise RegistrationRefused("registration refused: status %s, reason %s"
                                          % (status, answer.get("reason")), answer)
            if deadline is not None and time.monotonic() >= deadline:
                raise ApprovalTimeout("no approval within %g s (fingerprint %s)" % (approval_timeout or 0, self.fingerprint))

    def exchange_token(self, attempts: int = 6) -> None:
        """Certificate → token (docs/onboarding.md, "Token exchange"). Refusals are silent, so
        each attempt waits `answer_timeout` for an answer and then 5 s more."""
        stream = self._token_stream()
        for attempt in range(attempts):
            after = self._last_id(stream)
            self.redis.xadd(self.prefix + "token:exchange", signed_request(self.key, self.certificate, {})[0])
            for answer in self._answers(stream, after, self.answer_timeout):
                # Other instances of this producer share the stream: take the answer for this key.
                if "token" in answer and answer.get("fingerprint") == self.fingerprint:
                    self._set_token(answer)
                    log.info("token received, expires at %d", int(self._expires_at))
                    return
            if attempt + 1 < attempts:
                self._sleep(5)
        raise NoTokenIssued("no token issued (key not approved, producer disabled or rate limited)")

    def renew_token(self) -> bool:
        """Token → token; True when a new token arrived within `answer_timeout`."""
        stream = self._token_stream()
        after = self._last_id(stream)
        with self._lock:
            token = self._token
        self.redis.xadd(self.prefix + "token:exchange", {"token": token})
        for answer in self._answers(stream, after, self.answer_timeout):
            # A renewal answer has no fingerprint; an exchange answer (with one) is another request's.
            if "token" in answer and "fingerprint" not in answer:
                self._set_token(answer)
                with self._lock:
                    self.renewals += 1
                log.info("token renewed, expires at %d", int(self._expires_at))
                return True
        return False

    def start_renewal(self) -> None:
        """Starts the background thread that keeps the token valid (idempotent)."""
        if self._renewer is None:
            self._renewer = threading.Thread(target=self._renew_loop, name="datakernel-token-renewal", daemon=True)
            self._renewer.start()

    def deregister(self) -> str:
        """Disables the producer for good (docs/onboarding.md, "Deregistration"); returns the
        kernel's status (`deregistered`, or `denied`)."""
        while True:
            fields, nonce = signed_request(self.key, self.certificate, {})
            fields["action"] = "deregister"
            self.redis.xadd(self.prefix + "register", fields)
            for answer in self._answers(self.prefix + "register:resp:" + nonce, "0-0", self.answer_timeout * 2):
                if answer.get("status") == "rate_limited":
                    self._sleep(10)
                    break
                if answer.get("status") == "replay":
                    break
                if answer.get("status") == "deregistered":
                    self._stop_renewal()  # a disabled producer's renewals are refused
                return answer.get("status", "")
            else:
                raise ProducerError("deregistration: no answer")

    # ---- subjects and events --------------------------------------------------------------------

    def register_subject(self, subject_key: str, schema_name: str, schema_body: Mapping[str, Any],
                         attrs: Optional[Mapping[str, Any]] = None, attempts: int = 10) -> Subject:
        """Registers (or re-binds) a subject with its schema family (docs/onboarding.md,
        "Subjects"). A family served by a plugin needs the plugin's schema
        (`datakernel_producer.market` has the example plugins')."""
        stream = self.prefix + "subject:resp:" + self.producer_id
        payload = {"op": "register", "subject_key": subject_key, "schema_name": schema_name,
                   "schema_body": dict(schema_body), "attrs": dict(attrs or {})}
        for _ in range(attempts):
            after = self._last_id(stream)
            self.redis.xadd(self.prefix + "subject:register", signed_request(self.key, self.certificate, payload)[0])
            answer = next(iter(self._answers(stream, after, self.answer_timeout)), None)
            if answer is None or answer.get("error") == "replay":
                continue
            if answer.get("status") == "ok":
                subject_id = answer["subject_id"]
                shard = shard_for(subject_id, self.shards)
                return Subject(key=subject_key, subject_id=subject_id, schema_name=answer.get("schema_name", schema_name),
                               schema_version=int(answer.get("schema_version", "0")), shard=shard,
                               stream=stream_key(self.prefix + "events", shard, self.shards))
            if answer.get("error") == "rate_limited":
                log.info("subject registration rate limited; retrying in %g s", self.rate_limit_wait)
                self._sleep(self.rate_limit_wait)
                continue
            raise SubjectRefused("subject %s refused: %s" % (subject_key, answer), answer)
        raise SubjectRefused("subject %s: no answer after %d attempts" % (subject_key, attempts))

    def publish(self, subject: Union[Subject, str], payload: Mapping[str, Any], *, ts: Optional[str] = None,
                event_id: Optional[str] = None, tags: Optional[Mapping[str, str]] = None,
                maxlen: Optional[int] = 1_000_000) -> str:
        """Publishes one event of `subject` (a `Subject`, or a subject id) and returns its
        event id. `ts` defaults to now, `event_id` to a new UUIDv7; publishing the same event id
        again with the same content stores it once (docs/producers.md, "Event identity").
        Nothing is answered: refused events go to the DLQ (docs/producers.md, "What the kernel refuses")."""
        if isinstance(subject, Subject):
            subject_id, stream = subject.subject_id, subject.stream
        else:
            subject_id = subject
            stream = stream_key(self.prefix + "events", shard_for(subject_id, self.shards), self.shards)
        ns = time.time_ns()
        event: dict[str, Any] = {"event_id": event_id or uuid7(ns), "ts": ts or rfc3339(ns),
                                 "subject_id": subject_id, "payload": dict(payload)}
        if tags:
            event["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        self.redis.xadd(stream, {"payload": json.dumps(event, separators=(",", ":")), "token": self.token},
                        maxlen=maxlen, approximate=True)
        return str(event["event_id"])

    @property
    def token(self) -> str:
        """The current token (secret: never log it). Raises when it expired because renewal and
        re-exchange kept failing: publishing with it would only fill the DLQ."""
        with self._lock:
            token, expires_at = self._token, self._expires_at
        if not token:
            raise ProducerError("no token yet: onboard() or exchange_token() first")
        if time.time() >= expires_at:
            raise NoTokenIssued("the token expired and could not be renewed (see the log)")
        return token

    @property
    def token_expires_at(self) -> float:
        with self._lock:
            return self._expires_at

    # ---- lifetime -------------------------------------------------------------------------------

    def close(self) -> None:
        """Stops the renewal thread and closes the Redis client."""
        self._stop_renewal()
        self.redis.close()

    def __enter__(self) -> "Producer":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.close()

    # ---- internals ------------------------------------------------------------------------------

    def _stop_renewal(self) -> None:
        self._renewal_stopped.set()
        if self._renewer is not None and self._renewer is not threading.current_thread():
            self._renewer.join()

    def _token_stream(self) -> str:
        if not self.producer_id:
            raise ProducerError("not registered: register() first")
        return self.prefix + "token:resp:" + self.producer_id

    def _set_token(self, answer: Mapping[str, str]) -> None:
        with self._lock:
            self._token = answer["token"]
            self._expires_at = parse_rfc3339(answer["exp"])
            self._received_at = time.time()

    def _renew_loop(self) -> None:
        while not self._renewal_stopped.is_set():
            with self._lock:
                expires_at, lifetime = self._expires_at, self._expires_at - self._received_at
            # A margin as long as the token's life would renew at once, for ever: shorter tokens
            # are renewed half-way through.
            margin = self.renew_margin if self.renew_margin < lifetime else lifetime / 2
            if self._renewal_stopped.wait(max(0.0, expires_at - margin - time.time())):
                return
            try:
                if self.renew_token():
                    continue
                if time.time() >= expires_at:
                    # Renewal needs a valid token; after expiry only the certificate helps.
                    self.exchange_token(attempts=1)
                    continue
            except NoTokenIssued:
                log.warning("token exchange unanswered; retrying")
            except Exception as e:  # the thread must survive a Redis outage
                log.warning("token renewal failed: %s", e)
            remaining = expires_at - time.time()
            self._renewal_stopped.wait(min(30.0, max(1.0, remaining / 4)))

    def _last_id(self, stream: str) -> str:
        # Note the newest answer before asking: XREAD … $ after the XADD could miss a fast one.
        last = self.redis.xrevrange(stream, "+", "-", count=1)
        return str(last[0][0]) if last else "0-0"

    def _answers(self, stream: str, after: str, seconds: float) -> Iterator[dict[str, str]]:
        """The entries of `stream` after `after` as they arrive, for up to `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self._stop.is_set():
                raise Stopped("stopped")
            if self._renewal_stopped.is_set() and threading.current_thread() is self._renewer:
                return  # close() is waiting for the renewal thread
            block = int(max(1, min(1000, (deadline - time.monotonic()) * 1000)))
            try:
                reply = self.redis.xread({stream: after}, count=10, block=block)
            except redis.exceptions.ResponseError as e:
                # A Redis Cluster failover or slot move wakes a blocked read with UNBLOCKED:
                # nothing arrived yet; read again.
                if str(e).startswith("UNBLOCKED"):
                    continue
                raise
            for _, entries in reply or []:
                for entry_id, fields in entries:
                    after = entry_id
                    yield dict(fields)

    def _sleep(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise Stopped("stopped")


def _key(path: str, may_generate: bool, name: Optional[str]) -> ProducerKey:
    if os.path.exists(path):
        return ProducerKey.load(path)
    if not may_generate:
        raise ProducerError("no key at %s: make one (ssh-keygen -t ed25519 -N '' -f %s) or pass ca= to have "
                            "one made and certified" % (path, path))
    produced = ProducerKey.generate(path, comment=name or "datakernel-producer")
    log.info("new key %s (fingerprint %s…)", path, produced.fingerprint[:16])
    return produced


def _certificate(key: ProducerKey, key_path: str, given: Optional[str], ca: Optional[CertificateAuthority],
                 name: Optional[str], principals: Sequence[str]) -> Certificate:
    if given is not None:
        # The certificate line itself, or the path of a file holding it.
        cert = Certificate.parse(given) if given.lstrip().startswith("ssh-") else Certificate.read(given)
    else:
        path = key_path + "-cert.pub"
        existing = Certificate.read(path) if os.path.exists(path) else None
        if existing is not None and (ca is None or existing.usable_for(key)):
            return existing
        if ca is None:
            raise ProducerError("no certificate at %s: have the producer CA sign %s.pub, or pass ca= or certificate="
                                % (path, key_path))
        request = CertificateRequest(public_key=key.public_line(), key_id=name or "producer-" + key.fingerprint[:12],
                                     principals=tuple(principals), fingerprint=key.fingerprint)
        cert = Certificate.parse(ca(request))
        if cert.fingerprint == key.fingerprint:
            tmp = path + ".tmp"
            with open(tmp, "w", encoding="ascii") as f:
                f.write(cert.line + "\n")
            os.replace(tmp, path)
            log.info("certificate from the CA written to %s (valid until %d)", path, cert.valid_before)
    if cert.fingerprint != key.fingerprint:
        raise ProducerError("the certificate certifies another key (fingerprint %s…, the key's is %s…)"
                            % (cert.fingerprint[:16], key.fingerprint[:16]))
    return cert
