"""data.police.uk street-level crimes: a context layer, kept apart from the force's own entries."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .beat import Beat
from .types import UTCDateTime


class StreetCrime(db.Model):
    """One row of a monthly street-level crime file, placed on the beat its snap point falls in.

    `row_key` makes an import idempotent: the Crime ID where there is one, otherwise (anti-social
    behaviour rows have none) a digest of the row and its occurrence number among identical rows.
    """

    __tablename__ = "street_crime"
    __table_args__ = (sa.Index("ix_street_crime_beat_month", "beat_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    row_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    crime_id: Mapped[str | None] = mapped_column(sa.String(64))
    month: Mapped[date]  # the first day of the month the file covers
    reported_by: Mapped[str] = mapped_column(sa.String(120))
    falls_within: Mapped[str] = mapped_column(sa.String(120))
    lat: Mapped[float]
    lon: Mapped[float]
    location: Mapped[str | None] = mapped_column(sa.String(200))
    lsoa_code: Mapped[str | None] = mapped_column(sa.String(16))
    lsoa_name: Mapped[str | None] = mapped_column(sa.String(120))
    crime_type: Mapped[str] = mapped_column(sa.String(80))
    last_outcome: Mapped[str | None] = mapped_column(sa.String(200))
    context: Mapped[str | None] = mapped_column(sa.Text)
    beat_id: Mapped[int] = mapped_column(sa.ForeignKey("beat.id", ondelete="CASCADE"))
    source_file: Mapped[str] = mapped_column(sa.String(200))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    beat: Mapped[Beat] = relationship()

    @property
    def is_asb(self) -> bool:
        return self.crime_type == "Anti-social behaviour"
