"""Beat priorities (data.police.uk's shape) and the shifts a briefing counts from."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .beat import Beat
from .types import UTCDateTime
from .user import User


class BeatPriority(db.Model):
    """A neighbourhood priority set by supervisors: issue, issue date, action, action date.

    The same four fields as data.police.uk's /{force}/{neighbourhood}/priorities. A priority is
    current until it is closed; closed ones are kept for the record.
    """

    __tablename__ = "beat_priority"
    __table_args__ = (sa.Index("ix_beat_priority_beat_closed", "beat_id", "closed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    beat_id: Mapped[int] = mapped_column(sa.ForeignKey("beat.id", ondelete="CASCADE"))
    issue: Mapped[str] = mapped_column(sa.Text)
    issue_date: Mapped[date]
    action: Mapped[str | None] = mapped_column(sa.Text)
    action_date: Mapped[date | None]
    set_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    beat: Mapped[Beat] = relationship()
    set_by: Mapped[User] = relationship()

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class Shift(db.Model):
    """An officer booked on duty. The briefing covers what happened since the previous shift."""

    __tablename__ = "shift"
    __table_args__ = (sa.Index("ix_shift_user_started", "user_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
