"""One audit module: every create, update, view, search and disclosure goes through record().

record() adds the event to the current session and flushes; it never commits, so the
event and the change it describes are written in the same transaction or not at all.
Details must not carry free text typed about people: ids, field names and counts only. The one
exceptions are a search, whose terms (names included) are recorded as s.62 and the issue require:
who looked for whom is the point of auditing a search; and a disclosure (an export), whose purpose
and recipient are typed by the officer and must be recorded with it (s.62: disclosures record the
recipient).
"""
from __future__ import annotations

from typing import Any

from .extensions import db
from .models import AuditAction, AuditEvent, User


def record(
    action: AuditAction,
    obj: Any = None,
    *,
    actor: User | None,
    object_type: str | None = None,
    object_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    if obj is not None:
        object_type = object_type or type(obj).__tablename__
        object_id = object_id if object_id is not None else obj.id
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None else None,
        object_type=object_type,
        object_id=object_id,
        details=details,
    )
    db.session.add(event)
    db.session.flush()
    return event
