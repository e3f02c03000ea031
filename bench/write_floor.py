"""The floor for bench/concurrent_writes.py: a bare Flask endpoint doing one durable insert of an entry-sized row.

`POST /floor` with a form body (the same fields the ASB form sends) inserts one row into `floor_entry` in
the database named by DATABASE_URL, in its own transaction, and answers 302 as the app does. SQLite runs
with the app's own settings (WAL, synchronous=NORMAL, busy timeout, BEGIN IMMEDIATE); PostgreSQL through
psycopg with one connection per worker process. No ORM, no session, no CSRF, no audit: what one durable
write of this size costs on this machine, served by the same gunicorn with the same workers.

    DATABASE_URL=sqlite:////tmp/x.sqlite gunicorn -w 4 bench.write_floor:app
"""
from __future__ import annotations

import os
import sqlite3
import threading
from datetime import datetime, timezone

from flask import Flask, redirect, request

URL = os.environ.get("DATABASE_URL", "")
COLUMNS = ("kind", "author_id", "beat_id", "occurred_at", "recorded_at", "summary", "marking", "client_key",
           "postcode", "location_text", "body")
CREATE = ("CREATE TABLE IF NOT EXISTS floor_entry (id {pk}, kind VARCHAR(20), author_id INTEGER, beat_id INTEGER, "
          "occurred_at VARCHAR(40), recorded_at VARCHAR(40), summary VARCHAR(200), marking VARCHAR(30), "
          "client_key VARCHAR(64) UNIQUE, postcode VARCHAR(10), location_text VARCHAR(200), body TEXT)")

app = Flask(__name__)
_local = threading.local()


def connection():
    """One connection per process (and thread), opened on first use, as the app's pool keeps them."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        if URL.startswith("sqlite"):
            conn = sqlite3.connect(URL.split(":///", 1)[1], isolation_level=None, timeout=5)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=5000")
        else:
            import psycopg
            conn = psycopg.connect(URL.replace("postgresql+psycopg://", "postgresql://"))
        _local.conn = conn
    return conn


def create_sql(url: str) -> str:
    """The floor table's CREATE statement for `url`'s database (the bench runs it before serving)."""
    return CREATE.format(pk="INTEGER PRIMARY KEY" if url.startswith("sqlite") else "SERIAL PRIMARY KEY")


@app.get("/healthz")
def healthz():
    return "ok"


@app.post("/floor")
def floor():
    form = request.form
    row = ("asb_incident", 1, 1, form.get("occurred_at", ""), datetime.now(timezone.utc).isoformat(),
           form.get("summary", ""), form.get("marking", ""), form.get("client_key", ""), form.get("postcode", ""),
           "", " ".join(f"{k}={v}" for k, v in form.items() if k not in {"csrf_token", "client_key"}))
    conn = connection()
    marks = ", ".join("?" if URL.startswith("sqlite") else "%s" for _ in COLUMNS)
    sql = f"INSERT INTO floor_entry ({', '.join(COLUMNS)}) VALUES ({marks})"
    if URL.startswith("sqlite"):
        conn.execute("BEGIN IMMEDIATE")
        new_id = conn.execute(sql + " RETURNING id", row).fetchone()[0]
        conn.execute("COMMIT")
    else:
        with conn.transaction():
            new_id = conn.execute(sql + " RETURNING id", row).fetchone()[0]
    return redirect(f"/floor/{new_id}")
