"""Reading POLE records for their profiles: timeline, associates, map, duplicates, merge history
(the type-ahead for the entry forms is pcso/pole/suggest.py).

Everything here starts from the viewer's visible links (access.visible_entries): an entry the
viewer may not open is not shown, not counted, and not used to find associates, places or
duplicates. Each function is a fixed number of queries, whatever the number of links.
"""
from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..access import visible_entries, visible_links
from ..extensions import db
from ..models import (
    AuditAction, AuditEvent, Entry, Link, LinkRole, Location, Person, SecurityMarking, User, Vehicle, name_key,
)

TIMELINE_LIMIT = 200  # entries shown on a profile (newest first); the count says how many there are
ASSOCIATES_LIMIT = 50
DUPLICATES_LIMIT = 10
CANDIDATES_LIMIT = 500  # people looked at per rule when searching for duplicates
NAME_RATIO = 0.8


def link_column(record) -> sa.ColumnElement:
    """Link.person_id, Link.vehicle_id, ... for a record of that type."""
    return getattr(Link, f"{type(record).__tablename__}_id")


def _entries_of(user: User, record) -> sa.Select:
    """Ids of the entries the viewer may see that this record is linked to."""
    return sa.select(Link.entry_id).join(Entry, Entry.id == Link.entry_id).where(
        link_column(record) == record.id, visible_entries(user))


# --- timeline ----------------------------------------------------------------------------------

@dataclass
class TimelineItem:
    entry: Entry
    roles: list[LinkRole] = field(default_factory=list)


@dataclass
class Timeline:
    items: list[TimelineItem]
    total: int  # every visible entry the record is linked to (items stops at TIMELINE_LIMIT)
    roles: dict[LinkRole, int]  # in how many visible entries the record had each role
    is_sensitive: bool  # an OFFICIAL-SENSITIVE entry is among those shown

    @property
    def entries(self) -> list[Entry]:
        return [item.entry for item in self.items]


def timeline(user: User, record, *, limit: int = TIMELINE_LIMIT) -> Timeline:
    """Every visible entry the record appears in, newest first, with its role(s) there.

    One query for the links joined to their entries (and beats), one for the totals by role.
    """
    column = link_column(record)
    newest = (sa.select(Entry.id).join(Link, Link.entry_id == Entry.id)
              .where(column == record.id, visible_entries(user))
              .group_by(Entry.id, Entry.occurred_at)
              .order_by(Entry.occurred_at.desc(), Entry.id.desc()).limit(limit))
    rows = db.session.execute(
        sa.select(Entry, Link.role).join(Link, Link.entry_id == Entry.id)
        .where(column == record.id, Entry.id.in_(newest.scalar_subquery()))
        .options(joinedload(Entry.beat))
        .order_by(Entry.occurred_at.desc(), Entry.id.desc(), Link.position, Link.id)
    ).all()
    items: dict[int, TimelineItem] = {}
    for entry, role in rows:
        item = items.setdefault(entry.id, TimelineItem(entry))
        if role not in item.roles:
            item.roles.append(role)
    by_role = db.session.execute(
        sa.select(Link.role, sa.func.count(sa.distinct(Link.entry_id))).join(Entry, Entry.id == Link.entry_id)
        .where(column == record.id, visible_entries(user)).group_by(Link.role)
    ).all()
    total = len(items)
    if total >= limit:
        total = db.session.scalar(sa.select(sa.func.count(sa.distinct(Link.entry_id)))
                                  .join(Entry, Entry.id == Link.entry_id)
                                  .where(column == record.id, visible_entries(user)))
    return Timeline(
        items=list(items.values()), total=total,
        roles={LinkRole(role): count for role, count in sorted(by_role, key=lambda r: (-r[1], r[0]))},
        is_sensitive=any(item.entry.marking == SecurityMarking.OFFICIAL_SENSITIVE for item in items.values()),
    )


# --- associates --------------------------------------------------------------------------------

@dataclass
class Associate:
    record: Person | Vehicle
    times: int  # visible entries shared with the profile's record
    last_at: datetime
    roles: dict[LinkRole, int]  # the associate's roles in those entries (victims stay apart from suspects)


