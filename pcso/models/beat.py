"""Beats: the neighbourhood polygons entries belong to."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime
from .user import User, beat_assignment


class Beat(db.Model):
    __tablename__ = "beat"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    district: Mapped[str | None] = mapped_column(sa.String(120))
    boundary: Mapped[dict[str, Any]] = mapped_column(sa.JSON)  # GeoJSON geometry, lon/lat
    min_lat: Mapped[float]
    min_lon: Mapped[float]
    max_lat: Mapped[float]
    max_lon: Mapped[float]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    officers: Mapped[list[User]] = relationship(
        secondary=beat_assignment, back_populates="beats", order_by=User.display_name
    )

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})"

    def __repr__(self) -> str:
        return f"<Beat {self.code}>"


class BeatIndexVersion(db.Model):
    """One row (id 1): a counter bumped in the same transaction as any change to a beat's row.

    Every app server keeps its own STRtree over the beats (pcso/beats/services.py, beat_index()); each request
    reads this one row by its primary key and rebuilds the tree when the number is not the one it was built at,
    so a beat imported through one server (or by `flask beats import`) is used by every other for the next entry.
    """
    __tablename__ = "beat_index_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(sa.BigInteger, default=0)
