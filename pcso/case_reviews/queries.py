"""Reading ASB Case Reviews: the victim's incidents and which qualify, lists and their filters, the counts.

A complaint qualifies for an application received on day D (London dates) when it is a submitted ASB incident
with the person as victim that the user may see, it happened in the area's window before D (6 months: on or
after D less 6 calendar months, and not after D), and it was recorded within the area's complaint window of
the incident (one calendar month, London wall clock). The threshold is the application's beat's.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from ..access import can_view_case_review, can_view_record, visible_case_reviews, visible_entries
from ..extensions import db
from ..models import AsbIncident, CaseReview, CaseReviewState, Entry, EntryStatus, Link, LinkRole, Person, User
from ..timeutil import to_london
from .rules import AreaRules, current_rules
from ..dashboard.scope import add_months

S = CaseReviewState
OPEN_STATES = (S.RECEIVED, S.THRESHOLD_MET, S.REVIEWED, S.APPEALED)


@dataclass(frozen=True)
class Assessed:
    incident: AsbIncident
    qualifies: bool
    reason: str | None  # why not


def victim_incidents(user: User, person_id: int) -> list[AsbIncident]:
    """The person's ASB incidents as victim that the user may see, submitted, newest first (at most 50)."""
    return list(db.session.scalars(
        sa.select(AsbIncident).join(Link, Link.entry_id == Entry.id)
        .where(Link.person_id == person_id, Link.role == LinkRole.VICTIM, Entry.status != EntryStatus.DRAFT,
               visible_entries(user))
        .order_by(Entry.occurred_at.desc(), Entry.id.desc()).limit(50)))


def recorded_in_time(occurred_at, recorded_at, months: int) -> bool:
    return to_london(recorded_at) <= add_months(to_london(occurred_at), months)


def assess(incidents, received_on: date, area: AreaRules) -> list[Assessed]:
    since = add_months(received_on, -area.window_months)
    found = []
    for incident in incidents:
        day = to_london(incident.occurred_at).date()
        if day > received_on:
            reason = "after the application was received"
        elif day < since:
            reason = f"more than {area.window_months} months before the application"
        elif not recorded_in_time(incident.occurred_at, incident.recorded_at, area.complaint_within_months):
            reason = f"reported more than {area.complaint_within_months} month(s) after the behaviour"
        else:
            reason = None
        found.append(Assessed(incident, reason is None, reason))
    return found


def not_met_reason(assessed: list[Assessed], received_on: date, area: AreaRules) -> str:
    qualifying = sum(a.qualifies for a in assessed)
    text = (f"{qualifying} qualifying complaint{'s' if qualifying != 1 else ''} about anti-social behaviour in the "
            f"{area.window_months} months before the application ({received_on:%d %B %Y}); the threshold in this "
            f"area is {area.threshold}.")
    left_out = [a.reason for a in assessed if not a.qualifies]
    if left_out:
        text += " Not counted: " + "; ".join(f"one {reason}" for reason in left_out) + "."
    return text


def overdue(today: date) -> sa.ColumnElement[bool]:
    """CaseReview.is_overdue() as SQL. Keep the two in step (a test checks)."""
    cr = CaseReview
    return sa.or_(
        (cr.state == S.RECEIVED) & (cr.threshold_due_on < today),
        cr.state.in_((S.THRESHOLD_MET, S.THRESHOLD_NOT_MET)) & cr.threshold_informed_on.is_(None)
        & (cr.threshold_due_on < today),
        (cr.state == S.THRESHOLD_MET) & (cr.review_due_on < today),
        (cr.state == S.REVIEWED) & (cr.outcome_informed_due_on < today),
        (cr.state == S.APPEALED) & (cr.appeal_due_on < today),
    )


@dataclass(frozen=True)
class ListFilter:
    state: CaseReviewState | None = None
    beat_id: int | None = None
    is_overdue: bool = False
    victim_id: int | None = None


def list_case_reviews(user: User, chosen: ListFilter, today: date, limit: int = 200) -> list[CaseReview]:
    query = sa.select(CaseReview).where(visible_case_reviews(user, CaseReview.beat_id))
    if chosen.state is not None:
        query = query.where(CaseReview.state == chosen.state)
    if chosen.beat_id is not None:
        query = query.where(CaseReview.beat_id == chosen.beat_id)
    if chosen.is_overdue:
        query = query.where(overdue(today))
    if chosen.victim_id is not None:
        query = query.where(CaseReview.victim_id == chosen.victim_id)
    return list(db.session.scalars(query.order_by(CaseReview.received_on.desc(), CaseReview.id.desc()).limit(limit)))


