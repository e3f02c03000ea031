"""What an entry is made from: plain typed data, the same whether it came from a form, JSON or a sync.

The HTML views turn a WTForms form into an EntryInput (each kind's `from_form`), the API turns JSON into
one (pcso/entries/schema.py), and pcso/entries/services.py makes or changes the entry from it.
Cross-field rules live in each kind's `check()` and in the services, never in a form's validate().
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..models import EntryKind, LinkRole, OrganisationType, SecurityMarking

# A client's key for one entry (the form's hidden field, the API's Idempotency-Key): retries carry the same one.
CLIENT_KEY = re.compile(r"^[A-Za-z0-9-]{8,64}$")


@dataclass(frozen=True)
class PlaceInput:
    """Where, as given: a point (device or map pin) or a postcode, else nothing; an optional beat chosen by hand."""

    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    source: str = "none"  # gps, map, school, postcode or none: how the point was obtained
    postcode: str | None = None
    location_text: str | None = None
    beat_id: int | None = None


@dataclass(frozen=True)
class PersonInput:
    """A person named in an entry: a record picked from the suggestions (person_id), or a name to find or make."""

    name: str
    role: LinkRole
    person_id: int | None = None
    born_on: date | None = None
    description: str | None = None
    # A welfare check's child: a picked record is linked only if it has this very date of birth (the one the
    # under-18 rule was checked on); pcso/entries/services.py refuses it otherwise, naming the field.
    confirm_born_on: bool = False


@dataclass(frozen=True)
class VehicleInput:
    vrm: str
    make: str | None = None
    model: str | None = None
    colour: str | None = None
    role: LinkRole = LinkRole.MENTIONED


@dataclass(frozen=True)
class LocationInput:
    """A place in an entry: a record picked from the suggestions (location_id), or an address line ("12 Acacia
    Avenue", with the postcode in it or beside it) or a named place to find or make (pcso/pole/locations.py)."""

    address: str
    role: LinkRole = LinkRole.SCENE
    postcode: str | None = None
    location_id: int | None = None


@dataclass(frozen=True)
class OrganisationInput:
    name: str
    role: LinkRole = LinkRole.INVOLVED
    org_type: OrganisationType | None = None
    organisation_id: int | None = None


@dataclass(frozen=True)
class EntryInput:
    """One entry of any kind: the fields every entry has, and the kind's own (`fields`, its kind's dataclass)."""

    kind: EntryKind
    client_key: str
    occurred_at: datetime  # timezone-aware UTC
    summary: str
    fields: Any
    place: PlaceInput = field(default_factory=PlaceInput)
    marking: SecurityMarking | None = None
    raised_from_id: int | None = None
    # Places and organisations any kind of entry may name, with their roles there
    places: tuple[LocationInput, ...] = ()
    organisations: tuple[OrganisationInput, ...] = ()
