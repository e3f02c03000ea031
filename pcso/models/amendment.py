"""An amendment to an approved entry: its author proposes it (the edit form and a reason), a supervisor
approves or refuses it; on approval the entry changes with a revision and stays approved."""
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


class AmendmentStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"

    @property
    def label(self) -> str:
        return {"pending": "Waiting for a supervisor", "approved": "Approved", "refused": "Refused"}[self.value]


class EntryAmendment(db.Model):
    __tablename__ = "entry_amendment"
    __table_args__ = (
        sa.CheckConstraint("status = 'pending' OR decided_by_id IS NOT NULL", name="decided_by_someone"),
        sa.CheckConstraint("decided_by_id IS NULL OR decided_by_id != author_id", name="not_own"),
        # One proposal at a time per entry: a second waits until the first is decided.
        sa.Index("uq_entry_amendment_one_pending", "entry_id", unique=True,
                 sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'")),
        sa.Index("ix_entry_amendment_status_proposed", "status", "proposed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(sa.String(1000))
    # The edit form as posted ([name, value] pairs): applied again, as its author, on approval.
    form: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)  # what it changes, as a revision does
    status: Mapped[AmendmentStatus] = mapped_column(enum_type(AmendmentStatus), default=AmendmentStatus.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    revision_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entry_revision.id", ondelete="SET NULL"))

    entry: Mapped[Entry] = relationship(back_populates="amendments")
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
