"""Database engine set-up: SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE.

Python's sqlite3 starts transactions lazily and as DEFERRED; under several gunicorn
workers a deferred transaction that reads and then writes fails with "database is
locked" however long the busy timeout (the lock can't be upgraded once another writer
has committed). So the driver's own transaction handling is switched off and we BEGIN
ourselves:

- IMMEDIATE (the write lock taken up front; other writers wait for the busy timeout)
  for every POST/PUT/DELETE request, for CLI commands, scripts and background jobs, and for GET views
  marked @writes_on_read (those that record a view or search in the audit log);
- DEFERRED for other GET requests, so plain reads run side by side under WAL, and for what a request
  does after read_only_from_here() (a download streamed once its audit event is committed), and for a
  command inside reads_only() (`flask audit verify`: a long read that must not hold writers off).
  A deferred transaction must never write after reading: the only write on such a
  request, the session touch, runs in a transaction of its own that writes first.
- whatever a connection opened with execution_options(write_lock=True/False) asks, whatever the request:
  the rate-limit counters of pcso/ratelimit.py count (IMMEDIATE) on GETs of the API too, and read theirs
  (DEFERRED) after a POST's own transaction may have taken the lock.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from flask import Flask, current_app, g, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def writes_on_read(view: Callable) -> Callable:
    """Mark a GET view that writes (an audit event): its transaction takes the write lock first."""
    view.writes_on_read = True
    return view


def read_only_from_here() -> None:
    """The rest of this request only reads: the transactions it begins from now on take no write lock.

    For a POST whose write is committed and which then streams a long download: otherwise the stream's
    transaction would BEGIN IMMEDIATE and hold every other writer off until the last byte.
    """
    g.beatbook_read_only = True


@contextmanager
def reads_only() -> Iterator[None]:
    """Outside a request (a command): transactions begun inside take no write lock. The block must only read."""
    before = g.get("beatbook_reads_only")
    g.beatbook_reads_only = True
    try:
        yield
    finally:
        g.beatbook_reads_only = before


def wants_write_lock() -> bool:
    if has_app_context() and g.get("beatbook_reads_only"):  # a command that only reads (`flask audit verify`)
        return False
    if not has_request_context() or g.get("beatbook_job_kind"):  # a command, a script, a background job
        return True
    if g.get("beatbook_read_only"):
        return False
    if request.method not in READ_METHODS:
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "writes_on_read", False))


def private_sqlite_file(url: str) -> None:
    """Create a SQLite database file readable by its owner only (0600), in a folder of the owner's (0700
    when made here). SQLite gives the -wal and -shm files the database file's permissions."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == prefix or ":memory:" in url or "mode=memory" in url:
        return
    path = Path(url[len(prefix):].split("?", 1)[0])
    if path.exists():
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:  # another worker made it first, the same way
        pass


def configure_engine(app: Flask) -> None:
    with app.app_context():
        engines = list(db.engines.values())  # the primary, and the replica when there is one (pcso/replica.py)
    for engine in engines:
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    if getattr(engine, "_beatbook_configured", False):
        return
    engine._beatbook_configured = True

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        chosen = connection.get_execution_options().get("write_lock")  # a connection's own choice comes first
        immediate = wants_write_lock() if chosen is None else chosen
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def readiness(redis_url: str = "") -> dict[str, bool]:
    """For /readyz: can this server reach its database (one round trip) and, when configured, Redis (PING)?
    Answers which are up, never why not (no address, no error text)."""
    checks = {"database": True}
    try:
        ping()
    except Exception:  # any failure means not ready; the reason goes to the log, not the answer
        db.session.rollback()
        current_app.logger.warning("readiness: the database did not answer", exc_info=True)
        checks["database"] = False
    if redis_url:
        try:
            checks["redis"] = bool(redis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1).ping())
        except Exception:
            current_app.logger.warning("readiness: Redis did not answer", exc_info=True)
            checks["redis"] = False
    return checks


def ping() -> None:
    """The health check: one round trip to the database, leaving no transaction open."""
    db.session.execute(db.text("SELECT 1"))
    db.session.rollback()
