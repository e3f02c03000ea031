"""An audit event's canonical bytes (what its leaf hash covers), and reading events in id order in batches.

The bytes are the event's seven fields as JSON with sorted keys, no spaces, ASCII only (anything else escaped):
{"action":..,"actor_id":..,"at":"2026-12-03T09:54:19.123456Z","details":{..},"id":..,"object_id":..,
"object_type":..}. `at` is UTC with microseconds, as both databases keep it. They are computed from the row as read
back from the database, never from the object the app wrote, so sealing and verifying see the same thing.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..models import AuditEvent
from .keys import format_time
from .merkle import leaf_hash

EVENTS = AuditEvent.__table__
# action read as its plain stored string: the same value, without the Enum type's per-row lookup
COLUMNS = (EVENTS.c.id, EVENTS.c.at, EVENTS.c.actor_id, sa.type_coerce(EVENTS.c.action, sa.String).label("action"),
           EVENTS.c.object_type, EVENTS.c.object_id, EVENTS.c.details)
_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode


def canonical_bytes(event_id: int, at: datetime, actor_id: int | None, action: Any, object_type: str | None,
                    object_id: int | None, details: Any, *, as_id: int | None = None) -> bytes:
    """`as_id`: the bytes the same contents would have under another id (to recognise an event moved elsewhere)."""
    return _encode({
        "id": event_id if as_id is None else as_id, "at": format_time(at), "actor_id": actor_id,
        "action": getattr(action, "value", action), "object_type": object_type, "object_id": object_id,
        "details": details,
    }).encode("ascii")


def hash_row(row: sa.Row, *, as_id: int | None = None) -> bytes:
    return leaf_hash(canonical_bytes(*row, as_id=as_id))


def rows_after(conn: Connection, after_id: int | None, *, below_id: int | None = None, limit: int | None = None,
               batch: int = 5000) -> Iterator[sa.Row]:
    """Events with after_id < id (< below_id), in id order, read in keyset batches (memory stays flat).
    after_id None: from the lowest id there is."""
    remaining = limit
    while remaining is None or remaining > 0:
        size = batch if remaining is None else min(batch, remaining)
        query = sa.select(*COLUMNS).order_by(EVENTS.c.id).limit(size)
        if after_id is not None:
            query = query.where(EVENTS.c.id > after_id)
        if below_id is not None:
            query = query.where(EVENTS.c.id < below_id)
        rows = conn.execute(query).all()
        yield from rows
        if len(rows) < size:
            return
        after_id = rows[-1][0]
        if remaining is not None:
            remaining -= len(rows)