def associates(user: User, record, *, limit: int = ASSOCIATES_LIMIT) -> list[Associate]:
    """People and vehicles linked to the same visible entries, most often seen together first.

    One grouped query for the counts, one for the roles, one per record type for the records.
    """
    shared = _entries_of(user, record)
    is_other = sa.or_(Link.person_id.is_not(None), Link.vehicle_id.is_not(None))
    if isinstance(record, (Person, Vehicle)):
        own = link_column(record)
        is_other = is_other & sa.or_(own.is_(None), own != record.id)
    where = (Link.entry_id.in_(shared), is_other)
    times = sa.func.count(sa.distinct(Link.entry_id))
    last_at = sa.func.max(Entry.occurred_at)
    counted = db.session.execute(
        sa.select(Link.person_id, Link.vehicle_id, times, last_at).join(Entry, Entry.id == Link.entry_id)
        .where(*where).group_by(Link.person_id, Link.vehicle_id)
        .order_by(times.desc(), last_at.desc(), Link.person_id, Link.vehicle_id).limit(limit)
    ).all()
    if not counted:
        return []
    person_ids = {row.person_id for row in counted if row.person_id is not None}
    vehicle_ids = {row.vehicle_id for row in counted if row.vehicle_id is not None}
    roles: dict[tuple, Counter] = defaultdict(Counter)
    for person_id, vehicle_id, role, count in db.session.execute(
        sa.select(Link.person_id, Link.vehicle_id, Link.role, sa.func.count(sa.distinct(Link.entry_id)))
        .where(*where, sa.or_(Link.person_id.in_(person_ids), Link.vehicle_id.in_(vehicle_ids)))
        .group_by(Link.person_id, Link.vehicle_id, Link.role)
    ):
        roles[(person_id, vehicle_id)][LinkRole(role)] += count
    people = {p.id: p for p in db.session.scalars(sa.select(Person).where(Person.id.in_(person_ids)))}
    vehicles = {v.id: v for v in db.session.scalars(sa.select(Vehicle).where(Vehicle.id.in_(vehicle_ids)))}
    return [
        Associate(record=people[row.person_id] if row.person_id is not None else vehicles[row.vehicle_id],
                  times=row[2], last_at=row[3], roles=dict(roles[(row.person_id, row.vehicle_id)].most_common()))
        for row in counted
    ]


# --- possible duplicates -------------------------------------------------------------------------

@dataclass
class Duplicate:
    record: Person | Vehicle
    reasons: list[str]


def _names(person: Person) -> list[str]:
    return [key for key in (name_key(n) for n in [person.full_name, *(person.aliases or [])]) if key]


def _similar_name(a: str, b: str) -> bool:
    """A close name: the same surname and first initial, or a difflib ratio >= 0.8 between the whole
    names with the same first initial. A shared surname makes the ratio of two siblings' names high
    ("d wrigley" / "sam wrigley" is 0.8), so for names of two or more words the initial must agree."""
    a_parts, b_parts = a.split(), b.split()
    if not a_parts or not b_parts:
        return False
    several = len(a_parts) > 1 and len(b_parts) > 1
    if several and a_parts[0][0] != b_parts[0][0]:
        return False
    if several and a_parts[-1] == b_parts[-1]:
        return True
    return difflib.SequenceMatcher(None, a, b).ratio() >= NAME_RATIO


def similar_names(one: Person, other: Person) -> bool:
    return any(_similar_name(a, b) for a in _names(one) for b in _names(other))


