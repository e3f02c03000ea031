"""Dashboard victims (Person linked as victim to an ASB incident):

- risk review due: the victim's latest risk assessment (pcso/models/risk.py: the initial one made with an
  incident, or a supervisor's review) set a next review date that has come: 14 days after a high, 28 after
  a medium assessment. They stay due, however long ago, until someone records a review; a supervisor's
  approval of the incident is not one;
- repeat victim: 3 or more incidents of the same ASB type (the standard type, not the broad NSIR
  category, which puts nearly every incident with a victim under "personal") in the last 3 months;
- ASB Case Review: the area's threshold of complaints (default 3) in its window (default the last 6 months),
  each recorded within its time (default one calendar month) of the incident (s.104 ASB, Crime and Policing
  Act 2014; the local threshold is never higher than 3). The area is the beat of the victim's latest incident;
  thresholds and windows per beat or for the force come from pcso/data/case_review.toml
  (pcso/case_reviews/rules.py). The applications themselves: pcso/case_reviews/queries.py.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from ..access import visible_case_reviews
from ..extensions import db
from ..models import (
    AsbType, AssessmentKind, CaseReview, CaseReviewState, Entry, EntryKind, EntryStatus, LinkRole, Person,
    RiskAssessment, RiskLevel, User,
)
from ..case_reviews.rules import beat_codes, current_rules
from ..timeutil import london_day_start, to_london
from .scope import ASB, ENTRY, LINK, Scope, add_months, aware, counted, every_beat, list_url, within_a_month

REPEAT_MONTHS, REPEAT_AT_LEAST = 3, 3
OPEN_APPLICATION = {CaseReviewState.RECEIVED, CaseReviewState.THRESHOLD_MET, CaseReviewState.REVIEWED,
                    CaseReviewState.APPEALED}


@dataclass
class VictimIncident:
    entry_id: int
    beat_id: int
    occurred_at: datetime
    recorded_at: datetime
    asb_type: AsbType
    risk: RiskLevel | None


@dataclass
class Victim:
    person_id: int
    incidents: list[VictimIncident]  # the ones behind the figure, oldest first, every beat
    detail: dict = field(default_factory=dict)
    person: Person | None = None
    on_beats: int = 0  # how many of `incidents` are on the chosen beats
    url: str = ""


def _asb_details(ids) -> dict[int, tuple[str, str | None]]:
    """(ASB type, victim risk) of the given incidents, by id, in chunks of bound parameters."""
    ids, details = sorted(ids), {}
    for start in range(0, len(ids), 5000):
        details.update((entry_id, (asb_type, risk)) for entry_id, asb_type, risk in db.session.execute(
            sa.select(ASB.c.id, ASB.c.asb_type, ASB.c.victim_risk).where(ASB.c.id.in_(ids[start:start + 5000]))))
    return details


def _victim_rows(user: User, beat_ids, since: datetime, at_least: int = 1) -> dict[int, list[VictimIncident]]:
    """Visible, submitted ASB incidents since `since`, by victim. With beats: victims seen on them.

    With `at_least`, only victims with that many incidents (repeat victims and the Case Review both need
    three). Most victims have one incident, so this keeps a few hundred of the 11,600 victims of six
    months at a million entries, and the ASB columns are read for those alone.

    Steps: the victims' incidents (entry and link, from indexes alone), their access rule and times, then the
    ASB columns of just the incidents needed. Joined in one statement, SQLite probed asb_incident for every
    incident in the window.
    """
    victims = sa.and_(LINK.c.role == LinkRole.VICTIM.value, LINK.c.person_id.is_not(None))
    joined = ENTRY.join(LINK, LINK.c.entry_id == ENTRY.c.id)
    in_window = (Entry.kind == EntryKind.ASB_INCIDENT, Entry.occurred_at >= since, Entry.beat_id.in_(every_beat()))
    # First the (victim, incident) pairs from two covering indexes alone, (kind, beat_id, occurred_at) and
    # link (entry_id, role, person_id): six months of ASB incidents are 67,000 rows at a million entries and
    # only 12,000 have a victim, so reading every incident's row for the access rule cost 150 ms more.
    pairs = sa.select(LINK.c.person_id, Entry.id).select_from(joined).where(victims, *in_window)
    if beat_ids is not None:
        seen_on_beats = (sa.select(LINK.c.person_id).select_from(joined)
                         .where(victims, Entry.kind == EntryKind.ASB_INCIDENT, Entry.occurred_at >= since,
                                counted(user, beat_ids)))
        pairs = pairs.where(LINK.c.person_id.in_(sorted(set(db.session.scalars(seen_on_beats)))))  # a list: see above
    grouped: dict[int, dict[int, tuple]] = defaultdict(dict)
    details: dict[int, tuple[str, str | None]] = {}
    if db.engine.dialect.name == "postgresql":
        # PostgreSQL hash-joins the lot in one statement (120 ms at a million entries); the SQLite steps
        # below, with their lists of 5,000 ids, took 350 ms there. Only the rows of victims with `at_least`
        # incidents come back (a window count): turning all 12,000 into Python objects cost 200 ms.
        joined_rows = (pairs.join_from(ENTRY, ASB, ASB.c.id == ENTRY.c.id)
                       .with_only_columns(LINK.c.person_id, Entry.id, Entry.beat_id,
                                          sa.type_coerce(Entry.occurred_at, sa.String).label("occurred"),
                                          sa.type_coerce(Entry.recorded_at, sa.String).label("recorded"),
                                          ASB.c.asb_type, ASB.c.victim_risk,
                                          sa.func.count().over(partition_by=LINK.c.person_id).label("n"))
                       .where(counted(user, every_beat())).subquery("victim_rows"))
        for person_id, entry_id, beat_id, occurred_at, recorded_at, asb_type, risk in db.session.execute(
                sa.select(*[c for c in joined_rows.c if c.key != "n"]).where(joined_rows.c.n >= at_least)).tuples():
            grouped[person_id][entry_id] = (beat_id, aware(occurred_at), aware(recorded_at))
            details[entry_id] = (asb_type, risk)
    else:
        people_of: dict[int, list[int]] = defaultdict(list)
        found_pairs = db.session.execute(pairs).tuples().all()
        incidents_of: dict[int, int] = defaultdict(int)
        for person_id, _ in found_pairs:
            incidents_of[person_id] += 1
        for person_id, entry_id in found_pairs:  # only victims who could have `at_least` visible incidents
            if incidents_of[person_id] >= at_least:
                people_of[entry_id].append(person_id)
        # Then the access rule and the times for just those incidents (every beat: a victim's incidents
        # elsewhere count too). The two times raw and parsed by aware(): the column type's own parsing cost
        # 100 ms for the 24,000 values of six months.
        ids = sorted(people_of)
        for start in range(0, len(ids), 5000):
            for entry_id, beat_id, occurred_at, recorded_at in db.session.execute(
                    sa.select(Entry.id, Entry.beat_id, sa.type_coerce(Entry.occurred_at, sa.String),
                              sa.type_coerce(Entry.recorded_at, sa.String))
                    .where(Entry.id.in_(ids[start:start + 5000]), counted(user, every_beat()))):
                for person_id in people_of[entry_id]:
                    grouped[person_id][entry_id] = (beat_id, aware(occurred_at), aware(recorded_at))
    grouped = {person: rows for person, rows in grouped.items() if len(rows) >= at_least}
    details.update(_asb_details({entry_id for rows in grouped.values() for entry_id in rows} - set(details)))
    found: dict[int, list[VictimIncident]] = {}
    for person_id, rows in grouped.items():
        incidents = [VictimIncident(entry_id, beat_id, occurred_at, recorded_at, AsbType(details[entry_id][0]),
                                    RiskLevel(details[entry_id][1]) if details[entry_id][1] else None)
                     for entry_id, (beat_id, occurred_at, recorded_at) in rows.items()]
        found[person_id] = sorted(incidents, key=lambda r: (r.occurred_at, r.entry_id))
    return found


def repeat_victims(rows: dict[int, list[VictimIncident]], today: date) -> list[Victim]:
    since = london_day_start(add_months(today, -REPEAT_MONTHS))
    found = []
    for person_id, incidents in rows.items():
        by_type: dict[AsbType, list[VictimIncident]] = defaultdict(list)
        for incident in incidents:
            if incident.occurred_at >= since:
                by_type[incident.asb_type].append(incident)
        repeated = {t: items for t, items in by_type.items() if len(items) >= REPEAT_AT_LEAST}
        if repeated:
            chosen = sorted({i.entry_id: i for items in repeated.values() for i in items}.values(),
                            key=lambda i: (i.occurred_at, i.entry_id))
            found.append(Victim(person_id, chosen, {"types": {t: len(items) for t, items in repeated.items()}}))
    return found


def _in_time(incident: VictimIncident, months: int) -> bool:
    if months == 1:
        return within_a_month(incident.occurred_at, incident.recorded_at)
    return to_london(incident.recorded_at) <= add_months(to_london(incident.occurred_at), months)


def _latest_applications(user: User, person_ids) -> dict[int, tuple[CaseReviewState, date]]:
    """Each victim's latest application the user may see: (state, received on)."""
    latest: dict[int, tuple[CaseReviewState, date]] = {}
    ids = sorted(person_ids)
    for start in range(0, len(ids), 5000):
        for victim_id, state, received_on in db.session.execute(
                sa.select(CaseReview.victim_id, CaseReview.state, CaseReview.received_on)
                .where(CaseReview.victim_id.in_(ids[start:start + 5000]),
                       visible_case_reviews(user, CaseReview.beat_id))
                .order_by(CaseReview.received_on, CaseReview.id)):
            latest[victim_id] = (state, received_on)
    return latest


