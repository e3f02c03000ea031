"""Victim risk assessments on ASB incidents: the initial one made with the incident, then a supervisor's reviews.

DOMAIN.md: a vulnerable victim is one assessed medium or high risk; medium gets a supervisor review every
28 days, high every 14. Each assessment is a record of its own (who, when, the level, the outcome) with the
date its next review is due (none at low risk, the app's name for "standard"). A victim's latest
assessment decides whether a review is due, and they stay due until someone records one.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .asb import AsbIncident, RiskLevel
from .pole import Person
from .types import UTCDateTime, enum_type
from .user import User

REVIEW_EVERY_DAYS = {RiskLevel.HIGH: 14, RiskLevel.MEDIUM: 28}  # low ("standard"): no review scheduled
OUTCOME_MAX = 2000


class AssessmentKind(StrEnum):
    INITIAL = "initial"  # made with the incident, at its risk level
    REVIEW = "review"  # a supervisor's reassessment

    @property
    def label(self) -> str:
        return {"initial": "Initial assessment", "review": "Review"}[self.value]


def next_review_on(level: RiskLevel, assessed_on: date) -> date | None:
    days = REVIEW_EVERY_DAYS.get(level)
    return assessed_on + timedelta(days=days) if days else None


class RiskAssessment(db.Model):
    __tablename__ = "risk_assessment"
    __table_args__ = (
        # a victim's latest assessment: by person, newest first
        sa.Index("ix_risk_assessment_person_assessed", "person_id", "assessed_at"),
        sa.CheckConstraint("outcome IS NULL OR length(outcome) <= 2000", name="outcome_length"),
        sa.CheckConstraint("(level = 'low') = (next_review_on IS NULL)", name="next_review_by_level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(sa.ForeignKey("asb_incident.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"))
    kind: Mapped[AssessmentKind] = mapped_column(enum_type(AssessmentKind))
    level: Mapped[RiskLevel] = mapped_column(enum_type(RiskLevel))
    assessed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(sa.Text)
    next_review_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    incident: Mapped[AsbIncident] = relationship()
    person: Mapped[Person] = relationship()
    assessed_by: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<RiskAssessment {self.id} {self.kind} {self.level}>"
