"""A supervisor's review of a submitted entry: approved, or returned to its author with a comment."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .entry import Entry
from .types import UTCDateTime, enum_type
from .user import User


class ReviewDecision(StrEnum):
    APPROVED = "approved"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return {"approved": "Approved", "returned": "Returned for correction"}[self.value]


class EntryReview(db.Model):
    """One decision on one submission. An entry returned and resubmitted has several."""

    __tablename__ = "entry_review"
    __table_args__ = (
        sa.CheckConstraint("decision != 'returned' OR comment IS NOT NULL", name="comment_when_returned"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decision: Mapped[ReviewDecision] = mapped_column(enum_type(ReviewDecision))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the submission this decides
    grading: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)  # intelligence: the grade given, if changed

    entry: Mapped[Entry] = relationship(back_populates="reviews")
    reviewer: Mapped[User] = relationship()