def case_review_victims(user: User, rows: dict[int, list[VictimIncident]], today: date) -> list[Victim]:
    """Victims who may ask for a Case Review: the area's threshold met, and not applying already (an application
    still open), nor asking again about the same complaints (after a decided one, a complaint recorded since)."""
    rules = current_rules()
    codes = beat_codes() if rules.beats else {}
    found = []
    applied = _latest_applications(user, rows)
    for person_id, incidents in rows.items():
        area = rules.for_beat(codes.get(incidents[-1].beat_id))  # the beat of the latest incident
        since = london_day_start(add_months(today, -area.window_months))
        complaints = [i for i in incidents if i.occurred_at >= since and _in_time(i, area.complaint_within_months)]
        state, received_on = applied.get(person_id, (None, None))
        if state is not None and (state in OPEN_APPLICATION or all(
                to_london(i.recorded_at).date() <= received_on for i in complaints)):
            continue
        if len(complaints) >= area.threshold:
            # qualified once the threshold's complaint was recorded
            nth = sorted(complaints, key=lambda i: i.recorded_at)[area.threshold - 1]
            found.append(Victim(person_id, complaints, {"qualified_on": to_london(nth.recorded_at).date(),
                                                        "threshold": area.threshold,
                                                        "late": len([i for i in incidents if i.occurred_at >= since])
                                                        - len(complaints)}))
    return found


