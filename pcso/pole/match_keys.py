"""person_match_key and vehicle_match_key: the flush hook keeping them in step with the records (imported by
views), and the rebuild of them all from the records (`flask pole rebuild-match-keys`: after a change to the
rules in matching.py, a restore, or rows written around the ORM).
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Person, PersonMatchKey, Vehicle, VehicleMatchKey
from .matching import age_given_on, birth_year, person_keys, vrm_shape

PERSON_COLUMNS = (Person.id, Person.full_name, Person.aliases, Person.born_on, Person.approx_age,
                  Person.approx_age_on, Person.created_at)
VEHICLE_COLUMNS = (Vehicle.id, Vehicle.vrm)


def person_key_rows(person) -> list[dict]:
    """The keys of a person (a record, or a row of PERSON_COLUMNS)."""
    year = birth_year(person.born_on, person.approx_age, age_given_on(person.approx_age_on, person.created_at))
    names = [person.full_name, *(person.aliases or [])]
    return [{"key": key, "person_id": person.id} for key in sorted(person_keys(names, year))]


def vehicle_key_rows(vehicle) -> list[dict]:
    return [{"key": vrm_shape(vehicle.vrm)[:20], "vehicle_id": vehicle.id}] if vehicle.vrm else []


KEYED = {Person: ("full_name", "aliases", "born_on", "approx_age", "approx_age_on", "created_at"), Vehicle: ("vrm",)}


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


@dataclass
class Rebuilt:
    records: int  # read in this batch
    rewritten: int  # whose keys were not what the rules make now, and were rewritten
    last_id: int | None  # the batch's last id: the next batch starts after it (None: no more records)


KINDS = {"person": (Person, PERSON_COLUMNS, PersonMatchKey.__table__, "person_id", person_key_rows),
         "vehicle": (Vehicle, VEHICLE_COLUMNS, VehicleMatchKey.__table__, "vehicle_id", vehicle_key_rows)}


def rebuild_match_keys(kind: str, *, after_id: int = 0, batch_size: int = 2000) -> Rebuilt:
    """One batch of records (ids after after_id, in id order): make their keys from the record as matching.py
    does now, compare with the stored ones, and rewrite only those that differ. Idempotent: a second run
    rewrites nothing. Flushes; the caller commits each batch."""
    model, columns, table, column, rows_of = KINDS[kind]
    records = db.session.execute(sa.select(*columns).where(model.id > after_id).order_by(model.id)
                                 .limit(batch_size)).all()
    if not records:
        return Rebuilt(0, 0, None)
    ids = [record.id for record in records]
    stored: dict[int, set[str]] = {}
    for key, record_id in db.session.execute(sa.select(table.c.key, table.c[column]).where(table.c[column].in_(ids))):
        stored.setdefault(record_id, set()).add(key)
    wanted = {record.id: rows_of(record) for record in records}
    stale = [record_id for record_id, rows in wanted.items() if {r["key"] for r in rows} != stored.get(record_id, set())]
    if stale:
        db.session.execute(sa.delete(table).where(table.c[column].in_(stale)))
        rows = [row for record_id in stale for row in wanted[record_id]]
        if rows:
            db.session.execute(sa.insert(table), rows)
    return Rebuilt(len(records), len(stale), ids[-1])
