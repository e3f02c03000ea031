"""ASB incidents, recorded to NSIR 2011 with the standard sub-types."""
from __future__ import annotations

import re
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .entry import Entry, EntryKind
from .types import enum_type


class NsirCategory(StrEnum):
    PERSONAL = "personal"
    NUISANCE = "nuisance"
    ENVIRONMENTAL = "environmental"

    @property
    def label(self) -> str:
        return self.value.title()

    @property
    def hint(self) -> str:
        return {
            "personal": "Targeted at or impacting an individual or group",
            "nuisance": "Trouble or annoyance to the community at large",
            "environmental": "Impact on surroundings: natural, built, social",
        }[self.value]


class AsbType(StrEnum):
    ABANDONED_VEHICLE = "abandoned_vehicle"
    ANIMAL_PROBLEMS = "animal_problems"
    BEGGING_VAGRANCY = "begging_vagrancy"
    HOAX_CALLS = "hoax_calls"
    FIREWORKS = "fireworks"
    MALICIOUS_COMMUNICATIONS = "malicious_communications"
    NOISE = "noise"
    PROSTITUTION = "prostitution"
    LITTERING_DRUGS = "littering_drugs"
    NUISANCE_NEIGHBOURS = "nuisance_neighbours"
    ROWDY_BEHAVIOUR = "rowdy_behaviour"
    STREET_DRINKING = "street_drinking"
    SOLVENT_MISUSE = "solvent_misuse"
    TRESPASS = "trespass"
    VEHICLE_NUISANCE = "vehicle_nuisance"

    @property
    def label(self) -> str:
        return ASB_TYPE_LABELS[self]


ASB_TYPE_LABELS = {
    AsbType.ABANDONED_VEHICLE: "Abandoned vehicle",
    AsbType.ANIMAL_PROBLEMS: "Animal problems",
    AsbType.BEGGING_VAGRANCY: "Begging / vagrancy",
    AsbType.HOAX_CALLS: "Hoax calls to emergency services",
    AsbType.FIREWORKS: "Fireworks (sale, use, possession)",
    AsbType.MALICIOUS_COMMUNICATIONS: "Malicious / nuisance communications",
    AsbType.NOISE: "Noise",
    AsbType.PROSTITUTION: "Prostitution-related activity",
    AsbType.LITTERING_DRUGS: "Littering / drug paraphernalia",
    AsbType.NUISANCE_NEIGHBOURS: "Nuisance neighbours",
    AsbType.ROWDY_BEHAVIOUR: "Rowdy or inconsiderate behaviour",
    AsbType.STREET_DRINKING: "Street drinking",
    AsbType.SOLVENT_MISUSE: "Solvent misuse",
    AsbType.TRESPASS: "Trespass",
    AsbType.VEHICLE_NUISANCE: "Vehicle nuisance / inappropriate use",
}


class InvolvementRole(StrEnum):
    VICTIM = "victim"
    REPORTER = "reporter"
    WITNESS = "witness"
    SUSPECT = "suspect"

    @property
    def label(self) -> str:
        return self.value.title()


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def label(self) -> str:
        return self.value.title()


VRM_ALLOWED = re.compile(r"^[A-Z0-9]{2,8}$")


def normalise_vrm(text: str) -> str:
    """'ab12 cde' -> 'AB12CDE': upper case, no spaces or punctuation."""
    return re.sub(r"[^A-Za-z0-9]", "", text or "").upper()


class AsbIncident(Entry):
    __tablename__ = "asb_incident"

    id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), primary_key=True)
    nsir_category: Mapped[NsirCategory] = mapped_column(enum_type(NsirCategory))
    asb_type: Mapped[AsbType] = mapped_column(enum_type(AsbType))
    description: Mapped[str] = mapped_column(sa.Text)
    action_taken: Mapped[str | None] = mapped_column(sa.Text)
    control_room_ref: Mapped[str | None] = mapped_column(sa.String(40))
    victim_risk: Mapped[RiskLevel | None] = mapped_column(enum_type(RiskLevel))

    __mapper_args__ = {"polymorphic_identity": EntryKind.ASB_INCIDENT}
