"""The flush hook keeping person_match_key and vehicle_match_key in step with the records (imported by views)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..models import Person, PersonMatchKey, Vehicle, VehicleMatchKey
from .matching import birth_year, person_keys, vrm_shape


def person_key_rows(person: Person) -> list[dict]:
    recorded_on = person.created_at.date() if person.created_at else None
    year = birth_year(person.born_on, person.approx_age, recorded_on)
    names = [person.full_name, *(person.aliases or [])]
    return [{"key": key, "person_id": person.id} for key in sorted(person_keys(names, year))]


def vehicle_key_rows(vehicle: Vehicle) -> list[dict]:
    return [{"key": vrm_shape(vehicle.vrm)[:20], "vehicle_id": vehicle.id}] if vehicle.vrm else []


KEYED = {Person: ("full_name", "aliases", "born_on", "approx_age", "created_at"), Vehicle: ("vrm",)}


def _keys_changed(record: Person | Vehicle) -> bool:
    """Has a column its keys are made from changed? (A record is also dirty when only an entry was linked.)"""
    attrs = sa.inspect(record).attrs
    return any(attrs[name].history.has_changes() for name in KEYED[type(record)])


@event.listens_for(Session, "after_flush")
def _rewrite_match_keys(session: Session, _context) -> None:
    """New or changed people and vehicles get their keys rewritten, in the flush's transaction."""
    changed = [*(obj for obj in session.new if isinstance(obj, (Person, Vehicle))),
               *(obj for obj in session.dirty if isinstance(obj, (Person, Vehicle)) and _keys_changed(obj))]
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
