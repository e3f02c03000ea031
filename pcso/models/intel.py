"""Intelligence reports, graded 3x5x2 (College of Policing APP)."""
from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .entry import Entry, EntryKind
from .types import enum_type


class SourceEvaluation(StrEnum):
    RELIABLE = "1"
    UNTESTED = "2"
    NOT_RELIABLE = "3"

    @property
    def label(self) -> str:
        return {"1": "1: Reliable", "2": "2: Untested", "3": "3: Not reliable"}[self.value]


class IntelAssessment(StrEnum):
    KNOWN_DIRECTLY = "A"
    CORROBORATED = "B"
    KNOWN_INDIRECTLY = "C"
    NOT_KNOWN = "D"
    SUSPECTED_FALSE = "E"

    @property
    def label(self) -> str:
        return {
            "A": "A: Known directly to the source",
            "B": "B: Known indirectly to the source but corroborated",
            "C": "C: Known indirectly to the source",
            "D": "D: Not known",
            "E": "E: Suspected to be false or malicious",
        }[self.value]


class HandlingCode(StrEnum):
    PERMITTED = "P"
    CONDITIONS = "C"

    @property
    def label(self) -> str:
        return {"P": "P: Lawful sharing permitted",
                "C": "C: Lawful sharing permitted with conditions"}[self.value]


class IntelligenceReport(Entry):
    __tablename__ = "intelligence_report"
    __table_args__ = (
        sa.CheckConstraint("handling_code != 'C' OR handling_conditions IS NOT NULL", name="conditions_for_c"),
    )

    id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), primary_key=True)
    source_evaluation: Mapped[SourceEvaluation] = mapped_column(enum_type(SourceEvaluation, length=1))
    assessment: Mapped[IntelAssessment] = mapped_column(enum_type(IntelAssessment, length=1))
    handling_code: Mapped[HandlingCode] = mapped_column(enum_type(HandlingCode, length=1))
    handling_conditions: Mapped[str | None] = mapped_column(sa.Text)
    sanitised_text: Mapped[str] = mapped_column(sa.Text)
    # Who the source is and how they know: supervisors and analysts only (access.can_view_source).
    source_details: Mapped[str | None] = mapped_column(sa.Text)
    raised_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entry.id", ondelete="SET NULL"), index=True)

    __mapper_args__ = {"polymorphic_identity": EntryKind.INTELLIGENCE_REPORT, "inherit_condition": id == Entry.id}

    @property
    def grading(self) -> str:
        return f"{self.source_evaluation.value} / {self.assessment.value} / {self.handling_code.value}"
