"""Welfare checks on children at risk of exploitation. Always OFFICIAL-SENSITIVE."""
from __future__ import annotations

from datetime import date
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .asb import RiskLevel
from .entry import Entry, EntryKind
from .types import enum_type
from .user import User


class WelfareVisitType(StrEnum):
    PLANNED = "planned"
    AD_HOC = "ad_hoc"
    AFTER_MISSING = "after_missing"

    @property
    def label(self) -> str:
        return {"planned": "Planned", "ad_hoc": "Ad hoc", "after_missing": "After a missing episode"}[self.value]


class ExploitationIndicator(StrEnum):
    NEW_PHONE = "new_phone"
    MONEY_OR_CLOTHES = "money_or_clothes"
    OLDER_ASSOCIATES = "older_associates"
    UNEXPLAINED_TRAVEL = "unexplained_travel"
    DRUGS = "drugs"
    INJURIES = "injuries"
    MISSING_SINCE_LAST_VISIT = "missing_since_last_visit"
    SCHOOL_ATTENDANCE = "school_attendance"

    @property
    def label(self) -> str:
        return {
            "new_phone": "New phone",
            "money_or_clothes": "Unexplained money or clothes",
            "older_associates": "Older associates",
            "unexplained_travel": "Unexplained travel",
            "drugs": "Drugs",
            "injuries": "Injuries",
            "missing_since_last_visit": "Missing since last visit",
            "school_attendance": "Poor school attendance",
        }[self.value]


class WelfareCheck(Entry):
    __tablename__ = "welfare_check"

    id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), primary_key=True)
    spoc_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    visit_type: Mapped[WelfareVisitType] = mapped_column(enum_type(WelfareVisitType))
    is_seen_alone: Mapped[bool]
    others_present: Mapped[str | None] = mapped_column(sa.String(200))
    child_words: Mapped[str | None] = mapped_column(sa.Text)
    observations: Mapped[str | None] = mapped_column(sa.Text)
    indicators: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    risk_level: Mapped[RiskLevel] = mapped_column(enum_type(RiskLevel))
    is_intelligence_raised: Mapped[bool] = mapped_column(default=False)
    is_mash_referral: Mapped[bool] = mapped_column(default=False)
    mash_reference: Mapped[str | None] = mapped_column(sa.String(40))
    is_partner_informed: Mapped[bool] = mapped_column(default=False)
    next_visit_on: Mapped[date | None]

    spoc: Mapped[User] = relationship(foreign_keys=[spoc_id])

    __mapper_args__ = {"polymorphic_identity": EntryKind.WELFARE_CHECK}

    @property
    def child(self):
        """The child visited: the Person linked as the check's subject."""
        return next((link.person for link in self.links if link.role == "subject" and link.person_id), None)

    @property
    def indicator_labels(self) -> list[str]:
        known = {i.value: i.label for i in ExploitationIndicator}
        return [known.get(value, value) for value in self.indicators or []]
