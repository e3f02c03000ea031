"""Victim risk assessments (pcso/models/risk.py): the initial ones kept in step with their ASB incident, and a
supervisor's reviews. Services flush and audit (a CREATE event for each assessment); the view commits."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from .. import audit
from ..access import can_review_risk, visible_entries
from ..extensions import db
from ..models import (
    AsbIncident, AssessmentKind, AuditAction, Entry, LinkRole, Person, RiskAssessment, RiskLevel, User,
)
from ..models.risk import OUTCOME_MAX, next_review_on
from ..timeutil import to_london, utcnow


class RiskReviewRejected(ValueError):
    """A review that can't be recorded: `field` names the form field, `message` says why."""

    def __init__(self, field: str, message: str):
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")


class RiskReviewNotAllowed(PermissionError):
    """The user may not review this incident's victims (the view answers 404 or 403)."""


@dataclass(frozen=True)
class ReviewInput:
    person_id: int
    level: RiskLevel
    outcome: str


def victims_of(incident: AsbIncident) -> list[Person]:
    """The incident's victims, in the order they were named, once each."""
    found: dict[int, Person] = {}
    for item in sorted(incident.links, key=lambda link: link.position):
        if item.role == LinkRole.VICTIM and item.person is not None:
            found.setdefault(item.person.id, item.person)
    return list(found.values())


def assessments_of(incident: AsbIncident) -> list[RiskAssessment]:
    """Every assessment made on the incident, oldest first."""
    return list(db.session.scalars(sa.select(RiskAssessment).where(RiskAssessment.incident_id == incident.id)
                                   .order_by(RiskAssessment.assessed_at, RiskAssessment.id)))


def latest_assessments(person_ids, user: User | None = None) -> dict[int, RiskAssessment]:
    """Each person's latest assessment, on whichever incident it was made; with `user`, of the incidents
    they may open (another incident's risk is that incident's information: a sensitive one, a draft)."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    ranked = (sa.select(RiskAssessment.id, sa.func.row_number().over(
        partition_by=RiskAssessment.person_id,
        order_by=(RiskAssessment.assessed_at.desc(), RiskAssessment.id.desc())).label("n"))
        .where(RiskAssessment.person_id.in_(ids)))
    if user is not None:
        ranked = ranked.join(Entry, Entry.id == RiskAssessment.incident_id).where(visible_entries(user))
    ranked = ranked.subquery()
    latest = db.session.scalars(sa.select(RiskAssessment).join(ranked, ranked.c.id == RiskAssessment.id)
                                .where(ranked.c.n == 1))
    return {assessment.person_id: assessment for assessment in latest}


def record_initial_assessments(incident: AsbIncident, *, actor: User, new: bool = False) -> None:
    """Keep the incident's initial assessments in step with it: one for each victim at the incident's victim
    risk, by its author, at the time of the incident (while its author may still change it). A victim taken
    off the incident takes their initial assessment with them; reviews stay. `new`: made in this transaction,
    so it has none yet."""
    victims = {person.id for person in victims_of(incident)} if incident.victim_risk is not None else set()
    if new and not victims:
        return
    existing = {} if new else {a.person_id: a for a in db.session.scalars(sa.select(RiskAssessment).where(
        RiskAssessment.incident_id == incident.id, RiskAssessment.kind == AssessmentKind.INITIAL))}
    for person_id, assessment in existing.items():
        if person_id not in victims:
            audit.record(AuditAction.UPDATE, assessment, actor=actor, incident_id=incident.id, person_id=person_id,
                         withdrawn=True)
            db.session.delete(assessment)
    level = incident.victim_risk
    for person_id in sorted(victims):
        wanted = {"level": level, "assessed_at": incident.occurred_at, "assessed_by_id": incident.author_id,
                  "next_review_on": next_review_on(level, to_london(incident.occurred_at).date())}
        assessment = existing.get(person_id)
        if assessment is None:
            assessment = RiskAssessment(incident_id=incident.id, person_id=person_id, kind=AssessmentKind.INITIAL,
                                        **wanted)
            db.session.add(assessment)
            db.session.flush()
            audit.record(AuditAction.CREATE, assessment, actor=actor, incident_id=incident.id, person_id=person_id,
                         kind=AssessmentKind.INITIAL.value, level=level.value)
            continue
        changed = sorted(name for name, value in wanted.items() if getattr(assessment, name) != value)
        if changed:
            for name in changed:
                setattr(assessment, name, wanted[name])
            db.session.flush()
            audit.record(AuditAction.UPDATE, assessment, actor=actor, incident_id=incident.id, person_id=person_id,
                         fields=changed)


def record_risk_review(incident: AsbIncident, data: ReviewInput, *, actor: User,
                       at: datetime | None = None) -> RiskAssessment:
    """A supervisor reassesses one victim of the incident: the level now, what was done or found, and the next
    review due from that day (none at low risk). `at`: a history being loaded (never before the incident)."""
    if not can_review_risk(actor, incident):
        raise RiskReviewNotAllowed(incident.id)
    if data.person_id not in {person.id for person in victims_of(incident)}:
        raise RiskReviewRejected("person_id", "Choose one of the incident's victims")
    outcome = (data.outcome or "").strip()
    if not outcome:
        raise RiskReviewRejected("outcome", "Say what the review found or what was done")
    if len(outcome) > OUTCOME_MAX:
        raise RiskReviewRejected("outcome", f"Keep the outcome to {OUTCOME_MAX:,} characters")
    now = at or utcnow()
    if now < incident.occurred_at or now > utcnow():
        raise RiskReviewRejected("assessed_at", "A review can't come before the incident, or after now")
    assessment = RiskAssessment(incident_id=incident.id, person_id=data.person_id, kind=AssessmentKind.REVIEW,
                                level=data.level, assessed_by_id=actor.id, assessed_at=now, outcome=outcome,
                                next_review_on=next_review_on(data.level, to_london(now).date()))
    db.session.add(assessment)
    db.session.flush()
    audit.record(AuditAction.CREATE, assessment, actor=actor, incident_id=incident.id, person_id=data.person_id,
                 kind=AssessmentKind.REVIEW.value, level=data.level.value)
    return assessment
