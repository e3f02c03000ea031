"""Keys that find likely matches for a typed name or registration through an index.

Kept in step with the records by a flush hook (pcso/pole/match_keys.py): whatever changes a person's names,
date of birth or age, or a vehicle's registration, through the ORM, rewrites that record's keys in the same
flush. The keys are made by pcso/pole/matching.py.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class PersonMatchKey(db.Model):
    """One key of one person: the primary key (key, person_id) is the index candidates are found by."""

    __tablename__ = "person_match_key"
    __table_args__ = (sa.Index("ix_person_match_key_person", "person_id"),)

    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)


class VehicleMatchKey(db.Model):
    """A vehicle's registration in the shape of its look-alike characters (matching.vrm_shape)."""

    __tablename__ = "vehicle_match_key"
    __table_args__ = (sa.Index("ix_vehicle_match_key_vehicle", "vehicle_id"),)

    key: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(sa.ForeignKey("vehicle.id", ondelete="CASCADE"), primary_key=True)
