"""Editing whole people and vehicles: details, aliases, warning markers, addresses, a vehicle's keeper.

Who may edit a record: whoever may see it (access.can_edit_record). Every change bumps the record's revision
and writes the POLE audit event naming the fields changed, never their values (audit.pole_changed); a name
or an alias changed re-indexes the entries the person is linked to. Services flush and never commit.

Never widening who sees what: a keeper or an address is picked only from records the editor may see; on a
profile a keeper, a vehicle kept or a place is shown only to a viewer who may see that record too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from .. import audit
from ..access import can_edit_record, can_view_record, visible_entries
from ..extensions import db
from ..models import (
    AddressRole, Entry, Link, Location, Person, PersonAddress, PersonWarningMarker, Sex, User, Vehicle, name_key,
    normalise_vrm,
)
from ..models.markers import marker_kind, offered
from ..search.index import reindex_linked_to
from ..timeutil import london_today, utcnow
from .locations import LocationRejected, location_for
from .services import RecordNotFound, visible_record

PICK_LIMIT = 30  # places or people offered to pick from on an edit page


class EditRefused(ValueError):
    """A change that can't be made as asked: the message says why, for the form (the field in `field`)."""

    def __init__(self, message: str, field_name: str | None = None):
        self.field = field_name
        super().__init__(message)


def _changed(person_or_vehicle, actor: User, fields: list[str], **details) -> None:
    audit.pole_changed(person_or_vehicle, actor=actor, fields=fields, **details)


# --- a person's details --------------------------------------------------------------------------

def update_person(person: Person, *, actor: User, full_name: str, born_on: date | None, approx_age: int | None,
                  sex: Sex, description: str | None) -> list[str]:
    """Set a person's details; returns the fields changed (audited, the revision bumped)."""
    full_name = " ".join((full_name or "").split())
    if not name_key(full_name):
        raise EditRefused("Enter the person's name", "full_name")
    if born_on is not None and approx_age is not None:
        raise EditRefused("Give a date of birth or an approximate age, not both", "approx_age")
    changed = []
    wanted = {"full_name": full_name[:120], "born_on": born_on, "sex": sex, "description": (description or "").strip() or None}
    for name, value in wanted.items():
        if getattr(person, name) != value:
            setattr(person, name, value)
            changed.append(name)
    if approx_age != person.approx_age:
        person.approx_age, person.approx_age_on = approx_age, (london_today() if approx_age is not None else None)
        changed += ["approx_age", "approx_age_on"]
    if "full_name" in changed:
        person.name_key = name_key(full_name)
    _changed(person, actor, changed)
    if "full_name" in changed:
        reindex_linked_to(person)
    return changed


def add_alias(person: Person, alias: str, *, actor: User) -> None:
    alias = " ".join((alias or "").split())[:120]
    key = name_key(alias)
    if not key:
        raise EditRefused("Enter the other name", "alias")
    if key in {name_key(name) for name in [person.full_name, *(person.aliases or [])]}:
        raise EditRefused("That name is already on the record", "alias")
    person.aliases = [*(person.aliases or []), alias]  # a new list: JSON columns only notice assignment
    _changed(person, actor, ["aliases"])
    reindex_linked_to(person)


def remove_alias(person: Person, alias: str, *, actor: User) -> None:
    aliases = list(person.aliases or [])
    if alias not in aliases:
        raise EditRefused("That name is not on the record (it may have just been removed)", "alias")
    aliases.remove(alias)
    person.aliases = aliases
    _changed(person, actor, ["aliases"])
    reindex_linked_to(person)


# --- warning markers: rows with their history; person.warning_markers holds the codes in force -------

def _sync_codes(person: Person) -> None:
    person.warning_markers = list(dict.fromkeys(m.marker for m in person.markers if m.removed_at is None))


def add_marker(person: Person, code: str, *, actor: User, note: str | None, review_on: date | None) -> PersonWarningMarker:
    kind = marker_kind(code)
    if kind is None or kind.retired or kind not in offered():
        raise EditRefused("Choose a warning marker from the list", "marker")
    if any(m.marker == code for m in person.active_markers):
        raise EditRefused(f"{kind.label} is already on the record: review it instead", "marker")
    if review_on is not None and review_on <= london_today():
        raise EditRefused("The review date must be in the future", "review_on")
    marker = PersonWarningMarker(marker=code, note=(note or "").strip() or None, set_by_id=actor.id, set_at=utcnow(),
                                 review_on=review_on)
    person.markers.append(marker)
    db.session.flush()
    _sync_codes(person)
    _changed(person, actor, ["warning_markers"], marker_id=marker.id, change="set")
    return marker


