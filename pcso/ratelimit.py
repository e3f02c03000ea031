"""Rate-limit counters: Redis when REDIS_URL is set, else the database for sign-in, this process for the API.

Flask-Limiter keeps its counters in a `limits` storage named by RATELIMIT_STORAGE_URI. `memory://` is one
count per process (with two gunicorn workers twice the attempts get through) and production refuses it
(pcso/config.py). Without Redis, `beatbook-db://` below splits the counters by what they guard:
- the sign-in limits (per address and per account: the password and the code) and any other limit of the
  pages are fixed-window counters in the app's own database (table `rate_limit_counter`), one atomic upsert
  per hit, on a connection of its own so the count is committed whatever the request then does: shared by
  every worker and server, as a guess-the-password limit must be;
- the API's limits (API_RATELIMIT, per token: the endpoints of the `api_*` blueprints, PER_PROCESS) are
  counted in this process's memory, so that an API read writes nothing to the database. With N workers a
  token gets up to N times API_RATELIMIT: it is a throttle against a runaway client, not a secret's guard
  (a token is 256 random bits; wrong tokens are refused before any work). Set REDIS_URL to share them too.

On Redis, when Redis stops answering (stopped, restarting, unreachable), each process counts the same limits in
its own memory meanwhile (Flask-Limiter's in-memory fallback: a process's share of the limit, and the account
lockout is in the database) instead of answering 500, and goes back to Redis when it answers again (checked
after 1, 2, 4 ... 32 s). Each Redis call gives up after a second, so a Redis that hangs holds no request long.
"""
from __future__ import annotations

import random
import time

import sqlalchemy as sa
from limits.storage import MemoryStorage, Storage

from .extensions import db

UPSERT = sa.text(
    'INSERT INTO rate_limit_counter ("key", count, expires_at) VALUES (:key, :amount, :expires) '
    'ON CONFLICT ("key") DO UPDATE SET '
    "count = CASE WHEN rate_limit_counter.expires_at <= :now THEN :amount "
    "ELSE rate_limit_counter.count + :amount END, "
    "expires_at = CASE WHEN rate_limit_counter.expires_at <= :now THEN :expires "
    "ELSE rate_limit_counter.expires_at END "
    "RETURNING count"
)
CLEAN_UP_EVERY = 100  # on average, one hit in this many also deletes every expired counter
PER_PROCESS = ("api_",)  # limits whose scope (an endpoint, or a shared limit's name) starts so: in memory


def per_process(key: str) -> bool:
    """A limit's key is LIMITER/<prefix>/<who>/<scope>/<amount>/<multiples>/<granularity>: the scope is read
    from the right, so nothing in <who> (a typed collar number, say) can move a sign-in count into memory."""
    parts = key.rsplit("/", 4)
    return len(parts) == 5 and parts[1].startswith(PER_PROCESS)


def redis_fallback(config: dict) -> None:
    """For create_app, before Flask-Limiter reads the config: the fallback and timeouts above, when on Redis."""
    if config["RATELIMIT_STORAGE_URI"].startswith("redis"):
        config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
        config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_timeout": 1, "socket_connect_timeout": 1})


class DatabaseStorage(Storage):
    """A `limits` storage on the app's database, the API's counters in memory (the fixed-window strategy: what
    RATELIMIT_STRATEGY defaults to)."""

    STORAGE_SCHEME = ["beatbook-db"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.local = MemoryStorage()

    @property
    def base_exceptions(self):
        return sa.exc.SQLAlchemyError

    @staticmethod
    def _connect(write: bool = True):
        # The current app's engine. On SQLite a count takes the write lock up front (it never waits to upgrade);
        # a read takes none: the headers are read after the view, whose own transaction may hold the lock.
        return db.engine.connect().execution_options(write_lock=write)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        if per_process(key):
            return self.local.incr(key, expiry, amount=amount)
        now = time.time()
        with self._connect() as conn, conn.begin():
            count = conn.execute(UPSERT, {"key": key, "amount": amount, "expires": now + expiry, "now": now}).scalar()
            if random.randrange(CLEAN_UP_EVERY) == 0:  # noqa: S311 (housekeeping, not security)
                conn.execute(sa.text("DELETE FROM rate_limit_counter WHERE expires_at <= :now"), {"now": now})
        return int(count)

    def _row(self, key: str):
        with self._connect(write=False) as conn, conn.begin():
            return conn.execute(sa.text('SELECT count, expires_at FROM rate_limit_counter WHERE "key" = :key '
                                        "AND expires_at > :now"), {"key": key, "now": time.time()}).first()

    def get(self, key: str) -> int:
        if per_process(key):
            return self.local.get(key)
        row = self._row(key)
        return int(row.count) if row else 0

    def get_expiry(self, key: str) -> float:
        if per_process(key):
            return self.local.get_expiry(key)
        row = self._row(key)
        return float(row.expires_at) if row else time.time()

    def check(self) -> bool:
        with self._connect(write=False) as conn:
            conn.execute(sa.text("SELECT 1"))
        return True

    def reset(self) -> int | None:
        self.local.reset()
        with self._connect() as conn, conn.begin():
            return conn.execute(sa.text("DELETE FROM rate_limit_counter")).rowcount

    def clear(self, key: str) -> None:
        if per_process(key):
            return self.local.clear(key)
        with self._connect() as conn, conn.begin():
            conn.execute(sa.text('DELETE FROM rate_limit_counter WHERE "key" = :key'), {"key": key})