def risk_reviews_due(user: User, today: date) -> list[Victim]:
    """Victims whose latest risk assessment's next review date has come (today or before), with the incident
    it was made on, if the user may see that incident. Assessments on drafts don't count (nor do they hide
    an earlier one): a draft is its author's until submitted."""
    ranked = (sa.select(RiskAssessment.id, sa.func.row_number().over(
        partition_by=RiskAssessment.person_id,
        order_by=(RiskAssessment.assessed_at.desc(), RiskAssessment.id.desc())).label("n"))
        .join(Entry, Entry.id == RiskAssessment.incident_id).where(Entry.status != EntryStatus.DRAFT).subquery())
    due = db.session.scalars(
        sa.select(RiskAssessment).join(ranked, ranked.c.id == RiskAssessment.id)
        .join(Entry, Entry.id == RiskAssessment.incident_id)
        .where(ranked.c.n == 1, RiskAssessment.next_review_on <= today, counted(user, every_beat()))).all()
    if not due:
        return []
    incidents = {entry_id: (beat_id, aware(occurred_at), aware(recorded_at), AsbType(asb_type))
                 for entry_id, beat_id, occurred_at, recorded_at, asb_type in db.session.execute(
                     sa.select(Entry.id, Entry.beat_id, Entry.occurred_at, Entry.recorded_at, ASB.c.asb_type)
                     .join(ASB, ASB.c.id == Entry.id).where(Entry.id.in_(sorted({a.incident_id for a in due}))))}
    found = []
    for assessment in due:
        beat_id, occurred_at, recorded_at, asb_type = incidents[assessment.incident_id]
        incident = VictimIncident(assessment.incident_id, beat_id, occurred_at, recorded_at, asb_type, assessment.level)
        reviewed = assessment.kind == AssessmentKind.REVIEW
        found.append(Victim(assessment.person_id, [incident], {
            "risk": assessment.level, "due_on": assessment.next_review_on,
            "last_review": assessment.assessed_at if reviewed else None}))
    return found