def marker_of(person: Person, marker_id: int) -> PersonWarningMarker:
    marker = db.session.get(PersonWarningMarker, marker_id)
    if marker is None or marker.person_id != person.id:
        raise RecordNotFound(marker_id)
    return marker


def review_marker(marker: PersonWarningMarker, *, actor: User, review_on: date | None, note: str | None) -> None:
    """Reviewed and still right: who reviewed it and when, and the next review date (and the note, if changed)."""
    if marker.removed_at is not None:
        raise EditRefused("This marker has been removed", "review_on")
    if review_on is not None and review_on <= london_today():
        raise EditRefused("The next review date must be in the future", "review_on")
    marker.reviewed_at, marker.reviewed_by_id, marker.review_on = utcnow(), actor.id, review_on
    if note is not None and note.strip() and note.strip() != marker.note:
        marker.note = note.strip()
    _changed(marker.person, actor, ["warning_markers"], marker_id=marker.id, change="reviewed")


def remove_marker(marker: PersonWarningMarker, *, actor: User, note: str) -> None:
    """No longer right: the row stays (who removed it, when, why); it is no longer in force."""
    if marker.removed_at is not None:
        raise EditRefused("This marker has already been removed", "reason")
    if not (note or "").strip():
        raise EditRefused("Say why the marker is no longer right", "reason")
    marker.removed_at, marker.removed_by_id, marker.removed_note = utcnow(), actor.id, note.strip()[:300]
    _sync_codes(marker.person)
    _changed(marker.person, actor, ["warning_markers"], marker_id=marker.id, change="removed")


# --- addresses ----------------------------------------------------------------------------------

def add_address(person: Person, role: AddressRole, *, actor: User, location_id: int | None = None,
                address: str | None = None, postcode: str | None = None) -> PersonAddress:
    """Link the person to a place: one picked (that the editor may see), or an address typed (location_for)."""
    if location_id:
        location = visible_record(Location, location_id, actor)
    elif (address or "").strip():
        try:  # the one way an address typed becomes a place (pcso/pole/locations.py), as on an entry's form
            location = location_for(user=actor, location_id=None, address=address, postcode=postcode)
        except LocationRejected as refused:
            raise EditRefused(next(iter(refused.errors.values())), "address") from None
    else:
        raise EditRefused("Choose a place or type the address", "address")
    if any(item.location_id == location.id and item.role == role for item in person.addresses):
        raise EditRefused(f"That place is already on the record as {role.label.lower()}", "address")
    item = PersonAddress(location=location, role=role, created_by_id=actor.id)
    person.addresses.append(item)
    db.session.flush()
    _changed(person, actor, ["addresses"], address_id=item.id, location_id=location.id, change="added")
    return item


def remove_address(person: Person, address_id: int, *, actor: User) -> None:
    item = db.session.get(PersonAddress, address_id)
    if item is None or item.person_id != person.id:
        raise RecordNotFound(address_id)
    location_id = item.location_id
    person.addresses.remove(item)
    db.session.flush()
    _changed(person, actor, ["addresses"], address_id=address_id, location_id=location_id, change="removed")


# --- a vehicle -----------------------------------------------------------------------------------

def update_vehicle(vehicle: Vehicle, *, actor: User, vrm: str, make: str | None, model: str | None,
                   colour: str | None, description: str | None, keeper_id: int | None) -> list[str]:
    """Set a vehicle's details and keeper. A blank keeper removes the keeper the editor can see; a keeper
    they may not see (the form never shows it) stays unless they name another."""
    vrm = normalise_vrm(vrm or "")
    if len(vrm) < 2:
        raise EditRefused("Enter the registration", "vrm")
    if vrm != vehicle.vrm and db.session.scalar(sa.select(Vehicle.id).where(
            Vehicle.vrm == vrm, Vehicle.merged_into_id.is_(None), Vehicle.id != vehicle.id)) is not None:
        raise EditRefused("Another vehicle record has this registration: merge the two instead", "vrm")
    keeper = vehicle.keeper_id
    if keeper_id:
        try:
            keeper = visible_record(Person, keeper_id, actor).id
        except RecordNotFound:
            raise EditRefused("No person with that record number that you can see", "keeper_id") from None
    elif vehicle.keeper is not None and can_view_record(actor, vehicle.keeper):
        keeper = None
    wanted = {"vrm": vrm, "make": _text(make, 40), "model": _text(model, 40), "colour": _text(colour, 30),
              "description": _text(description, 300), "keeper_id": keeper}
    changed = [name for name, value in wanted.items() if getattr(vehicle, name) != value]
    for name in changed:
        setattr(vehicle, name, wanted[name])
    db.session.flush()
    _changed(vehicle, actor, changed)
    if {"vrm", "make", "model", "colour"} & set(changed):
        reindex_linked_to(vehicle)
    return changed


