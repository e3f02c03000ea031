"""Locations and organisations: made, changed, found again and suggested. Services flush and audit, never commit.

A location is an address (house number or name, street, town, postcode) or a named place (a park, a car park);
its point comes from a pin or, failing that, the offline postcode book, and its beat from the point
(pcso/beats/services.py locate_beat). An organisation has a name, a kind and optionally an address (a Location).
Made on their own pages they are listed (any reader may find them); made inside an entry they are seen
through that entry only (pcso/access.py can_view_record, visible_places).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import sqlalchemy as sa

from .. import audit
from ..access import visible_places
from ..beats.services import locate_beat
from ..entries.location import lookup_postcode, parse_point
from ..extensions import db
from ..models import Location, Organisation, OrganisationType, User, name_key, number_key
from ..postcodes import normalise_postcode
from ..queries import like_pattern
from .services import RecordNotFound, visible_record

# A postcode anywhere in typed text ("12 M32 0DH", "Victoria Park, m320dh"): checked by normalise_postcode.
_POSTCODE_IN_TEXT = re.compile(r"\b([A-Za-z]{1,2}\d[A-Za-z\d]?)\s*(\d[A-Za-z]{2})\b")
_LEADING_NUMBER = re.compile(r"^\s*(?:flat\s+\w+,?\s+)?(\d+\s?[A-Za-z]?)\b[\s,]*(.*)$", re.IGNORECASE)
_ORG_NOISE = re.compile(r"\b(the|ltd|limited|plc|llp|co|uk)\b")
SUGGEST_CANDIDATES = 200


class LocationRejected(ValueError):
    """Input that can't make a location: {field: message}, for the form or the API."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))


@dataclass(frozen=True)
class LocationData:
    """A location as typed: an address, or a named place; a pin (lat, lon) or the postcode gives its point."""

    place_name: str | None = None
    house: str | None = None
    street: str | None = None
    town: str | None = None
    postcode: str | None = None
    lat: float | None = None
    lon: float | None = None

    @property
    def is_blank(self) -> bool:
        return not any((self.place_name, self.house, self.street, self.town, self.postcode))


@dataclass(frozen=True)
class OrganisationData:
    name: str
    org_type: OrganisationType
    address: LocationData | None = None


def _clean(value) -> str | None:
    value = re.sub(r"\s+", " ", value or "").strip() if isinstance(value, str) or value is None else value
    return value or None


def org_key(name: str) -> str:
    """An organisation's name as matched: "The Red Lion Ltd", "red lion" and "Red-Lion" meet; & is "and"."""
    key = name_key((name or "").replace("&", " and ").replace("'", "").replace("-", " "))
    return re.sub(r"\s+", " ", _ORG_NOISE.sub(" ", key)).strip() or key


def postcode_in(text: str) -> tuple[str | None, str]:
    """The first UK postcode in `text` (canonical form) and the text without it."""
    for found in _POSTCODE_IN_TEXT.finditer(text or ""):
        postcode = normalise_postcode(found.group(1) + found.group(2))
        if postcode is not None:
            rest = (text[:found.start()] + text[found.end():]).strip(" ,")
            return postcode, re.sub(r"\s+", " ", rest)
    return None, (text or "").strip()


def parse_address(text: str, postcode: str | None = None) -> LocationData:
    """One typed line (an entry form's row, the API) as a location: "12A Acacia Avenue, M32 0DH" is house 12A on
    Acacia Avenue; a line without a leading number is a named place ("Victoria Park")."""
    found, rest = postcode_in(text or "")
    postcode = _clean(postcode) or found
    number = _LEADING_NUMBER.match(rest)
    if number:
        street, _, town = number.group(2).partition(",")
        return LocationData(house=_clean(number.group(1).replace(" ", "").upper()), street=_clean(street),
                            town=_clean(town), postcode=postcode)
    return LocationData(place_name=_clean(rest.strip(" ,")), postcode=postcode)


