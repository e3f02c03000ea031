"""Patrols: started on the phone, ended later; entries logged meanwhile belong to them."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .entry import Entry, EntryKind
from .types import UTCDateTime, enum_type


class PatrolMode(StrEnum):
    FOOT = "foot"
    CYCLE = "cycle"
    VEHICLE = "vehicle"

    @property
    def label(self) -> str:
        return self.value.title()


class Patrol(Entry):
    __tablename__ = "patrol"

    id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mode: Mapped[PatrolMode] = mapped_column(enum_type(PatrolMode))
    purpose: Mapped[str] = mapped_column(sa.String(200))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    # Started from a patrol suggestion shown to its author (pcso/patrol_plans), or None.
    suggestion_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("patrol_suggestion.id", ondelete="SET NULL"), index=True)

    __mapper_args__ = {"polymorphic_identity": EntryKind.PATROL, "inherit_condition": id == Entry.id}

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def duration_minutes(self) -> int | None:
        if self.ended_at is None:
            return None
        return int((self.ended_at - self.started_at).total_seconds() // 60)
