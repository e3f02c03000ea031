"""Reviewing submitted entries. Services flush, revise and audit; views commit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from .. import audit
from ..access import REVIEWERS, can_review_entry, visible_entries
from ..entries.revisions import diff, snapshot
from ..extensions import db
from ..models import (
    AuditAction, Entry, EntryReview, EntryRevision, EntryStatus, HandlingCode, IntelAssessment, IntelligenceReport,
    ReviewDecision, SecurityMarking, SourceEvaluation, User, beat_assignment,
)
from ..search.index import index_entry
from ..queries import AnyEntry
from ..timeutil import utcnow


class ReviewRejected(ValueError):
    """The decision can't be made (already decided by someone else, say): a message for the page."""


# --- the queue ----------------------------------------------------------------------------------

SCOPES = ("mine", "all")
COUNT_CAP = 1000


@dataclass(frozen=True)
class QueueItem:
    entry: Entry
    waiting: timedelta
    is_overdue: bool
    is_oldest: bool

    @property
    def waiting_label(self) -> str:
        hours = int(self.waiting.total_seconds() // 3600)
        if hours < 1:
            return f"{max(int(self.waiting.total_seconds() // 60), 0)} min"
        if hours < 48:
            return f"{hours} h"
        return f"{hours // 24} days"


def supervised_beat_ids() -> sa.Select:
    """Beats that have at least one enabled supervisor assigned."""
    return (sa.select(beat_assignment.c.beat_id)
            .join(User, User.id == beat_assignment.c.user_id)
            .where(User.role.in_(REVIEWERS), User.is_enabled))


def queue_clause(user: User, scope: str = "mine") -> sa.ColumnElement[bool]:
    """Submitted entries awaiting this supervisor: their beats', and those of beats no supervisor covers.

    scope="all" widens it to every beat (cover for a colleague on leave). Never their own entries.
    """
    clause = (AnyEntry.status == EntryStatus.SUBMITTED) & (AnyEntry.author_id != user.id) & visible_entries(user)
    if scope == "mine":
        clause &= AnyEntry.beat_id.in_(user.beat_ids) | AnyEntry.beat_id.not_in(supervised_beat_ids())
    return clause


def review_queue(user: User, *, scope: str = "mine", beat_id: int | None = None, now: datetime | None = None,
                 limit: int = 200) -> tuple[list[QueueItem], int]:
    """(the oldest `limit` items, oldest first; how many there are in all)."""
    now = now or utcnow()
    clause = queue_clause(user, scope)
    if beat_id is not None:
        clause &= AnyEntry.beat_id == beat_id
    # Counted up to COUNT_CAP + 1 ("1,000+"): a force that has fallen that far behind needs the number, not
    # a page that counts a million rows on every load of the home page.
    capped = sa.select(AnyEntry.id).where(clause).limit(COUNT_CAP + 1).subquery()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(capped))
    entries = db.session.scalars(sa.select(AnyEntry).where(clause)
                                 .order_by(AnyEntry.submitted_at, AnyEntry.id).limit(limit)).all()
    target = timedelta(hours=current_app.config["REVIEW_TARGET_HOURS"])
    items = [QueueItem(entry, now - entry.submitted_at, now - entry.submitted_at > target, i == 0)
             for i, entry in enumerate(entries)]
    return items, total


def record_queue_view(items: list[QueueItem], *, actor: User, **details) -> None:
    """The queue names the entries it lists: consultation (DPA 2018 s.62)."""
    audit.consulted([item.entry for item in items], actor=actor, object_type="entry", **details)


def next_in_queue(user: User, after: Entry) -> Entry | None:
    """The oldest entry still waiting for this supervisor, other than the one just decided."""
    return db.session.scalar(sa.select(AnyEntry).where(queue_clause(user), AnyEntry.id != after.id)
                             .order_by(AnyEntry.submitted_at, AnyEntry.id).limit(1))


