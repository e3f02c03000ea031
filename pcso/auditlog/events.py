"""An audit event's canonical bytes (what its leaf hash covers), and reading events in id order in batches.

The bytes are the event's seven fields as JSON with sorted keys, no spaces, ASCII only (anything else escaped):
{"action":..,"actor_id":..,"at":"2026-12-03T09:54:19.123456Z","details":{..},"id":..,"object_id":..,
"object_type":..}. `at` is UTC with microseconds, as both databases keep it. They are computed from the row as read
back from the database, never from the object the app wrote, so sealing and verifying see the same thing.

Reading is the slow part of sealing and verifying, so on SQLite the time and the details are read as the stored text
and turned into the same canonical values here, without SQLAlchemy's per-row type processing (the time as
SQLAlchemy stores it, `2026-12-03 09:54:19.123456`, becomes `2026-12-03T09:54:19.123456Z`; tests check both ways
agree).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..models import AuditEvent
from .keys import format_time
from .merkle import leaf_hash

EVENTS = AuditEvent.__table__
_ACTION = sa.type_coerce(EVENTS.c.action, sa.String).label("action")  # the stored string, no Enum lookup per row
COLUMNS = (EVENTS.c.id, EVENTS.c.at, EVENTS.c.actor_id, _ACTION, EVENTS.c.object_type, EVENTS.c.object_id,
           EVENTS.c.details)
RAW_COLUMNS = (EVENTS.c.id, sa.type_coerce(EVENTS.c.at, sa.String).label("at"), EVENTS.c.actor_id, _ACTION,
               EVENTS.c.object_type, EVENTS.c.object_id, sa.type_coerce(EVENTS.c.details, sa.Text).label("details"))
SQLITE_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")
_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode


def canonical_time(at: datetime | str) -> str:
    if isinstance(at, datetime):
        return format_time(at)
    if SQLITE_TIME.fullmatch(at):  # SQLite's stored text, already UTC (UTCDateTime)
        return f"{at[:10]}T{at[11:]}Z"
    return f"unparsed:{at}"  # not a time the app wrote: hashed as it stands, so it cannot match a sealed leaf


class Unparsed(str):
    """Details stored as text that is not JSON (only SQLite would keep it): never the app's writing."""


def canonical_bytes(event_id: int, at: datetime | str, actor_id: int | None, action: Any, object_type: str | None,
                    object_id: int | None, details: Any, *, as_id: int | None = None) -> bytes:
    """`as_id`: the bytes the same contents would have under another id (to recognise an event moved elsewhere)."""
    if isinstance(details, Unparsed):  # not JSON bytes at all, so no row the app wrote can hash the same
        return f"unparsed {event_id if as_id is None else as_id} {at!r} {details!r}".encode("utf-8", "replace")
    return _encode({
        "id": event_id if as_id is None else as_id, "at": canonical_time(at), "actor_id": actor_id,
        "action": getattr(action, "value", action), "object_type": object_type, "object_id": object_id,
        "details": details,
    }).encode("ascii")


def hash_row(row, *, as_id: int | None = None) -> bytes:
    return leaf_hash(canonical_bytes(*row, as_id=as_id))


def _raw(row: sa.Row) -> tuple:
    details = row[6]
    if isinstance(details, str):
        try:
            details = json.loads(details)
        except ValueError:
            details = Unparsed(details)
    return (*row[:6], details)


def rows_after(conn: Connection, after_id: int | None, *, below_id: int | None = None, limit: int | None = None,
               batch: int = 5000) -> Iterator[tuple]:
    """Events with after_id < id (< below_id), in id order, read in keyset batches (memory stays flat).
    after_id None: from the lowest id there is."""
    raw = conn.dialect.name == "sqlite"
    remaining = limit
    while remaining is None or remaining > 0:
        size = batch if remaining is None else min(batch, remaining)
        query = sa.select(*(RAW_COLUMNS if raw else COLUMNS)).order_by(EVENTS.c.id).limit(size)
        if after_id is not None:
            query = query.where(EVENTS.c.id > after_id)
        if below_id is not None:
            query = query.where(EVENTS.c.id < below_id)
        rows = conn.execute(query).all()
        yield from (_raw(row) for row in rows) if raw else rows
        if len(rows) < size:
            return
        after_id = rows[-1][0]
        if remaining is not None:
            remaining -= len(rows)
