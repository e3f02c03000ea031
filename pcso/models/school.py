"""Schools and colleges, imported from the DfE GIAS extract."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .beat import Beat


class School(db.Model):
    __tablename__ = "school"

    id: Mapped[int] = mapped_column(primary_key=True)
    urn: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    school_type: Mapped[str | None] = mapped_column(sa.String(120))
    age_range: Mapped[str | None] = mapped_column(sa.String(16))
    postcode: Mapped[str | None] = mapped_column(sa.String(10))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    beat_id: Mapped[int | None] = mapped_column(sa.ForeignKey("beat.id"), index=True)

    beat: Mapped[Beat | None] = relationship()

    def __repr__(self) -> str:
        return f"<School {self.urn} {self.name}>"
