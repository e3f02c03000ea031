"""Finding, creating and linking POLE records. Services flush and never commit."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from .. import audit
from ..access import can_view_record, visible_links
from ..extensions import db
from ..search.index import reindex_linked_to
from ..models import AuditAction, Entry, Link, LinkRole, Person, User, Vehicle, name_key, normalise_vrm
from ..timeutil import utcnow


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
    record = survivor(db.session.get(model, record_id))
    if record is None or not can_view_record(user, record):
        raise RecordNotFound(record_id)
    return record


def person_for(*, user: User, person_id: int | None, full_name: str, born_on: date | None = None,
               description: str | None = None) -> Person:
    """The person an officer means: the one picked, the one with the same name and date of birth,
    or a new record. Without a date of birth a name alone never matches: that is for the
    duplicate check and a merge, done by a person.

    Only a record the officer may see is ever matched (picked or by name and date of birth): joining one
    known only from an entry they may not open (a child in another officer's welfare check) would tell
    them it exists and show it to them through their own entry. They get a new record instead, and the
    duplicate review, by someone who may see both, finds the pair."""
    key = name_key(full_name)
    if person_id:
        picked = visible_record(Person, person_id, user)
        if key in {picked.name_key, *(name_key(alias) for alias in picked.aliases or [])}:
            return picked
        # The name was typed over after picking: it is someone else.
    if born_on is not None:
        seen = sa.select(Link.person_id).where(visible_links(user), Link.person_id.is_not(None))
        match = db.session.scalar(sa.select(Person).where(
            Person.name_key == key, Person.born_on == born_on, Person.merged_into_id.is_(None),
            Person.id.in_(seen)).order_by(Person.id).limit(1))
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
    if vehicle is None:  # a registration merged away (a known mistyping) leads to its survivor
        vehicle = survivor(db.session.scalar(sa.select(Vehicle).where(Vehicle.vrm == vrm).limit(1)))
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


# --- merging two records of one real person or vehicle ------------------------------------------

PERSON_DETAILS = ("born_on", "approx_age", "description")
VEHICLE_DETAILS = ("make", "model", "colour")


class MergeRefused(ValueError):
    """Two records that can't be merged (the same record, or one already merged away)."""


def _lock_both(model, survivor_record, loser):
    """Reload both rows with a row lock (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises)."""
    if survivor_record.id == loser.id:
        raise MergeRefused("A record can't be merged into itself.")
    rows = db.session.scalars(sa.select(model).where(model.id.in_([survivor_record.id, loser.id]))
                              .with_for_update().execution_options(populate_existing=True)).all()
    if len(rows) != 2 or any(row.is_merged for row in rows):
        raise MergeRefused("One of these records has just been merged into another: open it again.")


def _move_links(model, loser_id: int, survivor_id: int) -> int:
    column = getattr(Link, f"{model.__tablename__}_id")
    result = db.session.execute(sa.update(Link).where(column == loser_id).values({column.key: survivor_id})
                                .execution_options(synchronize_session=False))
    return result.rowcount


def _retire(model, keep, loser, *, actor: User, reason: str, filled: list[str], **details):
    """Move the loser's links to the survivor, mark it merged, audit once on the survivor.

    The reason is the one free text this audit event carries: the justification for altering the
    records (DPA 2018 s.62), asked for as what was checked. The merged record's id, the links moved
    and the fields filled are recorded too, so the merge can be traced and, by hand, undone.
    """
    db.session.flush()
    moved = _move_links(model, loser.id, keep.id)
    loser.merged_into_id, loser.merged_at = keep.id, utcnow()
    db.session.flush()
    db.session.expire_all()  # relationships loaded before the bulk UPDATE now point at the wrong record
    reindex_linked_to(keep)  # the moved entries' search text names the survivor now
    return audit.record(AuditAction.UPDATE, object_type=model.__tablename__, object_id=keep.id, actor=actor,
                        merged=loser.id, into=keep.id, links_moved=moved, filled=filled, reason=reason,
                        **details)


def merge_people(keep: Person, loser: Person, *, actor: User, reason: str):
    """One real person, two records: `loser`'s links move to `keep`, nothing is lost.

    `keep` keeps its name and gains the loser's name and aliases as aliases; its date of birth,
    approximate age and description are filled from the loser where blank; warning markers are
    the union. The loser stays in the table, marked merged_into and merged_at.
    """
    _lock_both(Person, keep, loser)
    filled = []
    known = {name_key(name) for name in [keep.full_name, *(keep.aliases or [])]}
    aliases = list(keep.aliases or [])
    for name in [loser.full_name, *(loser.aliases or [])]:
        if name_key(name) and name_key(name) not in known:
            known.add(name_key(name))
            aliases.append(name)
    if aliases != list(keep.aliases or []):
        keep.aliases = aliases  # a new list: JSON columns only notice assignment
        filled.append("aliases")
    for field in PERSON_DETAILS:
        if getattr(keep, field) in (None, "") and getattr(loser, field) not in (None, ""):
            setattr(keep, field, getattr(loser, field))
            filled.append(field)
    markers = list(dict.fromkeys([*(keep.warning_markers or []), *(loser.warning_markers or [])]))
    if markers != list(keep.warning_markers or []):
        keep.warning_markers = markers
        filled.append("warning_markers")
    return _retire(Person, keep, loser, actor=actor, reason=reason, filled=filled)


def merge_vehicles(keep: Vehicle, loser: Vehicle, *, actor: User, reason: str):
    """Two records of one vehicle (a mistyped registration): `keep` keeps its VRM.

    The loser's VRM stays on the loser's row (merged records are outside the one-live-VRM index)
    and in the audit event; make, model and colour are filled where `keep` has none.
    """
    _lock_both(Vehicle, keep, loser)
    filled = []
    for field in VEHICLE_DETAILS:
        if not getattr(keep, field) and getattr(loser, field):
            setattr(keep, field, getattr(loser, field))
            filled.append(field)
    return _retire(Vehicle, keep, loser, actor=actor, reason=reason, filled=filled,
                   vrm=keep.vrm, merged_vrm=loser.vrm)


def record_profile_view(record, *, entries: int, actor: User, **details) -> None:
    """Opening a profile is an audited read, with how many entries its timeline showed."""
    audit.record(AuditAction.VIEW, record, actor=actor, entries=entries, **details)
