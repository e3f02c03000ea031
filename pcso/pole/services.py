"""Finding, creating and linking POLE records. Services flush and never commit."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..extensions import db
from ..models import Entry, Link, LinkRole, Person, User, Vehicle, name_key, normalise_vrm


class RecordNotFound(LookupError):
    """A record id from a form that does not exist or that the officer may not see."""


def survivor(record):
    """Follow merges to the live record."""
    seen = set()
    while record is not None and record.merged_into_id is not None and record.id not in seen:
        seen.add(record.id)
        record = db.session.get(type(record), record.merged_into_id)
    return record


def visible_record(model, record_id: int, user: User):
    from ..access import can_view_record

    record = survivor(db.session.get(model, record_id))
    if record is None or not can_view_record(user, record):
        raise RecordNotFound(record_id)
    return record


def person_for(*, user: User, person_id: int | None, full_name: str, born_on: date | None = None,
               description: str | None = None) -> Person:
    """The person an officer means: the one picked, the one with the same name and date of birth,
    or a new record. Without a date of birth a name alone never matches: that is for the
    duplicate check and a merge, done by a person."""
    key = name_key(full_name)
    if person_id:
        picked = visible_record(Person, person_id, user)
        if key in {picked.name_key, *(name_key(alias) for alias in picked.aliases or [])}:
            return picked
        # The name was typed over after picking: it is someone else.
    if born_on is not None:
        match = db.session.scalar(sa.select(Person).where(
            Person.name_key == key, Person.born_on == born_on, Person.merged_into_id.is_(None)).limit(1))
        if match is not None:
            return match
    person = Person(full_name=full_name.strip(), name_key=key, born_on=born_on, description=description or None)
    db.session.add(person)
    db.session.flush()
    return person


def vehicle_for(*, vrm: str, make: str | None = None, model: str | None = None, colour: str | None = None
                ) -> Vehicle:
    """One live record per registration: found, with blanks filled from what the officer saw, or made."""
    vrm = normalise_vrm(vrm)
    vehicle = db.session.scalar(sa.select(Vehicle).where(Vehicle.vrm == vrm, Vehicle.merged_into_id.is_(None)))
    if vehicle is None:
        vehicle = Vehicle(vrm=vrm)
        db.session.add(vehicle)
    for field, value in (("make", make), ("model", model), ("colour", colour)):
        if value and not getattr(vehicle, field):
            setattr(vehicle, field, value.strip()[:40])
    db.session.flush()
    return vehicle


def link(entry: Entry, target, role: LinkRole, *, note: str | None = None, position: int = 0) -> Link:
    item = Link(role=role, note=note or None, position=position, **{type(target).__tablename__: target})
    entry.links.append(item)
    return item
