"""A real kernel for the package's tests: the `kernel` binary (DK_KERNEL_BIN, default
.build/debug/kernel of the repository) started as its own process against the test Redis and
Postgres (KERNEL_REDIS_ADDR, KERNEL_PG_DSN, as `make test` sets them from .run/env), with a fresh
database, a fresh Redis key prefix, CAs and an issuer key made by ssh-keygen, the example plugins
(DK_TEST_PLUGINS_DIR, default .build/test-plugins), and an admin who approves keys with the
`kernel admin` command line, as an operator would (docs/admin.md, "The kernel admin CLI").
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Callable, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(PACKAGE_ROOT))
# The package from this source tree (tests/test_packaging.py checks the installed form).
sys.path.insert(0, os.path.join(PACKAGE_ROOT, "src"))

import redis  # noqa: E402

KERNEL_BIN = os.environ.get("DK_KERNEL_BIN") or os.path.join(REPO, ".build", "debug", "kernel")
PLUGINS_DIR = os.environ.get("DK_TEST_PLUGINS_DIR") or os.path.join(REPO, ".build", "test-plugins")
PG_DSN = os.environ.get("KERNEL_PG_DSN") or "postgres://kernel@127.0.0.1:15432/kernel?sslmode=disable"
REDIS_ADDR = os.environ.get("KERNEL_REDIS_ADDR") or "127.0.0.1:16379"
#: the token lifetime of the test kernel: short, so renewals happen within the test
TOKEN_TTL_SECONDS = 6


def wait_until(condition: Callable[[], bool], timeout: float = 60.0, interval: float = 0.2) -> bool:
    """Polls `condition` until it holds or `timeout` passes; returns its last value. The timeout
    only bounds a hung test: nothing is asserted about how long it took."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def run(args: List[str], cwd: Optional[str] = None) -> str:
    done = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        raise AssertionError("%s exited %d:\n%s" % (" ".join(args), done.returncode, done.stdout))
    return done.stdout


