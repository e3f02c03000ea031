"""Held submissions: a sealed entry the server refused, kept as its author's to fix (pcso/models/held.py).

Only its author ever sees one (anyone else: as if it did not exist). Holding, viewing, resolving and
discarding are audited with ids, the kind and field names only, never the content. These flush; the
caller commits.
"""
from __future__ import annotations

import json

import sqlalchemy as sa

from .. import audit
from ..extensions import db
from ..models import AuditAction, Entry, EntryKind, HeldSubmission, User
from ..timeutil import utcnow

HELD = "held_submission"
CLEARED = "{}"


def hold_submission(actor: User, kind: EntryKind, client_key: str, body: dict, errors: dict[str, str]
                    ) -> HeldSubmission:
    """Keep a refused entry for its author (again under the same key: its body and reasons are replaced)."""
    held = db.session.scalar(sa.select(HeldSubmission).where(
        HeldSubmission.author_id == actor.id, HeldSubmission.client_key == client_key,
        HeldSubmission.resolved_at.is_(None)))
    if held is None:
        held = HeldSubmission(author_id=actor.id, client_key=client_key, kind=kind)
        db.session.add(held)
    held.kind, held.body, held.errors = kind, json.dumps(body, separators=(",", ":")), dict(errors)
    db.session.flush()
    audit.record(AuditAction.CREATE, held, actor=actor, object_type=HELD, kind=kind.value, fields=sorted(errors))
    return held


def held_for(user: User, held_id: int) -> HeldSubmission | None:
    """The user's own unresolved held submission, or None (someone else's, resolved or missing)."""
    held = db.session.get(HeldSubmission, held_id)
    if held is None or held.author_id != user.id or held.is_resolved:
        return None
    return held


def unresolved_held(user: User) -> list[HeldSubmission]:
    return list(db.session.scalars(sa.select(HeldSubmission).where(
        HeldSubmission.author_id == user.id, HeldSubmission.resolved_at.is_(None))
        .order_by(HeldSubmission.created_at, HeldSubmission.id)))


def record_held_view(held: HeldSubmission, *, actor: User) -> None:
    audit.consulted(held, actor=actor, object_type=HELD, kind=held.kind.value)


def _close(held: HeldSubmission, entry: Entry | None) -> None:
    held.resolved_entry_id, held.resolved_at = (entry.id if entry is not None else None), utcnow()
    held.body, held.errors = CLEARED, {}  # the entry holds the content now (or it was discarded)
    db.session.flush()


def resolve_held(actor: User, client_key: str, entry: Entry) -> HeldSubmission | None:
    """The entry logged under a held submission's key resolves it (called by log_entry)."""
    held = db.session.scalar(sa.select(HeldSubmission).where(
        HeldSubmission.author_id == actor.id, HeldSubmission.client_key == client_key,
        HeldSubmission.resolved_at.is_(None)))
    if held is None:
        return None
    _close(held, entry)
    audit.record(AuditAction.UPDATE, held, actor=actor, object_type=HELD, fields=["resolved_entry_id"],
                 entry_id=entry.id)
    return held


def discard_held(held: HeldSubmission, *, actor: User) -> None:
    """Its author gives it up: the content is erased, the row stays as resolved with no entry."""
    kind = held.kind.value
    _close(held, None)
    audit.record(AuditAction.ERASE, held, actor=actor, object_type=HELD, kind=kind)
