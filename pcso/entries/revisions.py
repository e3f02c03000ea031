"""An entry's revision history: each change's old and new values, written with the change itself."""
from __future__ import annotations

import math
from datetime import date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..models import Entry, EntryRevision, User

NOT_TRACKED = {"id", "kind", "author_id", "client_key", "recorded_at", "updated_at", "review_due"}  # MoPI: its own log


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # a stored nan or inf (never written now): 'nan' == 'nan', and JSON can hold it
    return value


def snapshot(entry: Entry) -> dict[str, Any]:
    """Every tracked field's value, as JSON, for revision diffs."""
    data = {
        attr.key: _jsonable(getattr(entry, attr.key))
        for attr in sa.inspect(type(entry)).column_attrs
        if attr.key not in NOT_TRACKED
    }
    data["links"] = [
        [type(link.target).__tablename__, link.target.id, link.role.value, link.note]
        for link in entry.links if link.target is not None
    ]
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list]:
    return {key: [before.get(key), value] for key, value in after.items() if before.get(key) != value}


def add_revision(entry: Entry, before: dict[str, Any], *, actor: User, action: str,
                 at: datetime | None = None) -> dict[str, list]:
    """Record what changed since `before` (a snapshot) as one revision, at `at` (now by default); nothing
    when nothing changed (but a creation is always recorded). Returns the changes."""
    changes = diff(before, snapshot(entry))
    if changes or action == "created":
        db.session.add(EntryRevision(entry_id=entry.id, actor_id=actor.id, action=action, changes=changes,
                                     **({"at": at} if at is not None else {})))
    return changes