def ssh_keygen(*args: str) -> None:
    run(["ssh-keygen", "-q"] + list(args))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class KernelWorld:
    """One kernel process and everything it needs; `stop()` removes it all."""

    def __init__(self) -> None:
        if not os.access(KERNEL_BIN, os.X_OK):
            raise AssertionError("no kernel binary at %s: run `swift build --product kernel` (or set DK_KERNEL_BIN)"
                                 % KERNEL_BIN)
        self.id = uuid.uuid4().hex[:12]
        self.dir = tempfile.mkdtemp(prefix="dk-py-")
        self.prefix = "py%s:" % self.id
        self.redis_url = "redis://" + REDIS_ADDR
        self.redis = redis.Redis.from_url(self.redis_url, decode_responses=True)
        self.database = "dk_py_" + self.id
        parts = urllib.parse.urlsplit(PG_DSN)
        self.dsn = urllib.parse.urlunsplit(parts._replace(path="/" + self.database))
        self.admin_port = free_port()
        self.admin_url = "http://127.0.0.1:%d" % self.admin_port
        self.process: Optional[subprocess.Popen[bytes]] = None
        self._psql(PG_DSN, "CREATE DATABASE " + self.database)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    # ---- set-up ---------------------------------------------------------------------------------

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def _start(self) -> None:
        ssh_keygen("-t", "ed25519", "-N", "", "-C", "producer-ca", "-f", self.path("producer_ca"))
        ssh_keygen("-t", "ed25519", "-N", "", "-C", "admin-ca", "-f", self.path("admin_ca"))
        ssh_keygen("-t", "ed25519", "-N", "", "-C", "issuer", "-f", self.path("issuer"))
        ssh_keygen("-t", "ed25519", "-N", "", "-C", "admin", "-f", self.path("admin"))
        ssh_keygen("-s", self.path("admin_ca"), "-I", "test-admin", "-n", "admin", "-V", "-5m:+1d", self.path("admin.pub"))
        config = f"""
server:
  listen: "127.0.0.1:{self.admin_port}"
postgres:
  dsn: "{self.dsn}"
  apply_migrations: true
  migrations_dir: "{REPO}/migrations"
  batch_max_wait_ms: 50
redis:
  addr: "{REDIS_ADDR}"
  key_prefix: "{self.prefix}"
  stream: "events"
  consumer_name: "kernel-py-test"
  block_ms: 200
logging:
  level: debug
  output: "{self.path('kernel.log')}"
auth:
  issuer: "py-issuer"
  audience: "py-audience"
  key_id: "py-1"
  private_key_file: "{self.path('issuer')}"
  producer_ssh_ca: "{self.path('producer_ca.pub')}"
  admin_ssh_ca: "{self.path('admin_ca.pub')}"
  token_ttl_seconds: {TOKEN_TTL_SECONDS}
  # No tolerance past a token's exp: an event published with a token that was not renewed in
  # time is refused, so stored events prove the renewals worked.
  skew_seconds: 0
  registration_rate_limit_rpm: 600
  registration_rate_limit_burst: 20
plugins:
  dir: "{PLUGINS_DIR}"
spill:
  dir: "{self.path('spill')}"
"""
        with open(self.path("kernel.yaml"), "w") as f:
            f.write(config)
        # These variables override the config's postgres.dsn and redis.addr (docs/infrastructure.md):
        # the kernel must use the test database, not the one `make test`'s environment names.
        env = {k: v for k, v in os.environ.items()
               if k not in ("KERNEL_PG_DSN", "KERNEL_PG_DSN_FILE", "KERNEL_REDIS_ADDR", "KERNEL_REDIS_PASSWORD")}
        with open(self.path("kernel.out"), "wb") as out:
            self.process = subprocess.Popen([KERNEL_BIN, "run", "--config", self.path("kernel.yaml")],
                                            stdout=out, stderr=subprocess.STDOUT, env=env)
        if not wait_until(lambda: self._ready() or self.process is None or self.process.poll() is not None, 90):
            raise AssertionError("the kernel did not get ready:\n" + self.log_tail())
        if self.process.poll() is not None:
            raise AssertionError("the kernel exited %s:\n%s" % (self.process.returncode, self.log_tail()))

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.admin_url + "/readyz", timeout=2) as answer:
                return int(answer.status) == 200
        except (urllib.error.URLError, OSError):
            return False

    def log_tail(self, lines: int = 40) -> str:
        text = ""
        for name in ("kernel.out", "kernel.log"):
            try:
                with open(self.path(name), errors="replace") as f:
                    text += "".join(f.readlines()[-lines:])
            except OSError:
                pass
        return text

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for key in self.redis.scan_iter(match=self.prefix + "*", count=1000):
            self.redis.delete(key)
        self.redis.close()
        self._psql(PG_DSN, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.database)
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- the admin ------------------------------------------------------------------------------

    def admin(self, *args: str) -> str:
        return run([KERNEL_BIN, "admin"] + list(args) + ["--url", self.admin_url, "--key", self.path("admin")])

    def pending(self) -> List[Dict[str, str]]:
        rows = json.loads(self.admin("pending", "--json") or "[]")
        return [r for r in rows if isinstance(r, dict)]

    def approve_when_pending(self, name: str, timeout: float = 60.0) -> Dict[str, str]:
        """The operator's part: waits until a key of producer `name` is pending and approves it."""
        found: List[Dict[str, str]] = []

        def pending_row() -> bool:
            found[:] = [r for r in self.pending() if r.get("name") == name]
            return bool(found)

        if not wait_until(pending_row, timeout, 0.3):
            raise AssertionError("no pending registration of %s:\n%s" % (name, self.log_tail()))
        row = found[0]
        self.admin("approve", "--producer", row["producer_id"], "--fingerprint", row["fingerprint"], "--notes", "py test")
        return row

    # ---- what landed ----------------------------------------------------------------------------

    def _psql(self, dsn: str, sql: str) -> str:
        return run(["psql", dsn, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql])

    def query(self, sql: str) -> List[List[str]]:
        """Rows of `sql` in the test database, each a list of column texts."""
        out = self._psql(self.dsn, sql)
        return [line.split("|") for line in out.splitlines() if line]

    def scalar(self, sql: str) -> str:
        rows = self.query(sql)
        return rows[0][0] if rows else ""

    def dead_letters(self) -> List[Dict[str, str]]:
        entries: Any = self.redis.xrange(self.prefix + "events:dlq", "-", "+")
        return [{str(k): str(v) for k, v in fields.items()} for _, fields in entries]
