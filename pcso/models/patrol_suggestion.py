"""A patrol suggestion as it was shown: where, when, to whom, why (pcso/patrol_plans).

A row is kept for every suggestion an officer was shown (one per officer, London day and place-and-window),
so the dashboard can measure honestly: the places suggested and not patrolled count as much as the ones that
were. A patrol started from one points at it (patrol.suggestion_id).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .beat import Beat
from .types import UTCDateTime
from .user import User


class PatrolSuggestion(db.Model):
    __tablename__ = "patrol_suggestion"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "suggested_on", "key", name="uq_patrol_suggestion_user_day_key"),
        sa.Index("ix_patrol_suggestion_beat_on", "beat_id", "suggested_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    beat_id: Mapped[int] = mapped_column(sa.ForeignKey("beat.id", ondelete="CASCADE"))
    suggested_on: Mapped[date]  # the London day it was shown
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    key: Mapped[str] = mapped_column(sa.String(80))  # beat, grid cell and window: the same place-and-time
    rank: Mapped[int]
    score: Mapped[float]
    lat: Mapped[float]
    lon: Mapped[float]
    radius_m: Mapped[float]
    postcode: Mapped[str | None] = mapped_column(sa.String(10))
    days: Mapped[str] = mapped_column(sa.String(20))  # ISO weekdays, "5,6" = Fri-Sat
    hour_from: Mapped[int]  # London hour the window starts, on each of `days`
    hours: Mapped[int]  # its length (it may run past midnight)
    reason: Mapped[str] = mapped_column(sa.String(300))
    # What it was worked out from: counts by source, the method's parameters, the entry ids (bounded).
    basis: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    user: Mapped[User] = relationship()
    beat: Mapped[Beat] = relationship()

    @property
    def weekdays(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.days.split(",") if d)
