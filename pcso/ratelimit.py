"""Rate-limit counters shared by every worker and server: Redis when REDIS_URL is set, else the database.

Flask-Limiter keeps its counters in a `limits` storage named by RATELIMIT_STORAGE_URI. `memory://` is one
count per process (with two gunicorn workers twice the attempts get through) and production refuses it
(pcso/config.py). Without Redis, `beatbook-db://` below keeps fixed-window counters in the app's own
database (table `rate_limit_counter`), one atomic upsert per hit, on a connection of its own so the count
is committed whatever the request then does.
"""
from __future__ import annotations

import random
import time

import sqlalchemy as sa
from limits.storage import Storage

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


class DatabaseStorage(Storage):
    """A `limits` storage on the app's database (the fixed-window strategy: what RATELIMIT_STRATEGY defaults to)."""

    STORAGE_SCHEME = ["beatbook-db"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return sa.exc.SQLAlchemyError

    @staticmethod
    def _connect(write: bool = True):
        # The current app's engine. On SQLite a count takes the write lock up front (it never waits to upgrade);
        # a read takes none: the headers are read after the view, whose own transaction may hold the lock.
        return db.engine.connect().execution_options(write_lock=write)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
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
        row = self._row(key)
        return int(row.count) if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return float(row.expires_at) if row else time.time()

    def check(self) -> bool:
        with self._connect(write=False) as conn:
            conn.execute(sa.text("SELECT 1"))
        return True

    def reset(self) -> int | None:
        with self._connect() as conn, conn.begin():
            return conn.execute(sa.text("DELETE FROM rate_limit_counter")).rowcount

    def clear(self, key: str) -> None:
        with self._connect() as conn, conn.begin():
            conn.execute(sa.text('DELETE FROM rate_limit_counter WHERE "key" = :key'), {"key": key})
