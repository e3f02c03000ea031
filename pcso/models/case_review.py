"""ASB Case Review applications (the "community trigger", ASB, Crime and Policing Act 2014 s.104, Schedule 4).

One CaseReview per application: who applied (the victim, or someone on their behalf), when, for which beat,
the incidents it counts (CaseReviewIncident, each with whether it qualified when recorded), the threshold
decision and when the applicant was told, the review (meeting, agencies, outcome, recommendations with owner
and status), when the applicant was told the outcome, and an appeal (escalation) if any. Due dates are set
from the area's timescales in working days (pcso/case_reviews/rules.py) when each step starts.

States, in order: received -> threshold_met | threshold_not_met; threshold_met -> reviewed (outcome agreed)
-> closed (applicant told the outcome). threshold_not_met or closed -> appealed -> closed, or threshold_met
when an appeal against the threshold decision is upheld.
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .beat import Beat
from .pole import Person
from .types import UTCDateTime, enum_type
from .user import User

TEXT_MAX = 2000
NAME_MAX = 120


class CaseReviewState(StrEnum):
    RECEIVED = "received"
    THRESHOLD_NOT_MET = "threshold_not_met"
    THRESHOLD_MET = "threshold_met"
    REVIEWED = "reviewed"
    CLOSED = "closed"
    APPEALED = "appealed"

    @property
    def label(self) -> str:
        return {"received": "Received: threshold decision due", "threshold_not_met": "Threshold not met",
                "threshold_met": "Threshold met: review due", "reviewed": "Outcome agreed: applicant to be told",
                "closed": "Closed", "appealed": "Appeal received"}[self.value]


class ApplicantType(StrEnum):
    VICTIM = "victim"
    ON_BEHALF = "on_behalf"

    @property
    def label(self) -> str:
        return {"victim": "The victim", "on_behalf": "Someone on the victim's behalf"}[self.value]


class RecommendationStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NOT_ACCEPTED = "not_accepted"

    @property
    def label(self) -> str:
        return {"open": "Open", "in_progress": "In progress", "done": "Done",
                "not_accepted": "Not accepted"}[self.value]


class AppealOutcome(StrEnum):
    UPHELD = "upheld"
    NOT_UPHELD = "not_upheld"

    @property
    def label(self) -> str:
        return {"upheld": "Upheld", "not_upheld": "Not upheld"}[self.value]


class CaseReview(db.Model):
    __tablename__ = "case_review"
    __table_args__ = (
        sa.Index("ix_case_review_beat_state", "beat_id", "state"),
        sa.CheckConstraint("applicant_type = 'victim' OR applicant_name IS NOT NULL", name="applicant_named"),
        sa.CheckConstraint("threshold BETWEEN 1 AND 3", name="threshold_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    victim_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    applicant_type: Mapped[ApplicantType] = mapped_column(enum_type(ApplicantType))
    applicant_name: Mapped[str | None] = mapped_column(sa.String(NAME_MAX))
    applicant_relationship: Mapped[str | None] = mapped_column(sa.String(NAME_MAX))
    beat_id: Mapped[int] = mapped_column(sa.ForeignKey("beat.id"))
    received_on: Mapped[date]
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[CaseReviewState] = mapped_column(enum_type(CaseReviewState), index=True)
    threshold: Mapped[int]  # the area's threshold when recorded
    qualifying: Mapped[int]  # how many of the incidents qualified when recorded
    threshold_due_on: Mapped[date]
    is_threshold_met: Mapped[bool | None]  # the threshold decision (None: not yet decided)
    threshold_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    threshold_decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    threshold_reason: Mapped[str | None] = mapped_column(sa.Text)  # told to the applicant
    threshold_informed_on: Mapped[date | None]
    review_due_on: Mapped[date | None]
    meeting_on: Mapped[date | None]
    agencies: Mapped[str | None] = mapped_column(sa.Text)
    outcome: Mapped[str | None] = mapped_column(sa.Text)
    outcome_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome_recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    outcome_informed_due_on: Mapped[date | None]
    outcome_informed_on: Mapped[date | None]
    appeal_received_on: Mapped[date | None]
    appeal_grounds: Mapped[str | None] = mapped_column(sa.Text)
    appeal_due_on: Mapped[date | None]
    appeal_outcome: Mapped[AppealOutcome | None] = mapped_column(enum_type(AppealOutcome))
    appeal_decided_on: Mapped[date | None]
    appeal_note: Mapped[str | None] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    victim: Mapped[Person] = relationship()
    beat: Mapped[Beat] = relationship()
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    threshold_decided_by: Mapped[User | None] = relationship(foreign_keys=[threshold_decided_by_id])
    outcome_recorded_by: Mapped[User | None] = relationship(foreign_keys=[outcome_recorded_by_id])
    incidents: Mapped[list[CaseReviewIncident]] = relationship(
        back_populates="case_review", cascade="all, delete-orphan", order_by="CaseReviewIncident.entry_id")
    recommendations: Mapped[list[CaseReviewRecommendation]] = relationship(
        back_populates="case_review", cascade="all, delete-orphan", order_by="CaseReviewRecommendation.id")

    def due_steps(self) -> list[tuple[str, date]]:
        """The steps still to do and when each is due. Keep in step with pcso/case_reviews/queries.py overdue()."""
        steps = []
        if self.state == CaseReviewState.RECEIVED:
            steps.append(("Threshold decision, told to the applicant", self.threshold_due_on))
        elif (self.state in (CaseReviewState.THRESHOLD_MET, CaseReviewState.THRESHOLD_NOT_MET)
              and self.threshold_informed_on is None):
            steps.append(("Tell the applicant the threshold decision", self.threshold_due_on))
        if self.state == CaseReviewState.THRESHOLD_MET and self.review_due_on:
            steps.append(("Review held and outcome agreed", self.review_due_on))
        if self.state == CaseReviewState.REVIEWED and self.outcome_informed_due_on:
            steps.append(("Tell the applicant the outcome and recommendations", self.outcome_informed_due_on))
        if self.state == CaseReviewState.APPEALED and self.appeal_due_on:
            steps.append(("Appeal decided", self.appeal_due_on))
        return steps

    def is_overdue(self, today: date) -> bool:
        return any(due < today for _, due in self.due_steps())

    def __repr__(self) -> str:
        return f"<CaseReview {self.id} {self.state}>"


class CaseReviewIncident(db.Model):
    """An ASB incident the application counts (a complaint), and whether it qualified when recorded."""
    __tablename__ = "case_review_incident"

    case_review_id: Mapped[int] = mapped_column(sa.ForeignKey("case_review.id", ondelete="CASCADE"),
                                                primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), primary_key=True, index=True)
    qualifies: Mapped[bool]
    reason: Mapped[str | None] = mapped_column(sa.String(200))  # why not, when it doesn't

    case_review: Mapped[CaseReview] = relationship(back_populates="incidents")


class CaseReviewRecommendation(db.Model):
    __tablename__ = "case_review_recommendation"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_review_id: Mapped[int] = mapped_column(sa.ForeignKey("case_review.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    owner: Mapped[str] = mapped_column(sa.String(NAME_MAX))  # the agency or officer who owns it
    status: Mapped[RecommendationStatus] = mapped_column(enum_type(RecommendationStatus))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    case_review: Mapped[CaseReview] = relationship(back_populates="recommendations")