def address_line(data) -> str:
    """The one line shown for a location: "12A Acacia Avenue, Stretford, M32 0DH" or "Victoria Park, M32 0DH"."""
    first = " ".join(part for part in (data.house, data.street) if part)
    parts = [data.place_name, first, data.town, data.postcode]
    return ", ".join(part for part in parts if part)[:200] or "Unnamed place"


def check_location(data: LocationData, *, field_prefix: str = "") -> tuple[dict[str, str], tuple | None, str | None]:
    """Errors by field, the point (lat, lon) and the canonical postcode."""
    errors: dict[str, str] = {}
    postcode = None
    if data.postcode:
        postcode = normalise_postcode(data.postcode)
        if postcode is None:
            errors[field_prefix + "postcode"] = "Enter a real postcode, like M32 0DH"
    point = None
    if data.lat is not None or data.lon is not None:
        point = parse_point(data.lat, data.lon)
        if point is None:
            errors[field_prefix + "postcode"] = "The pin could not be read: drop it again, or give the postcode"
    if point is None and postcode is not None and not errors:
        found = lookup_postcode(postcode)
        if found is None:
            errors[field_prefix + "postcode"] = "Postcode not found. Check it, or drop a pin on the map."
        else:
            point = (found.lat, found.lon)
    if data.is_blank:
        errors[field_prefix + "street"] = "Give a house number and street, or the name of the place"
    elif data.place_name is None and not data.street and not postcode:
        errors[field_prefix + "street"] = "Give the street or the postcode as well as the number"
    elif data.place_name is not None and point is None and not errors:
        errors[field_prefix + "postcode"] = "A named place needs its postcode or a pin on the map"
    return errors, point, postcode


FIELDS = ("place_name", "house", "street", "town", "postcode", "lat", "lon", "beat_id")


def _fill(location: Location, data: LocationData, point, postcode) -> list[str]:
    """Set the location from checked data; the names of the fields that changed."""
    values = {"place_name": _clean(data.place_name), "house": _clean(data.house), "street": _clean(data.street),
              "town": _clean(data.town), "postcode": postcode,
              "lat": point[0] if point else None, "lon": point[1] if point else None}
    beat = locate_beat(*point) if point else None
    values["beat_id"] = beat.id if beat is not None else None
    changed = [name for name, value in values.items() if getattr(location, name) != value]
    for name, value in values.items():
        setattr(location, name, value)
    location.address = address_line(location)
    location.number_key = number_key(location.house)
    location.name_key = name_key(location.place_name) if location.place_name else None
    return changed


def create_location(data: LocationData, *, actor: User, listed: bool = True, field_prefix: str = "") -> Location:
    """A new location (from its own page: listed; from an entry: not). Raises LocationRejected."""
    errors, point, postcode = check_location(data, field_prefix=field_prefix)
    if errors:
        raise LocationRejected(errors)
    location = Location(is_listed=listed, created_by_id=actor.id)
    changed = _fill(location, data, point, postcode)
    db.session.add(location)
    db.session.flush()
    audit.pole_changed(location, actor=actor, created=True, fields=changed, listed=listed)
    return location


def update_location(location: Location, data: LocationData, *, actor: User) -> Location:
    """Change a location: a revision and an audit event naming the fields changed (not their values)."""
    errors, point, postcode = check_location(data)
    if errors:
        raise LocationRejected(errors)
    changed = _fill(location, data, point, postcode)
    db.session.flush()
    audit.pole_changed(location, actor=actor, fields=changed)
    return location


def _same_place(user: User, data: LocationData, postcode: str | None) -> Location | None:
    """A live location the user may see that is this one exactly: same postcode and number (or name)."""
    if postcode is None:
        return None
    where = [Location.postcode == postcode, Location.merged_into_id.is_(None), visible_places(user, Location)]
    if data.place_name:
        where.append(Location.name_key == name_key(data.place_name))
    elif data.house:
        where += [Location.number_key == number_key(data.house), Location.place_name.is_(None)]
    else:
        return None
    return db.session.scalar(sa.select(Location).where(*where).order_by(Location.id).limit(1))


