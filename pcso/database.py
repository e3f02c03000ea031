"""Database engine set-up: SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE.

Python's sqlite3 starts transactions lazily and as DEFERRED; under several gunicorn
workers a deferred transaction that reads and then writes fails with "database is
locked" however long the busy timeout. So the driver's own transaction handling is
switched off and every transaction starts with BEGIN IMMEDIATE, taking the write lock
up front (readers in WAL mode are never blocked by it).
"""
from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db


def configure_engine(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
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
        connection.exec_driver_sql("BEGIN IMMEDIATE")
