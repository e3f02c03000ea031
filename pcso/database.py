"""Database engine set-up: SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE for its writes.

Python's sqlite3 starts transactions lazily and as DEFERRED; under several gunicorn workers a deferred
transaction that reads and then writes fails with "database is locked" however long the busy timeout (the lock
can't be upgraded once another writer has committed: SQLITE_BUSY_SNAPSHOT). Holding the write lock from the first
statement instead (the session lookup) serialises whole requests: the lock was held for 80 % of a submission and
four workers were no faster than one. So the driver's own transaction handling is switched off and:

- a request's transaction BEGINs DEFERRED: its reads (the session, the user, the form's checks) run side by side
  under WAL, taking no lock;
- at its first write (an ORM flush with changes, an INSERT/UPDATE/DELETE, a SAVEPOINT, a SELECT ... FOR UPDATE,
  or lock_for_writes()) the connection ends the read transaction, which wrote nothing, and BEGINs IMMEDIATE:
  it waits up to the busy timeout for the write lock, then writes on the newest data. So the lock is held for
  the writes alone, and reads made before it are "read committed", as on PostgreSQL: what must not change
  between a check and a write is either checked by a constraint, or read after lock_for_writes() or with
  SELECT ... FOR UPDATE (which takes the lock on SQLite and the row lock on PostgreSQL);
- CLI commands, scripts and background jobs BEGIN IMMEDIATE from the start, as does a connection opened with
  execution_options(write_lock=True) (the rate-limit counters of pcso/ratelimit.py);
- a command inside reads_only() (`flask audit verify`) and what a request does after read_only_from_here() (a
  download streamed once its audit event is committed) BEGIN DEFERRED and only read.

A write lock not got within the busy timeout raises OperationalError: pcso/web.py answers 503 with Retry-After.
"""
from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
import sqlalchemy as sa
from flask import Flask, current_app, g, has_app_context, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .extensions import db

def writes_on_read(view: Callable) -> Callable:
    """Mark a GET view that writes (an audit event, a search recorded): it runs on the primary database (not
    a read replica, pcso/replica.py) and takes the write lock when it writes, like any other request."""
    view.writes_on_read = True
    return view


def lock_for_writes() -> None:
    """Take the write lock now (SQLite; nothing on PostgreSQL): what this transaction reads from here on
    stays as read until it commits. For a check that no constraint can make: "no open patrol, then start one"."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        _lock_now(connection)


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
    """Does a new transaction take the write lock up front? Commands, scripts and jobs do; requests take it
    at their first write (and never after read_only_from_here(); nor in a command's reads_only() block)."""
    if has_app_context() and (g.get("beatbook_reads_only") or g.get("beatbook_read_only")):
        return False  # a command that only reads (`flask audit verify`); a job streaming what it committed
    return not has_request_context() or bool(g.get("beatbook_job_kind"))  # a command, a script, a job


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
    if not event.contains(Session, "before_flush", lock_before_flush):
        event.listen(Session, "before_flush", lock_before_flush, insert=True)


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
        connection.info[LOCKED] = False  # set by _take_lock
        # A connection may wait less than the app's busy timeout (a job's progress beat: pcso/jobs/runner.py).
        connection.info[TIMEOUT] = connection.get_execution_options().get("busy_timeout_ms", busy_timeout_ms)
        connection.info[CONFIGURED] = busy_timeout_ms
        if immediate:
            _lock_now(connection)  # BEGIN IMMEDIATE, waiting for the lock as _take_lock does
        else:
            connection.exec_driver_sql("BEGIN")

    def before_write(cursor, statement: str, _parameters, context) -> bool:
        """Every statement: the first write of a deferred transaction takes the write lock first."""
        info = context.root_connection.info
        if not info.get(LOCKED, True) and _writes(statement, context):
            _take_lock(cursor.connection, info)
        return False  # not handled here: the driver runs the statement

    for name in ("do_execute", "do_executemany"):
        event.listen(engine, name, before_write)
    event.listen(engine, "do_execute_no_params", lambda cursor, statement, context:
                 before_write(cursor, statement, None, context))


LOCKED = "beatbook_write_locked"  # in a SQLite connection's info: does its transaction hold the write lock?
TIMEOUT = "beatbook_busy_timeout_ms"  # how long this transaction waits for the write lock
CONFIGURED = "beatbook_configured_busy_timeout_ms"  # the connection's own busy timeout (SQLITE_BUSY_TIMEOUT_MS)
BUSY_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, 517}  # 517: SQLITE_BUSY_SNAPSHOT
READS = ("SELECT", "PRAGMA", "EXPLAIN", "BEGIN", "COMMIT", "ROLLBACK", "RELEASE", "VALUES")


def _writes(statement: str, context) -> bool:
    """Does this statement write, or ask for the lock (SAVEPOINT: a nested block for writes; FOR UPDATE)?"""
    if context.isinsert or context.isupdate or context.isdelete or context.isddl:
        return True
    compiled = getattr(context, "compiled", None)
    if getattr(getattr(compiled, "statement", None), "_for_update_arg", None) is not None:
        return True
    word = statement.lstrip()[:9].upper()
    if word.startswith("WITH") and isinstance(getattr(compiled, "statement", None), sa.Select):
        return False  # a SELECT with a CTE (an INSERT ... with one is isinsert above)
    return not word.startswith(READS)


def _take_lock(dbapi_connection, info: dict) -> None:
    """End the read transaction (it wrote nothing) and begin a write transaction: wait for the lock (up to the
    busy timeout), then go on with the newest data. Raises sqlite3.OperationalError when the lock isn't got in
    time; SQLAlchemy wraps it (it is raised inside a statement's execution) and the request answers 503."""
    if info.get(LOCKED, True):  # held already, or not an engine of ours (configure_engine sets the key)
        return
    if dbapi_connection.in_transaction:
        dbapi_connection.execute("COMMIT")
    _begin_immediate(dbapi_connection, info[TIMEOUT], restore_ms=info[CONFIGURED])
    info[LOCKED] = True


def _begin_immediate(dbapi_connection, timeout_ms: int, *, restore_ms: int) -> None:
    """BEGIN IMMEDIATE, retried every 0.1 to 2 ms until `timeout_ms` has passed; then the connection's busy
    timeout is `restore_ms` again.

    Not SQLite's own busy handler: it sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms between tries, so
    under four workers a writer slept on long after the lock was free (four workers were slower than one, and
    p99 passed a second). The connection's busy timeout still serves everything else (a checkpoint, recovery).
    """
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        deadline, pause = time.monotonic() + timeout_ms / 1000, 0.0001
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode not in BUSY_CODES or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.002)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={int(restore_ms)}")


def lock_before_flush(session, _flush_context, _instances) -> None:
    """An ORM flush with changes takes the write lock before any before_flush listener reads (registered first)."""
    if not (session.new or session.dirty or session.deleted):
        return
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        _lock_now(connection)


def _lock_now(connection: sa.Connection) -> None:
    """_take_lock outside a statement's execution, where SQLAlchemy would not wrap the driver's error: wrapped
    here, so "database is locked" is an sqlalchemy OperationalError wherever it is met (a 503, a busy sealer)."""
    try:
        _take_lock(connection.connection.dbapi_connection, connection.info)
    except sqlite3.OperationalError as error:
        raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, error) from error


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