def location_for(*, user: User, location_id: int | None, address: str, postcode: str | None = None,
                 field_prefix: str = "") -> Location:
    """The place an officer means in an entry: the one picked (while its line is not typed over), one they may
    see at the same postcode and number (or name), or a new unlisted location. Raises RecordNotFound for a
    picked record they may not see, LocationRejected for an address that can't be placed."""
    if location_id:
        picked = visible_record(Location, location_id, user)
        if _clean(address) in (None, picked.address) and not postcode:
            return picked
    data = parse_address(address, postcode)
    errors, point, canonical = check_location(data, field_prefix=field_prefix)
    if errors:
        raise LocationRejected(errors)
    same = _same_place(user, data, canonical)
    if same is not None:
        return same
    location = Location(is_listed=False, created_by_id=user.id)
    changed = _fill(location, data, point, canonical)
    db.session.add(location)
    db.session.flush()
    audit.pole_changed(location, actor=user, created=True, fields=changed, listed=False)
    return location


# --- organisations --------------------------------------------------------------------------------

def _address_for(organisation: Organisation, data: LocationData | None, *, actor: User) -> bool:
    """Give an organisation its address (a location of its own, listed like it); True when it changed."""
    if data is None or data.is_blank:
        changed = organisation.location_id is not None
        organisation.location = None
        return changed
    if organisation.location is not None:
        before = organisation.location.revision
        update_location(organisation.location, data, actor=actor)
        return organisation.location.revision != before
    organisation.location = create_location(data, actor=actor, listed=organisation.is_listed, field_prefix="address-")
    return True


def _check_organisation(data: OrganisationData) -> None:
    if not _clean(data.name):
        raise LocationRejected({"name": "Enter the organisation's name"})
    if data.address is not None and not data.address.is_blank:
        errors, _, _ = check_location(data.address, field_prefix="address-")
        if errors:
            raise LocationRejected(errors)


def create_organisation(data: OrganisationData, *, actor: User, listed: bool = True) -> Organisation:
    _check_organisation(data)
    organisation = Organisation(name=_clean(data.name)[:200], name_key=org_key(data.name), org_type=data.org_type,
                                is_listed=listed, created_by_id=actor.id)
    db.session.add(organisation)
    db.session.flush()
    fields = ["name", "org_type"] + (["location_id"] if _address_for(organisation, data.address, actor=actor) else [])
    db.session.flush()
    audit.pole_changed(organisation, actor=actor, created=True, fields=fields, listed=listed)
    return organisation


def update_organisation(organisation: Organisation, data: OrganisationData, *, actor: User) -> Organisation:
    _check_organisation(data)
    changed = []
    if organisation.name != _clean(data.name):
        organisation.name, organisation.name_key = _clean(data.name)[:200], org_key(data.name)
        changed.append("name")
    if organisation.org_type != data.org_type:
        organisation.org_type = data.org_type
        changed.append("org_type")
    if _address_for(organisation, data.address, actor=actor):
        changed.append("location_id")
    db.session.flush()
    audit.pole_changed(organisation, actor=actor, fields=changed)
    return organisation


def organisation_for(*, user: User, organisation_id: int | None, name: str,
                     org_type: OrganisationType | None = None) -> Organisation:
    """The organisation an officer means in an entry: the one picked (name not typed over), a live one they may
    see with the same normalised name, or a new unlisted one."""
    key = org_key(name)
    if organisation_id:
        picked = visible_record(Organisation, organisation_id, user)
        if key == picked.name_key or key == org_key(picked.name):
            return picked
    same = db.session.scalar(sa.select(Organisation).where(
        Organisation.name_key == key, Organisation.merged_into_id.is_(None),
        visible_places(user, Organisation)).order_by(Organisation.id).limit(1))
    if same is not None:
        return same
    return create_organisation(OrganisationData(name=name, org_type=org_type or OrganisationType.OTHER),
                               actor=user, listed=False)


# --- suggestions as an officer types --------------------------------------------------------------

