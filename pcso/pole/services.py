"""Finding, creating and linking POLE records. Services flush and never commit."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..access import can_merge_welfare_child, can_view_entry, can_view_record, visible_links
from ..extensions import db
from ..search.index import reindex_linked_to
from ..models import (
    AuditAction, Entry, Link, LinkRole, Person, PersonAddress, PersonWarningMarker, RiskAssessment, Sex, User, Vehicle,
    WelfareCheck, name_key, normalise_vrm,
)
from ..timeutil import utcnow


class RecordNotFound(LookupError):
    """A record id from a form that does not exist or that the officer may not see."""


class BornOnUnconfirmed(ValueError):
    """A picked record whose date of birth is not the one given (or is unknown) where it must be confirmed."""

    def __init__(self, picked: Person):
        self.picked = picked
        super().__init__(f"person {picked.id}: date of birth not confirmed")


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
               description: str | None = None, confirm_born_on: bool = False) -> Person:
    """The person an officer means: the one picked, the one with the same name and date of birth,
    or a new record. Without a date of birth a name alone never matches: that is for the
    duplicate check and a merge, done by a person.

    With `confirm_born_on` (a welfare check's child, who must be under 18 on the visit date) a picked
    record is linked only if its date of birth is `born_on`, the date the age rule was checked on:
    a record with another date of birth, or none, raises BornOnUnconfirmed and nothing is linked.

    Only a record the officer may see is ever matched (picked or by name and date of birth): joining one
    known only from an entry they may not open (a child in another officer's welfare check) would tell
    them it exists and show it to them through their own entry. They get a new record instead, and the
    duplicate review, by someone who may see both, finds the pair."""
    key = name_key(full_name)
    if person_id:
        picked = visible_record(Person, person_id, user)
        if key in {picked.name_key, *(name_key(alias) for alias in picked.aliases or [])}:
            if confirm_born_on and (picked.born_on is None or picked.born_on != born_on):
                raise BornOnUnconfirmed(picked)
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
    audit.pole_changed(person, actor=user, created=True,
                       fields=[name for name in ("full_name", "born_on", "description") if getattr(person, name)])
    return person


def _vehicle_named(vrm: str) -> Vehicle | None:
    vehicle = db.session.scalar(sa.select(Vehicle).where(Vehicle.vrm == vrm, Vehicle.merged_into_id.is_(None)))
    if vehicle is None:  # a registration merged away (a known mistyping) leads to its survivor
        vehicle = survivor(db.session.scalar(sa.select(Vehicle).where(Vehicle.vrm == vrm).limit(1)))
    return vehicle


def vehicle_for(*, vrm: str, make: str | None = None, model: str | None = None, colour: str | None = None,
                actor: User | None = None) -> Vehicle:
    """One live record per registration: found, with blanks filled from what the officer saw, or made.
    Either is audited with the vehicle's revision and the fields set (never their values)."""
    vrm = normalise_vrm(vrm)
    vehicle = _vehicle_named(vrm)
    created = vehicle is None
    if created:
        vehicle = Vehicle(vrm=vrm)
        try:
            with db.session.begin_nested():
                db.session.add(vehicle)
                db.session.flush()
        except IntegrityError:  # another officer's entry named it a moment ago (uq_vehicle_live_vrm): use theirs
            vehicle, created = _vehicle_named(vrm), False
            if vehicle is None:
                raise
    filled = ["vrm"] if created else []
    for field, value in (("make", make), ("model", model), ("colour", colour)):
        if value and value.strip() and not getattr(vehicle, field):
            setattr(vehicle, field, value.strip()[:40])
            filled.append(field)
    db.session.flush()
    audit.pole_changed(vehicle, actor=actor, created=created, fields=filled)
    return vehicle


def link(entry: Entry, target, role: LinkRole, *, note: str | None = None, position: int = 0) -> Link:
    item = Link(role=role, note=note or None, position=position, **{type(target).__tablename__: target})
    entry.links.append(item)
    return item


# --- merging two records of one real person or vehicle ------------------------------------------

PERSON_DETAILS = ("born_on", "approx_age", "description")  # an estimated age moves with the day it was made
VEHICLE_DETAILS = ("make", "model", "colour", "description", "keeper_id")


class MergeRefused(ValueError):
    """Two records that can't be merged (the same record, or one already merged away)."""


class MergeForbidden(MergeRefused):
    """A merge this user may not make (a welfare check's child needs a supervisor or safeguarding lead)."""


# --- a welfare check's child: merges never widen who sees the child's details ----------------------

def welfare_checks_of(person: Person) -> list[WelfareCheck]:
    """The welfare checks (any status) the person is linked to: linked to one, they are a welfare child."""
    return list(db.session.scalars(sa.select(WelfareCheck).join(Link, Link.entry_id == WelfareCheck.id)
                                   .where(Link.person_id == person.id).order_by(WelfareCheck.id)))


def _widens(child: Person, other: Person) -> bool:
    """Would merging show the child's details to someone new? True when some user may see `other` but not
    `child`, and may open none of `other`'s own welfare checks (a SPOC of the same child is no one new).

    Users whose access to these records does not depend on who they are (not an author of an entry linked
    to either, nor a SPOC of one) are alike by role and beats: one of each kind is asked."""
    linked = sa.select(Link.entry_id).where(Link.person_id.in_([child.id, other.id]))
    own = set(db.session.scalars(sa.select(Entry.author_id).where(Entry.id.in_(linked))))
    own |= set(db.session.scalars(sa.select(WelfareCheck.spoc_id).where(WelfareCheck.id.in_(linked))))
    other_checks = welfare_checks_of(other)
    asked = set()
    for user in db.session.scalars(sa.select(User).order_by(User.id)):
        kind = user.id if user.id in own else (user.role, frozenset(user.beat_ids))
        if kind in asked:
            continue
        asked.add(kind)
        if (can_view_record(user, other) and not can_view_record(user, child)
                and not any(can_view_entry(user, check) for check in other_checks)):
            return True
    return False


WIDENS = ("These records stay apart: merging them would show a child's details to officers who may see the "
          "other record but not the child's welfare check. Record what links them in the welfare check instead.")


def merge_refusal(keep: Person, other: Person, *, actor: User) -> MergeRefused | None:
    """Why these two people may not be merged by `actor`, or None.

    A merge involving a person linked to a welfare check (the child) needs a supervisor or safeguarding
    lead, and never widens who can see the child's details (name, date of birth, aliases, description):
    it is refused when anyone who may see the other record could not already see the child's record and
    may open none of the other record's welfare checks. That holds whichever record stays, since the
    survivor carries both records' details and both records' links."""
    children = [record for record in (keep, other) if welfare_checks_of(record)]
    if not children:
        return None
    if not can_merge_welfare_child(actor):
        return MergeForbidden("A supervisor or safeguarding lead must merge these records.")
    for child in children:
        if _widens(child, keep if child is other else other):
            return MergeRefused(WIDENS)
    return None


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
    """Move the loser's links to the survivor, mark it merged, audit once on the survivor, as a combination
    (DPA 2018 s.62; AuditAction.COMBINE, not an ordinary update: pcso/audit.py says the shape).

    The reason is the one free text this audit event carries: the justification for altering the
    records (DPA 2018 s.62), asked for as what was checked. The merged record's id, the links moved
    and the fields filled are recorded too, so the merge can be traced and, by hand, undone. Both records
    change, so both gain a revision; the event names both.
    """
    db.session.flush()
    moved = _move_links(model, loser.id, keep.id)
    loser.merged_into_id, loser.merged_at = keep.id, utcnow()
    keep.revision, loser.revision = (keep.revision or 1) + 1, (loser.revision or 1) + 1
    revisions = {"revision": keep.revision, "merged_revision": loser.revision}
    db.session.flush()
    db.session.expire_all()  # relationships loaded before the bulk UPDATE now point at the wrong record
    reindex_linked_to(keep)  # the moved entries' search text names the survivor now
    return audit.combined(keep, loser, actor=actor, object_type=model.__tablename__, into=keep.id,
                          links_moved=moved, filled=filled, reason=reason, **revisions, **details)


def merge_people(keep: Person, loser: Person, *, actor: User, reason: str):
    """One real person, two records: `loser`'s links move to `keep`, nothing is lost.

    `keep` keeps its name and gains the loser's name and aliases as aliases; its date of birth,
    approximate age and description are filled from the loser where blank; warning markers are
    the union. The loser stays in the table, marked merged_into and merged_at.
    """
    _lock_both(Person, keep, loser)
    if (refused := merge_refusal(keep, loser, actor=actor)) is not None:
        raise refused
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
            if field == "approx_age":
                keep.approx_age_on = loser.approx_age_on
    if keep.sex == Sex.UNKNOWN and loser.sex not in (None, Sex.UNKNOWN):
        keep.sex = loser.sex
        filled.append("sex")
    markers = list(dict.fromkeys([*(keep.warning_markers or []), *(loser.warning_markers or [])]))
    if markers != list(keep.warning_markers or []):
        keep.warning_markers = markers
        filled.append("warning_markers")
    # the loser's marker rows (with their history), addresses and vehicles kept are the survivor's now
    for model in (PersonWarningMarker, PersonAddress):
        db.session.execute(sa.update(model).where(model.person_id == loser.id).values(person_id=keep.id)
                           .execution_options(synchronize_session=False))
    db.session.execute(sa.update(Vehicle).where(Vehicle.keeper_id == loser.id).values(keeper_id=keep.id)
                       .execution_options(synchronize_session=False))
    # the loser's risk assessments are the survivor's now: a victim due a review stays due under one record
    db.session.execute(sa.update(RiskAssessment).where(RiskAssessment.person_id == loser.id)
                       .values(person_id=keep.id).execution_options(synchronize_session=False))
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


# --- a place typed as an address ------------------------------------------------------------------

def record_profile_view(record, *, entries: int, actor: User, shown=(), **details) -> None:
    """Opening a profile is an audited read, with how many entries its timeline held: the record, its timeline's
    entries and the other records it shows (associates, possible duplicates, records merged into it) are named
    by the request's one view event. A profile joins records (its associates): joined=true."""
    audit.consulted(record, actor=actor, entries=entries, **details)
    audit.consulted(list(shown), actor=actor)


def record_records_shown(records, *, actor: User, **details) -> None:
    """POLE records (and entries) a page or an answer shows: type-ahead suggestions, the merge comparison."""
    audit.consulted(list(records), actor=actor, **details)
