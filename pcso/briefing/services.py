"""The shift briefing: what an officer needs at the start of a shift, from data they may see.

Shifts are booked on and off by the officer. The briefing covers what happened on their beats
since their previous shift (its end, or its start if it was never ended), at most a week back,
or the last 24 hours for a first shift.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from .. import audit
from ..access import visible_entries
from ..dashboard.hotspots import hotspots
from ..dashboard.welfare import welfare_due
from ..entries.services import open_patrol
from ..extensions import db
from ..patrol_plans.shown import briefing_suggestions, handling_conditions, suggestion_entry_ids
from ..models import (
    AuditAction, BeatPriority, EntryKind, EntryStatus, Patrol, SchoolVisit, SecurityMarking, Shift, User,
)
from ..review.services import returned_to
from ..queries import AnyEntry
from ..timeutil import to_london, utcnow

SHIFT_MAX = timedelta(hours=16)  # a shift booked on longer ago than this is over, ended or not
FIRST_SHIFT = timedelta(hours=24)
LOOK_BACK_MAX = timedelta(days=7)
NEW_ENTRIES_SHOWN = 30


# --- shifts ----------------------------------------------------------------------------------------

def current_shift(user: User, now: datetime | None = None) -> Shift | None:
    now = now or utcnow()
    return db.session.scalar(
        sa.select(Shift).where(Shift.user_id == user.id, Shift.ended_at.is_(None), Shift.started_at > now - SHIFT_MAX)
        .order_by(Shift.started_at.desc()).limit(1))


def previous_shift(user: User, current: Shift | None) -> Shift | None:
    query = sa.select(Shift).where(Shift.user_id == user.id)
    if current is not None:
        query = query.where(Shift.id != current.id, Shift.started_at <= current.started_at)
    return db.session.scalar(query.order_by(Shift.started_at.desc(), Shift.id.desc()).limit(1))


def start_shift(user: User, *, at: datetime | None = None) -> tuple[Shift, bool]:
    """Book on: (the shift, created). Booking on twice in a shift keeps the first. `at` backdates it (the
    demo seed's history); by default it is now."""
    at = at or utcnow()
    shift = current_shift(user, at)
    if shift is not None:
        return shift, False
    shift = Shift(user_id=user.id, started_at=at)
    db.session.add(shift)
    db.session.flush()
    audit.record(AuditAction.CREATE, shift, actor=user, object_type="shift")
    return shift, True


def end_shift(user: User, *, at: datetime | None = None) -> Shift | None:
    at = at or utcnow()
    shift = current_shift(user, at)
    if shift is not None:
        shift.ended_at = at
        audit.record(AuditAction.UPDATE, shift, actor=user, object_type="shift", fields=["ended_at"])
    return shift


def briefing_since(user: User, now: datetime) -> tuple[datetime, str]:
    """(the moment the briefing counts from, how it was chosen, for the page)."""
    current = current_shift(user, now)
    previous = previous_shift(user, current)
    if previous is None:
        return now - FIRST_SHIFT, "the last 24 hours (your first shift in Beatbook)"
    since = previous.ended_at or previous.started_at
    if since < now - LOOK_BACK_MAX:
        return now - LOOK_BACK_MAX, "the last 7 days (your last shift was longer ago)"
    how = "the end of your last shift" if previous.ended_at else "the start of your last shift (never booked off)"
    return since, how


# --- priorities ------------------------------------------------------------------------------------

def get_priority(priority_id: int) -> BeatPriority | None:
    return db.session.get(BeatPriority, priority_id)


def open_priorities(beat_ids) -> list[BeatPriority]:
    if not beat_ids:
        return []
    return list(db.session.scalars(
        sa.select(BeatPriority).where(BeatPriority.beat_id.in_(beat_ids), BeatPriority.closed_at.is_(None))
        .order_by(BeatPriority.issue_date.desc(), BeatPriority.id.desc())))


@dataclass(frozen=True)
class PriorityInput:
    """A priority as given: data.police.uk's four fields."""

    issue: str
    issue_date: date
    action: str | None = None
    action_date: date | None = None


def save_priority(priority: BeatPriority, form, *, actor: User) -> BeatPriority:
    """set_priority() from the priority form."""
    return set_priority(priority, PriorityInput(form.issue.data, form.issue_date.data, form.action.data,
                                                form.action_date.data), actor=actor)


def set_priority(priority: BeatPriority, data: PriorityInput, *, actor: User,
                 at: datetime | None = None) -> BeatPriority:
    """Create or change a priority. `at` backdates the change (the demo seed's history); by default now."""
    created = priority.id is None
    at = at or utcnow()
    before = {name: getattr(priority, name) for name in ("issue", "issue_date", "action", "action_date")}
    priority.issue = data.issue.strip()
    priority.issue_date = data.issue_date
    priority.action = (data.action or "").strip() or None
    priority.action_date = data.action_date
    priority.updated_at = at
    if created:
        priority.set_by_id, priority.created_at = actor.id, at
        db.session.add(priority)
    db.session.flush()
    changed = [name for name, value in before.items() if getattr(priority, name) != value]
    audit.record(AuditAction.CREATE if created else AuditAction.UPDATE, priority, actor=actor,
                 object_type="beat_priority", beat_id=priority.beat_id, fields=changed)
    return priority


def close_priority(priority: BeatPriority, *, actor: User) -> None:
    if priority.closed_at is None:
        priority.closed_at = utcnow()
        audit.record(AuditAction.UPDATE, priority, actor=actor, object_type="beat_priority",
                     beat_id=priority.beat_id, fields=["closed_at"])


# --- the briefing ----------------------------------------------------------------------------------

@dataclass
class Briefing:
    user: User
    now: datetime
    since: datetime
    since_how: str
    shift: Shift | None
    beats: list
    returned: list = field(default_factory=list)
    new_entries: list = field(default_factory=list)
    new_total: int = 0
    new_by_kind: Counter = field(default_factory=Counter)
    intelligence: list = field(default_factory=list)
    hotspots: list = field(default_factory=list)
    welfare_due: list = field(default_factory=list)
    drafts: list = field(default_factory=list)
    open_patrol: Patrol | None = None
    follow_ups: list = field(default_factory=list)
    priorities: list = field(default_factory=list)
    patrol_plans: list = field(default_factory=list)  # add_patrol_plans(): pcso/patrol_plans, best first per beat
    plan_conditions: dict = field(default_factory=dict)  # suggestion key -> handling code C conditions behind it

    @property
    def beat_ids(self) -> set[int]:
        return {beat.id for beat in self.beats}

    @property
    def today(self) -> date:
        return to_london(self.now).date()

    @property
    def marking(self) -> SecurityMarking:
        """OFFICIAL-SENSITIVE when it shows anything that is (welfare checks, sensitive intelligence)."""
        shown = [*self.returned, *self.new_entries, *self.intelligence, *self.drafts,
                 *(item.check for item in self.welfare_due)]
        if any(entry.marking == SecurityMarking.OFFICIAL_SENSITIVE for entry in shown):
            return SecurityMarking.OFFICIAL_SENSITIVE
        return SecurityMarking.OFFICIAL

    @property
    def open_actions(self) -> int:
        return (len(self.returned) + len(self.drafts) + (self.open_patrol is not None) + len(self.follow_ups)
                + sum(1 for p in self.priorities if p.action and (p.action_date is None or p.action_date >= self.today)))

    def counts(self) -> dict:
        return {"new": self.new_total, "intelligence": len(self.intelligence), "returned": len(self.returned),
                "hotspots": len(self.hotspots), "welfare_due": len(self.welfare_due),
                "priorities": len(self.priorities), "open_actions": self.open_actions}


def build_briefing(user: User, *, now: datetime | None = None) -> Briefing:
    now = now or utcnow()
    since, how = briefing_since(user, now)
    briefing = Briefing(user=user, now=now, since=since, since_how=how, shift=current_shift(user, now),
                        beats=list(user.beats))
    beat_ids = briefing.beat_ids
    briefing.returned = returned_to(user)
    if beat_ids:
        news = (visible_entries(user) & (AnyEntry.status != EntryStatus.DRAFT) & AnyEntry.beat_id.in_(beat_ids)
                & (AnyEntry.author_id != user.id) & (AnyEntry.submitted_at >= since))
        by_kind = db.session.execute(sa.select(AnyEntry.kind, sa.func.count()).where(news).group_by(AnyEntry.kind))
        briefing.new_by_kind = Counter({EntryKind(kind): count for kind, count in by_kind})
        briefing.new_total = sum(briefing.new_by_kind.values())
        briefing.new_entries = list(db.session.scalars(
            sa.select(AnyEntry).where(news, AnyEntry.kind != EntryKind.INTELLIGENCE_REPORT)
            .order_by(AnyEntry.occurred_at.desc(), AnyEntry.id.desc()).limit(NEW_ENTRIES_SHOWN)))
        briefing.intelligence = list(db.session.scalars(
            sa.select(AnyEntry).where(news, AnyEntry.kind == EntryKind.INTELLIGENCE_REPORT)
            .order_by(AnyEntry.occurred_at.desc(), AnyEntry.id.desc()).limit(NEW_ENTRIES_SHOWN)))
        briefing.hotspots = hotspots(user, beat_ids, now=now, days=7)
        briefing.welfare_due = welfare_due(user, beat_ids, today=briefing.today)
        briefing.priorities = open_priorities(beat_ids)
    briefing.drafts = list(db.session.scalars(
        sa.select(AnyEntry).where(AnyEntry.author_id == user.id, AnyEntry.status == EntryStatus.DRAFT,
                                  AnyEntry.kind != EntryKind.PATROL)
        .order_by(AnyEntry.occurred_at.desc())))
    briefing.open_patrol = open_patrol(user)
    briefing.follow_ups = list(db.session.scalars(
        sa.select(SchoolVisit).where(SchoolVisit.author_id == user.id, SchoolVisit.follow_ups.is_not(None),
                                     SchoolVisit.follow_ups != "", SchoolVisit.occurred_at >= now - timedelta(days=28))
        .order_by(SchoolVisit.occurred_at.desc())))
    return briefing


def add_patrol_plans(briefing: Briefing, *, config, consulted: bool = True) -> Briefing:
    """The suggested patrols of the page's section (pcso/patrol_plans/shown.py, the one service), for the
    briefing's officer, beats and moment, kept as shown. Suggestions read only OFFICIAL entries the officer may
    open, so they never change the marking. `consulted`: named in the request's view event (the page, the API);
    the PDF names them in its disclosure."""
    briefing.patrol_plans = briefing_suggestions(briefing.user, briefing.beat_ids, now=briefing.now, config=config,
                                                 consulted=consulted)
    briefing.plan_conditions = handling_conditions(briefing.patrol_plans)
    return briefing


def record_briefing(briefing: Briefing, *, fmt: str = "html") -> None:
    """Opening a briefing is a consultation of what it shows (DPA 2018 s.62): the entries it lists and the
    children whose welfare visits are due are named by the request's one view event."""
    shown = [*briefing.new_entries, *briefing.intelligence, *briefing.returned, *briefing.drafts,
             briefing.open_patrol, *briefing.follow_ups, *(item.check for item in briefing.welfare_due)]
    audit.consulted(shown, actor=briefing.user, object_type="entry", screen="briefing", format=fmt,
                    since=briefing.since.isoformat(), beat_ids=sorted(briefing.beat_ids), **briefing.counts())
    audit.consulted([item.child for item in briefing.welfare_due], actor=briefing.user, object_type="person")


def shown_entry_ids(briefing: Briefing) -> list[int]:
    """Every entry the briefing shows (each list is bounded) or draws its suggested patrols from, for its audit
    event."""
    shown = [*briefing.returned, *briefing.new_entries, *briefing.intelligence, *briefing.drafts,
             *(item.check for item in briefing.welfare_due)]
    return sorted({entry.id for entry in shown} | set(suggestion_entry_ids(briefing.patrol_plans)))


def record_briefing_disclosure(briefing: Briefing, *, purpose: str, recipient: str) -> None:
    """The printable briefing leaves the system: a disclosure (DPA 2018 s.62), with why and to whom."""
    audit.record(AuditAction.DISCLOSE, actor=briefing.user, object_type="briefing", format="pdf", purpose=purpose,
                 recipient=recipient, marking=briefing.marking.value, since=briefing.since.isoformat(),
                 beat_ids=sorted(briefing.beat_ids), records={"entry": audit.id_summary(shown_entry_ids(briefing))},
                 suggestions=[s.id for s in briefing.patrol_plans if s.id], context=audit.endpoint(),
                 **briefing.counts())