def possible_duplicates(user: User, person: Person, *, limit: int = DUPLICATES_LIMIT) -> list[Duplicate]:
    """Other live people the viewer can see who may be the same person.

    Two rules, both followed by a close name (similar_names):
    - the same date of birth;
    - the same place: a Location record linked to a visible entry of each (the same record, or a
      location with the same postcode). Entries' own points and postcodes are not used: a busy
      street would pair everyone seen on it.
    """
    seen_people = sa.select(Link.person_id).where(visible_links(user), Link.person_id.is_not(None))
    live_others = (Person.id != person.id, Person.merged_into_id.is_(None), Person.id.in_(seen_people))
    found: dict[int, Duplicate] = {}

    def consider(candidates, reason: str) -> None:
        for candidate in candidates:
            if similar_names(person, candidate):
                found.setdefault(candidate.id, Duplicate(candidate, [])).reasons.append(reason)

    if person.born_on is not None:
        consider(db.session.scalars(sa.select(Person).where(Person.born_on == person.born_on, *live_others)
                                    .order_by(Person.id).limit(CANDIDATES_LIMIT)),
                 "Same date of birth, similar name")

    my_places = sa.select(Link.location_id).where(Link.entry_id.in_(_entries_of(user, person)),
                                                  Link.location_id.is_not(None))
    my_postcodes = sa.select(Location.postcode).where(Location.id.in_(my_places), Location.postcode.is_not(None))
    places = sa.select(Location.id).where(sa.or_(Location.id.in_(my_places), Location.postcode.in_(my_postcodes)))
    entries_there = sa.select(Link.entry_id).where(Link.location_id.in_(places), visible_links(user))
    people_there = sa.select(Link.person_id).where(Link.entry_id.in_(entries_there), Link.person_id.is_not(None))
    consider(db.session.scalars(sa.select(Person).where(Person.id.in_(people_there), *live_others)
                                .order_by(Person.id).limit(CANDIDATES_LIMIT)),
             "Same address, similar name")
    return sorted(found.values(), key=lambda d: (-len(d.reasons), d.record.name_key, d.record.id))[:limit]


def _one_character_apart(vrm: str) -> list[str]:
    """LIKE patterns for registrations one mistyped character away (same length)."""
    escaped = [c.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for c in vrm]
    return ["".join(escaped[:i] + ["_"] + escaped[i + 1:]) for i in range(len(vrm))]


def possible_vehicle_duplicates(user: User, vehicle: Vehicle, *, limit: int = DUPLICATES_LIMIT) -> list[Duplicate]:
    """Other live vehicles the viewer can see whose registration is one character different."""
    if len(vehicle.vrm) < 4:
        return []
    seen = sa.select(Link.vehicle_id).where(visible_links(user), Link.vehicle_id.is_not(None))
    candidates = db.session.scalars(
        sa.select(Vehicle).where(
            Vehicle.id != vehicle.id, Vehicle.merged_into_id.is_(None), Vehicle.id.in_(seen),
            sa.or_(*(Vehicle.vrm.like(pattern, escape="\\") for pattern in _one_character_apart(vehicle.vrm))))
        .order_by(Vehicle.vrm).limit(limit))
    def same(a: str | None, b: str | None) -> bool:
        return bool(a and b and a.lower() == b.lower())

    return [Duplicate(other, ["Registration one character different"]
                      + (["Same make and colour"] if same(other.make, vehicle.make) and same(other.colour, vehicle.colour)
                         else []))
            for other in candidates]


# --- merge history ------------------------------------------------------------------------------

@dataclass
class MergedFrom:
    record: Person | Vehicle | Location
    at: datetime | None
    by: User | None


def merged_from(record) -> list[MergedFrom]:
    """Records merged into this one, with when and by whom (from the merge's audit event)."""
    model = type(record)
    losers = db.session.scalars(sa.select(model).where(model.merged_into_id == record.id).order_by(model.merged_at))
    losers = list(losers)
    if not losers:
        return []
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.object_type == model.__tablename__, AuditEvent.object_id == record.id,
                                    AuditEvent.action.in_([AuditAction.COMBINE, AuditAction.UPDATE]))  # UPDATE: older merges
        .options(joinedload(AuditEvent.actor)).order_by(AuditEvent.id))
    by_loser = {event.details.get("merged"): event for event in events if "merged" in (event.details or {})}
    return [MergedFrom(loser, loser.merged_at, getattr(by_loser.get(loser.id), "actor", None)) for loser in losers]


def get_record(model, record_id: int):
    """A person, vehicle or location by id, merged or not (the caller checks who may see it)."""
    return db.session.get(model, record_id)
