"""MoPI retention: each review decision, and the metadata-only tombstone a disposed-of record leaves.

A decision is retain (with a rationale and the next review date) or dispose (with a rationale, and the
safeguarding lead's note for a child-safeguarding record). A dispose decision is carried out later by
`flask retention run --apply` (carried_out_at); nothing is disposed of without one.

ErasedRecord keeps what the record was, never what it said: its type and id, the entry's kind, beat and
marking, the month it was made, who could have seen it (author and SPOC ids, whether it was a draft) so
its pages answer 410 to them and 404 to others, when it was erased and under which decision. No names,
no text. `pending_files` holds the random storage keys of photo files still to delete after the commit.
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .entry import EntryKind, SecurityMarking
from .types import UTCDateTime, enum_type
from .user import User


class RetentionDecisionType(StrEnum):
    RETAIN = "retain"
    DISPOSE = "dispose"

    @property
    def label(self) -> str:
        return self.value.title()


class RetentionDecision(db.Model):
    __tablename__ = "retention_decision"
    __table_args__ = (
        sa.Index("ix_retention_decision_record", "record_type", "record_id", "decided_at"),
        sa.CheckConstraint("decision != 'retain' OR next_review IS NOT NULL", name="retain_has_next_review"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(sa.String(20))  # entry, person, vehicle, location, organisation
    record_id: Mapped[int]
    decision: Mapped[RetentionDecisionType] = mapped_column(enum_type(RetentionDecisionType, 16))
    rule: Mapped[str] = mapped_column(sa.String(60))  # the rule's name when decided
    mopi_group: Mapped[str] = mapped_column(sa.String(2))
    rationale: Mapped[str] = mapped_column(sa.Text)
    safeguarding_note: Mapped[str | None] = mapped_column(sa.Text)
    next_review: Mapped[date | None]
    decided_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    carried_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    decided_by: Mapped[User] = relationship()


class ErasedRecord(db.Model):
    __tablename__ = "erased_record"
    __table_args__ = (sa.UniqueConstraint("record_type", "record_id", name="uq_erased_record_type_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(sa.String(20))
    record_id: Mapped[int]
    kind: Mapped[EntryKind | None] = mapped_column(enum_type(EntryKind))
    beat_id: Mapped[int | None] = mapped_column(sa.ForeignKey("beat.id"))
    marking: Mapped[SecurityMarking | None] = mapped_column(enum_type(SecurityMarking))
    created_month: Mapped[str] = mapped_column(sa.String(7))  # 2019-04
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    spoc_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    was_draft: Mapped[bool] = mapped_column(default=False)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decision_id: Mapped[int] = mapped_column(sa.ForeignKey("retention_decision.id"))
    pending_files: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