def returned_to(user: User) -> list[Entry]:
    """The author's entries returned for correction, newest decision first: what they must act on."""
    return list(db.session.scalars(
        sa.select(AnyEntry).where(AnyEntry.author_id == user.id, AnyEntry.status == EntryStatus.RETURNED)
        .order_by(AnyEntry.reviewed_at.desc(), AnyEntry.id.desc())))


# --- decisions ----------------------------------------------------------------------------------

def _lock(entry: Entry, actor: User) -> None:
    """Re-read the entry under a row lock (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises)
    and check it is still waiting: two supervisors deciding at once must not both win."""
    db.session.execute(sa.select(Entry.id).where(Entry.id == entry.id).with_for_update())
    db.session.refresh(entry)
    if entry.status != EntryStatus.SUBMITTED:
        raise ReviewRejected("This entry is no longer awaiting review: someone has decided on it already")
    if not can_review_entry(actor, entry):
        raise ReviewRejected("You can't review this entry")


def _decide(entry: Entry, decision: ReviewDecision, *, actor: User, comment: str | None,
            grading: dict | None = None, at: datetime | None = None) -> EntryReview:
    before = snapshot(entry)
    now = at or utcnow()
    if at is not None and at < entry.submitted_at:
        raise ReviewRejected("A decision can't come before the submission it decides")
    review = EntryReview(entry_id=entry.id, reviewer_id=actor.id, at=now, decision=decision, comment=comment,
                         submitted_at=entry.submitted_at, grading=grading)
    entry.status = EntryStatus.APPROVED if decision == ReviewDecision.APPROVED else EntryStatus.RETURNED
    entry.reviewed_at, entry.reviewer_id, entry.updated_at = now, actor.id, now
    db.session.add(review)
    db.session.flush()
    db.session.add(EntryRevision(entry_id=entry.id, actor_id=actor.id, action=decision.value, at=now,
                                 changes=diff(before, snapshot(entry))))
    details = {"grade": grading["to"]} if grading else {}
    audit.record(AuditAction.REVIEW, entry, actor=actor, object_type="entry", decision=decision.value,
                 kind=entry.kind.value, commented=bool(comment), **details)
    index_entry(entry)
    return review


def _grade(report: IntelligenceReport, grading: dict) -> dict:
    """Apply the supervisor's 3x5x2 grade; returns what the review records (from, to, changed)."""
    was = report.grading
    report.source_evaluation = SourceEvaluation(grading["source_evaluation"])
    report.assessment = IntelAssessment(grading["assessment"])
    report.handling_code = HandlingCode(grading["handling_code"])
    report.handling_conditions = (grading.get("handling_conditions")
                                  if report.handling_code == HandlingCode.CONDITIONS else None)
    if report.handling_code != HandlingCode.PERMITTED:
        report.marking = SecurityMarking.OFFICIAL_SENSITIVE  # shared only on conditions: need-to-know
    return {"from": was, "to": report.grading, "changed": was != report.grading}


def approve(entry: Entry, *, actor: User, comment: str | None = None, grading: dict | None = None,
            at: datetime | None = None) -> EntryReview:
    """Sign the entry off. Intelligence needs its grade confirmed (or changed) by the supervisor.

    `at` backdates the decision (the demo seed's history); by default it is now.
    """
    _lock(entry, actor)
    recorded = None
    if isinstance(entry, IntelligenceReport):
        if grading is None:
            raise ReviewRejected("Grade the intelligence before approving it")
        recorded = _grade(entry, grading)
    return _decide(entry, ReviewDecision.APPROVED, actor=actor, comment=(comment or "").strip() or None,
                   grading=recorded, at=at)


def return_to_author(entry: Entry, *, actor: User, comment: str, at: datetime | None = None) -> EntryReview:
    """Send it back for correction: the author sees the comment, corrects and resubmits. `at` as for approve."""
    comment = (comment or "").strip()
    if not comment:
        raise ReviewRejected("Say what the author should correct before you return it")
    _lock(entry, actor)
    return _decide(entry, ReviewDecision.RETURNED, actor=actor, comment=comment, at=at)