VICTIM_RULES = {"risk-review-due": lambda user, rows, today: risk_reviews_due(user, today),
                "repeat-victims": lambda user, rows, today: repeat_victims(rows, today),
                "case-review": case_review_victims}


def victim_rows(user: User, beat_ids, today: date) -> dict[int, list[VictimIncident]]:
    """The incidents of every victim who could be a repeat victim or ask for a Case Review (3 or more, or the
    lowest area threshold), since the longer look-back of the two."""
    rules = current_rules()
    since = london_day_start(add_months(today, -max(REPEAT_MONTHS, rules.longest_window_months)))
    return _victim_rows(user, beat_ids, since, min(REPEAT_AT_LEAST, rules.lowest_threshold))


def victim_entry_ids(user: User, today: date, rule: str) -> list[int]:
    """Every beat: the incidents behind a victim figure, for the lists' `set`."""
    rows = victim_rows(user, None, today) if rule != "risk-review-due" else {}
    found = VICTIM_RULES[rule](user, rows, today)
    return sorted({i.entry_id for victim in found for i in victim.incidents})


@dataclass
class VictimFigure:
    name: str
    victims: list[Victim]
    incidents: int  # on the chosen beats: the length of the list at url
    url: str


def victim_figures(user: User, scope: Scope, *, listed: int | None = None) -> dict[str, VictimFigure]:
    """The three victim figures for the scope; the first `listed` victims of each have their Person loaded."""
    rows = victim_rows(user, scope.beat_ids, scope.today)
    figures = {}
    for name, rule in VICTIM_RULES.items():
        chosen = []
        for victim in rule(user, rows, scope.today):
            on_beats = [i for i in victim.incidents if scope.beat_ids is None or i.beat_id in scope.beat_ids]
            if not on_beats:
                continue
            victim.on_beats = len(on_beats)
            chosen.append(victim)
        incidents = {i.entry_id for v in chosen for i in v.incidents
                     if scope.beat_ids is None or i.beat_id in scope.beat_ids}
        figures[name] = VictimFigure(name, chosen, len(incidents), list_url(**scope.beat_args(), set=name))
    for figure in figures.values():
        figure.victims.sort(key=lambda v: (v.detail.get("due_on") or date.min, -len(v.incidents), v.person_id))
    named = {v.person_id for figure in figures.values() for v in figure.victims[:listed]}
    people = {p.id: p for p in db.session.scalars(sa.select(Person).where(Person.id.in_(sorted(named))))}
    for name, figure in figures.items():
        for victim in figure.victims[:listed]:  # only the victims named on the page need their person and link
            victim.person = people[victim.person_id]
            victim.url = list_url(**scope.beat_args(), set=name, person=victim.person_id)
    return figures