@dataclass
class Suggestion:
    record: Location | Organisation
    reason: str
    score: float


def _base_number(key: str | None) -> str | None:
    match = re.match(r"^(\d+)", key or "")
    return match.group(1) if match else None


def suggest_locations(user: User, text: str, *, limit: int) -> list[Suggestion]:
    """Live locations the user may see that the typed text may mean, best first, each with why:
    by postcode and house number ("12" meets "12A" as a near number), by a place's name, or by street."""
    postcode, rest = postcode_in(text)
    number = _LEADING_NUMBER.match(rest)
    house = number_key(number.group(1)) if number else None
    words = name_key(number.group(2) if number else rest)
    live = (Location.merged_into_id.is_(None), visible_places(user, Location))
    found: dict[int, Suggestion] = {}

    def offer(location: Location, reason: str, score: float) -> None:
        if location.id not in found or found[location.id].score < score:
            found[location.id] = Suggestion(location, reason, score)

    if postcode is not None:
        for location in db.session.scalars(sa.select(Location).where(Location.postcode == postcode, *live)
                                           .order_by(Location.id).limit(SUGGEST_CANDIDATES)):
            if house and location.number_key == house:
                offer(location, "Same postcode and number", 3)
            elif house and _base_number(location.number_key) == _base_number(house):
                offer(location, f"Same postcode, number {location.house} (you typed {number.group(1).strip()})", 2.5)
            elif words and location.name_key and (words in location.name_key or location.name_key in words):
                offer(location, "Same postcode and name", 3)
            elif not house:
                offer(location, "Same postcode", 1.5)
            else:
                offer(location, "Same postcode, another number", 1)
    if len(words) >= 3:
        pattern = like_pattern(words)
        for location in db.session.scalars(sa.select(Location).where(
                sa.or_(Location.name_key.like(pattern, escape="\\"),
                       sa.func.lower(Location.street).like(pattern, escape="\\")), *live)
                .order_by(Location.id).limit(SUGGEST_CANDIDATES)):
            if location.name_key and words in location.name_key:
                offer(location, "Same name" if location.name_key == words else "Name matches", 2)
            elif house and location.number_key == house:
                offer(location, "Same number and street", 2.8)
            else:
                offer(location, "Same street", 1.2 if house else 1.4)
    return sorted(found.values(), key=lambda s: (-s.score, s.record.address, s.record.id))[:limit]


def suggest_organisations(user: User, text: str, *, limit: int) -> list[Suggestion]:
    """Live organisations the user may see whose normalised name is the typed one, contains it or is close."""
    key = org_key(text)
    if len(key) < 2:
        return []
    words = [word for word in key.split() if len(word) >= 3] or [key]
    candidates = db.session.scalars(sa.select(Organisation).where(
        sa.or_(*(Organisation.name_key.like(like_pattern(word), escape="\\") for word in words)),
        Organisation.merged_into_id.is_(None), visible_places(user, Organisation))
        .order_by(Organisation.id).limit(SUGGEST_CANDIDATES))
    found = []
    for organisation in candidates:
        theirs = organisation.name_key or org_key(organisation.name)
        ratio = difflib.SequenceMatcher(None, key, theirs).ratio()
        if theirs == key:
            found.append(Suggestion(organisation, "Same name", 3))
        elif key in theirs:
            found.append(Suggestion(organisation, "Name contains what you typed", 2 + ratio / 10))
        elif ratio >= 0.75:
            found.append(Suggestion(organisation, "Similar name", 1 + ratio))
        elif all(word in theirs for word in words):
            found.append(Suggestion(organisation, "Same words in the name", 1 + ratio / 10))
    return sorted(found, key=lambda s: (-s.score, s.record.name, s.record.id))[:limit]


__all__ = ["LocationData", "LocationRejected", "OrganisationData", "RecordNotFound", "address_line",
           "create_location", "create_organisation", "location_for", "org_key", "organisation_for", "parse_address",
           "suggest_locations", "suggest_organisations", "update_location", "update_organisation"]
