"""Keys that find likely matches for a typed name or registration through an index.

Kept in step with the records by a flush hook: whatever changes a person's names, date of birth or
age, or a vehicle's registration, through the ORM, rewrites that record's keys in the same flush.
The keys are made by pcso/pole/matching.py; `flask pole-match-keys` rebuilds them all.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..extensions import db
from .pole import Person, Vehicle


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


def person_key_rows(person: Person) -> list[dict]:
    from ..pole.matching import birth_year, person_keys  # matching imports models: import when used

    recorded_on = person.created_at.date() if person.created_at else None
    year = birth_year(person.born_on, person.approx_age, recorded_on)
    names = [person.full_name, *(person.aliases or [])]
    return [{"key": key, "person_id": person.id} for key in sorted(person_keys(names, year))]


def vehicle_key_rows(vehicle: Vehicle) -> list[dict]:
    from ..pole.matching import vrm_shape

    return [{"key": vrm_shape(vehicle.vrm)[:20], "vehicle_id": vehicle.id}] if vehicle.vrm else []


@event.listens_for(Session, "after_flush")
def _rewrite_match_keys(session: Session, _context) -> None:
    """New or changed people and vehicles get their keys rewritten, in the flush's transaction."""
    changed = [obj for obj in (*session.new, *session.dirty) if isinstance(obj, (Person, Vehicle))]
    if not changed:
        return
    connection = session.connection()
    for model, table, column, rows_of in (
        (Person, PersonMatchKey.__table__, "person_id", person_key_rows),
        (Vehicle, VehicleMatchKey.__table__, "vehicle_id", vehicle_key_rows),
    ):
        records = [obj for obj in changed if isinstance(obj, model) and obj.id is not None]
        if not records:
            continue
        connection.execute(sa.delete(table).where(table.c[column].in_([r.id for r in records])))
        rows = [row for record in records for row in rows_of(record)]
        if rows:
            connection.execute(sa.insert(table), rows)
