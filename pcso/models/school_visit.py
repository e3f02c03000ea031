"""School visits: talks, assemblies, drop-ins and meetings."""
from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .entry import Entry, EntryKind
from .school import School
from .types import enum_type


class SchoolVisitType(StrEnum):
    TALK = "talk"
    ASSEMBLY = "assembly"
    DROP_IN = "drop_in"
    MEETING = "meeting"

    @property
    def label(self) -> str:
        return self.value.replace("_", "-").title()


class SchoolVisit(Entry):
    __tablename__ = "school_visit"

    id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), primary_key=True)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("school.id"), index=True)
    visit_type: Mapped[SchoolVisitType] = mapped_column(enum_type(SchoolVisitType))
    topic: Mapped[str] = mapped_column(sa.String(200))
    year_groups: Mapped[str | None] = mapped_column(sa.String(100))
    audience_size: Mapped[int | None]
    follow_ups: Mapped[str | None] = mapped_column(sa.Text)

    school: Mapped[School] = relationship()

    __mapper_args__ = {"polymorphic_identity": EntryKind.SCHOOL_VISIT}
