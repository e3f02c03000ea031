"""Amendments to approved entries: the author proposes (the edit form and a reason), a supervisor decides.

An approved entry is never edited in place. Its author proposes an amendment: the edit form as posted is kept
([name, value] pairs) with what it would change, checked now by every rule of an edit. A supervisor who may open
the entry (not its author) approves it, and the entry changes with an "amended" revision and stays approved, or
refuses it with a reason. One amendment waits at a time. Audited: the proposal (create, entry_amendment), the
change (update, on the entry) and the decision (review). Services flush and audit; views commit.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

import sqlalchemy as sa

from .. import audit
from ..access import can_decide_amendment, can_propose_amendment, visible_entries
from ..entries.data import EntryInput
from ..entries.services import amend_entry, preview_changes
from ..extensions import db
from ..models import AmendmentStatus, AuditAction, Entry, EntryAmendment, User
from ..queries import AnyEntry
from ..timeutil import format_london, utcnow
from .services import supervised_beat_ids

REASON_MIN = 10
NOT_KEPT = {"csrf_token", "action", "amendment_reason", "photo_offers"}  # the form's pairs that are not the entry


class AmendmentRejected(ValueError):
    """The amendment can't be proposed or decided: a message for the page."""


def form_pairs(formdata) -> list[list[str]]:
    """The posted edit form as [name, value] pairs, less the CSRF token, the button and the reason."""
    return [[name, value] for name, value in formdata.items(multi=True)
            if name not in NOT_KEPT and isinstance(value, str)]


def same_minute_kept(entry: Entry, data: EntryInput) -> EntryInput:
    """The form gives times to the minute: an entry recorded to the second (the API, the phone) keeps its own
    time when the form shows the same minute, rather than an amendment "changing" it by a few seconds."""
    if data.occurred_at.replace(second=0, microsecond=0) == entry.occurred_at.replace(second=0, microsecond=0):
        return replace(data, occurred_at=entry.occurred_at)
    return data


def shown_value(value) -> str:
    """A revision's value as a person reads it: times in London, yes/no, '(empty)'; lists and objects not spelled out."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return f"“{value[:120]}{'…' if len(value) > 120 else ''}”"
        if moment.tzinfo is not None:
            return format_london(moment)
        return f"{date.fromisoformat(value[:10]):%d %b %Y}" if len(value) == 10 else value
    if isinstance(value, (int, float)):
        return str(value)
    return "(changed)"


def propose_amendment(entry: Entry, data: EntryInput, *, pairs: list, reason: str, actor: User) -> EntryAmendment:
    if not can_propose_amendment(actor, entry):
        raise AmendmentRejected("Only the author of an approved entry proposes an amendment, one at a time.")
    reason = " ".join((reason or "").split())
    if len(reason) < REASON_MIN:
        raise AmendmentRejected(f"Say why it needs amending, in {REASON_MIN} characters or more.")
    changes = preview_changes(entry, same_minute_kept(entry, data), author=actor)
    if not changes:
        raise AmendmentRejected("Nothing is changed: amend a field, or go back to the entry.")
    amendment = EntryAmendment(entry_id=entry.id, author_id=actor.id, reason=reason, form=pairs, changes=changes,
                               status=AmendmentStatus.PENDING)
    db.session.add(amendment)
    db.session.flush()
    audit.record(AuditAction.CREATE, amendment, actor=actor, object_type="entry_amendment", entry_id=entry.id,
                 fields=sorted(changes))
    db.session.expire(entry, ["amendments"])
    return amendment


def _lock(entry: Entry, actor: User) -> EntryAmendment:
    """Re-read the entry under a row lock (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises): two
    supervisors deciding at once must not both win."""
    db.session.execute(sa.select(Entry.id).where(Entry.id == entry.id).with_for_update())
    db.session.refresh(entry)
    db.session.expire(entry, ["amendments"])
    amendment = entry.pending_amendment
    if amendment is None:
        raise AmendmentRejected("No amendment is waiting: someone has decided on it already.")
    if not can_decide_amendment(actor, entry):
        raise AmendmentRejected("Another supervisor decides on this amendment.")
    return amendment


def _decided(amendment: EntryAmendment, status: AmendmentStatus, *, actor: User, comment: str | None) -> None:
    amendment.status, amendment.decided_by_id, amendment.decided_at = status, actor.id, utcnow()
    amendment.comment = comment
    db.session.flush()
    audit.record(AuditAction.REVIEW, amendment.entry, actor=actor, object_type="entry",
                 decision=f"amendment_{status.value}", amendment_id=amendment.id, proposed_by=amendment.author_id,
                 fields=sorted(amendment.changes), commented=comment is not None)


def approve_amendment(entry: Entry, data: EntryInput, *, actor: User, comment: str | None = None) -> EntryAmendment:
    """The entry changes as proposed (`data`: the kept form, read again as its author's) and stays approved."""
    amendment = _lock(entry, actor)
    revision = amend_entry(entry, same_minute_kept(entry, data), author=amendment.author, approver=actor, amendment_id=amendment.id)
    amendment.revision_id = revision.id
    _decided(amendment, AmendmentStatus.APPROVED, actor=actor, comment=(comment or "").strip() or None)
    return amendment


def refuse_amendment(entry: Entry, *, actor: User, comment: str) -> EntryAmendment:
    comment = (comment or "").strip()
    if not comment:
        raise AmendmentRejected("Say why you refuse the amendment: its author sees your reason.")
    amendment = _lock(entry, actor)
    _decided(amendment, AmendmentStatus.REFUSED, actor=actor, comment=comment)
    return amendment


# --- the queue -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AmendmentItem:
    amendment: EntryAmendment
    entry: Entry
    waiting_since: datetime


def amendment_queue(user: User, *, scope: str = "mine", beat_id: int | None = None,
                    limit: int = 200) -> list[AmendmentItem]:
    """Pending amendments this supervisor may decide, oldest first, scoped as the review queue is."""
    clause = (visible_entries(user) & (AnyEntry.author_id != user.id))
    if scope == "mine":
        clause &= AnyEntry.beat_id.in_(user.beat_ids) | AnyEntry.beat_id.not_in(supervised_beat_ids())
    if beat_id is not None:
        clause &= AnyEntry.beat_id == beat_id
    rows = db.session.execute(
        sa.select(EntryAmendment, AnyEntry).join(AnyEntry, AnyEntry.id == EntryAmendment.entry_id)
        .where(EntryAmendment.status == AmendmentStatus.PENDING, EntryAmendment.author_id != user.id, clause)
        .order_by(EntryAmendment.proposed_at, EntryAmendment.id).limit(limit)).all()
    return [AmendmentItem(amendment, entry, amendment.proposed_at) for amendment, entry in rows]