def visible_case_review(user: User, case_review_id: int) -> CaseReview | None:
    review = db.session.get(CaseReview, case_review_id)
    return review if review is not None and can_view_case_review(user, review) else None


@dataclass
class CaseReviewCounts:
    by_state: dict[CaseReviewState, int]
    overdue: int

    @property
    def total(self) -> int:
        return sum(self.by_state.values())

    @property
    def open(self) -> int:
        return sum(self.by_state[state] for state in OPEN_STATES)


def case_review_counts(user: User, beat_ids, today: date) -> CaseReviewCounts:
    """Applications by state and overdue, on `beat_ids` (None: every beat), that the user may see."""
    where = [visible_case_reviews(user, CaseReview.beat_id)]
    if beat_ids is not None:
        where.append(CaseReview.beat_id.in_(sorted(beat_ids)))
    rows = dict(db.session.execute(sa.select(CaseReview.state, sa.func.count()).where(*where)
                                   .group_by(CaseReview.state)).all())
    late = db.session.scalar(sa.select(sa.func.count()).select_from(CaseReview).where(*where, overdue(today)))
    return CaseReviewCounts({state: rows.get(state, 0) for state in CaseReviewState}, late or 0)


def visible_incidents(user: User, ids) -> dict[int, AsbIncident]:
    return {i.id: i for i in db.session.scalars(
        sa.select(AsbIncident).where(Entry.id.in_(sorted(ids)), visible_entries(user)))}


def people_by_id(ids) -> dict[int, Person]:
    return {p.id: p for p in db.session.scalars(sa.select(Person).where(Person.id.in_(sorted(ids))))}


@dataclass(frozen=True)
class TimelineItem:
    on: date
    text: str
    done: bool = True  # False: a step still to do, by `on`
    late: bool = False


def timeline(review: CaseReview, today: date) -> list[TimelineItem]:
    """What happened, in order, then what is still to do and by when."""
    items = [TimelineItem(review.received_on, "Application received"),
             TimelineItem(to_london(review.recorded_at).date(), f"Recorded by {review.recorded_by.display_name}")]
    if review.threshold_decided_at:
        met = review.is_threshold_met
        by = review.threshold_decided_by.display_name if review.threshold_decided_by else "the app"
        items.append(TimelineItem(to_london(review.threshold_decided_at).date(),
                                  f"Threshold {'met' if met else 'not met'}: decided by {by}"))
    if review.threshold_informed_on:
        items.append(TimelineItem(review.threshold_informed_on, "Applicant told the threshold decision"))
    if review.meeting_on:
        items.append(TimelineItem(review.meeting_on, "Review meeting held"))
    if review.outcome_recorded_at:
        items.append(TimelineItem(to_london(review.outcome_recorded_at).date(), "Outcome and recommendations agreed"))
    if review.outcome_informed_on:
        items.append(TimelineItem(review.outcome_informed_on, "Applicant told the outcome: closed"))
    if review.appeal_received_on:
        items.append(TimelineItem(review.appeal_received_on, "Appeal received"))
    if review.appeal_decided_on:
        items.append(TimelineItem(review.appeal_decided_on, f"Appeal {review.appeal_outcome.label.lower()}"))
    items.sort(key=lambda item: item.on)
    items += [TimelineItem(due, text, done=False, late=due < today) for text, due in review.due_steps()]
    return items


@dataclass
class DashboardBlock:
    """The dashboard's applications block (templates/case_reviews/_dashboard.html): counts and the rule text."""
    counts: CaseReviewCounts
    area: AreaRules  # the force's defaults (beats may differ: has_overrides)
    has_overrides: bool
    beat_id: int | None  # the one beat chosen, for the list links


def dashboard_block(user: User, beat_ids, today: date) -> DashboardBlock:
    rules = current_rules()
    one = next(iter(beat_ids)) if beat_ids is not None and len(beat_ids) == 1 else None
    return DashboardBlock(case_review_counts(user, beat_ids, today), rules.force, bool(rules.beats), one)


def visible_victim(user: User, person_id: int) -> Person | None:
    person = db.session.get(Person, person_id)
    return person if person is not None and can_view_record(user, person) else None