def _text(value: str | None, limit: int) -> str | None:
    return " ".join((value or "").split())[:limit] or None


# --- what an edit page offers to pick, and what a profile adds ----------------------------------------

def places_to_pick(user: User, person: Person) -> list[Location]:
    """Live places linked to the entries the user may open where this person appears (newest first)."""
    entries = sa.select(Link.entry_id).join(Entry, Entry.id == Link.entry_id).where(
        Link.person_id == person.id, visible_entries(user))
    places = sa.select(Link.location_id).where(Link.entry_id.in_(entries), Link.location_id.is_not(None))
    return list(db.session.scalars(sa.select(Location).where(Location.id.in_(places), Location.merged_into_id.is_(None))
                                   .order_by(Location.id.desc()).limit(PICK_LIMIT)))


def people_to_pick(user: User, vehicle: Vehicle) -> list[Person]:
    """Live people in the entries the user may open where this vehicle appears: the likely keepers."""
    entries = sa.select(Link.entry_id).join(Entry, Entry.id == Link.entry_id).where(
        Link.vehicle_id == vehicle.id, visible_entries(user))
    people = sa.select(Link.person_id).where(Link.entry_id.in_(entries), Link.person_id.is_not(None))
    return list(db.session.scalars(sa.select(Person).where(Person.id.in_(people), Person.merged_into_id.is_(None))
                                   .order_by(Person.name_key, Person.id).limit(PICK_LIMIT)))


@dataclass
class ProfileExtras:
    """What a person's or vehicle's profile adds about the record itself, filtered to what the viewer may see."""

    can_edit: bool = False
    addresses: list[tuple[PersonAddress, bool]] = field(default_factory=list)  # (address, may open the place)
    vehicles_kept: list[Vehicle] = field(default_factory=list)
    keeper: Person | None = None
    residents: list[PersonAddress] = field(default_factory=list)  # a place's people, those the viewer may see

    @property
    def shown(self) -> list:
        return [*(item.location for item in (a for a, _ in self.addresses)), *self.vehicles_kept,
                *([self.keeper] if self.keeper else []), *(item.person for item in self.residents)]


def profile_extras(user: User, record) -> ProfileExtras:
    extras = ProfileExtras(can_edit=isinstance(record, (Person, Vehicle)) and can_edit_record(user, record))
    if isinstance(record, Person):
        extras.addresses = [(item, can_view_record(user, item.location)) for item in record.addresses]
        extras.vehicles_kept = [v for v in db.session.scalars(sa.select(Vehicle).where(
            Vehicle.keeper_id == record.id, Vehicle.merged_into_id.is_(None)).order_by(Vehicle.vrm).limit(PICK_LIMIT))
            if can_view_record(user, v)]
    elif isinstance(record, Vehicle):
        if record.keeper is not None and can_view_record(user, record.keeper):
            extras.keeper = record.keeper
    elif isinstance(record, Location):
        extras.residents = [item for item in db.session.scalars(sa.select(PersonAddress).where(
            PersonAddress.location_id == record.id).order_by(PersonAddress.id).limit(PICK_LIMIT))
            if not item.person.is_merged and can_view_record(user, item.person)]
    return extras


def editable(model, record_id: int, user: User):
    """The live person or vehicle (a merged-away id leads to its survivor) that `user` may edit, or RecordNotFound."""
    record = visible_record(model, record_id, user)
    if not can_edit_record(user, record):
        raise RecordNotFound(record_id)
    return record


def record_edit_view(record, shown, *, actor: User) -> None:
    """An edit page shows the record and what it offers to pick: one consultation naming them all."""
    audit.consulted(record, actor=actor, screen="edit")  # the page's own record: the event's object
    audit.consulted(list(shown), actor=actor)
