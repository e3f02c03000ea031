"""Entries as JSON: the API's (and sync's) way in to the same services the forms use.

The body of an entry is flat: the fields every entry has (named as on the form: occurred_at, summary,
marking, lat, lon, accuracy_m, location_source, postcode, location_text, beat_id, raised_from_id) and
the kind's own fields (its schema in pcso/entries/kinds/<kind>.py). So a service's refusal names the
same key the client sent.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import timezone
from functools import cache
from types import SimpleNamespace
from typing import Any

from flask import url_for
from marshmallow import Schema, fields, post_load, validate

from ..access import can_view_source
from ..beats.services import beat_label
from ..models import Entry, EntryKind, SecurityMarking, User
from ..numbers import ACCURACY_RANGE_M, LAT_RANGE, LON_RANGE, FiniteFloat, RecordId, finite_float
from .data import EntryInput, PlaceInput
from .kinds.base import text
from .kinds.common import LocationLinkSchema, OrganisationLinkSchema, organisations_field, places_field, places_view
from .registry import kind_of


class CommonEntrySchema(Schema):
    occurred_at = fields.AwareDateTime(required=True, metadata={
        "description": "When it happened, with its offset (stored in UTC)", "example": "2026-12-02T14:30:00Z"})
    summary = fields.String(load_default="", validate=validate.Length(max=200), metadata={
        "description": "One line for lists (a patrol's may be blank: its purpose is used)",
        "example": "Youths on the tram platform"})
    marking = fields.Enum(SecurityMarking, by_value=True, load_default=None, allow_none=True,
                          metadata={"example": "OFFICIAL"})
    lat = FiniteFloat(*LAT_RANGE, load_default=None, allow_none=True, metadata={"example": 53.464903})
    lon = FiniteFloat(*LON_RANGE, load_default=None, allow_none=True, metadata={"example": -2.260757})
    accuracy_m = FiniteFloat(*ACCURACY_RANGE_M, load_default=None, allow_none=True, metadata={"example": 12})
    location_source = fields.String(load_default="none", validate=validate.OneOf(("gps", "map", "none")),
                                    metadata={"example": "gps"})
    postcode = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=10),
                             metadata={"description": "Used when no point is given", "example": "M15 4AD"})
    location_text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200),
                                  metadata={"example": "Tram stop, Warwick Road"})
    beat_id = RecordId(load_default=None, allow_none=True,
                       metadata={"description": "Chosen by hand; otherwise worked out from the point"})
    raised_from_id = RecordId(load_default=None, allow_none=True, metadata={
                                        "description": "Intelligence only: the entry it was raised from"})
    places = places_field(metadata={"description": "Places it names, each with its role (scene, seen, venue...)"})
    organisations = organisations_field(metadata={"description": "Organisations it names, each with its role"})


@cache
def entry_input_schema(kind: EntryKind) -> type[Schema]:
    """The JSON schema of one kind's entry: the common fields and the kind's own. load() gives an EntryInput
    without its client key (load_entry_input adds it)."""
    spec = kind_of(kind)
    own = dict(spec.schema._declared_fields)

    @post_load
    def make(self, data: dict, **kwargs) -> EntryInput:
        kind_fields = spec.schema().make({name: data.pop(name) for name in own})
        when = data["occurred_at"].astimezone(timezone.utc)
        place = PlaceInput(lat=data["lat"], lon=data["lon"], accuracy_m=data["accuracy_m"],
                           source=data["location_source"], postcode=text(data["postcode"]),
                           location_text=text(data["location_text"]), beat_id=data["beat_id"])
        return EntryInput(kind=spec.kind, client_key="", occurred_at=when, summary=data["summary"].strip(),
                          fields=kind_fields, place=place, marking=data["marking"],
                          raised_from_id=data["raised_from_id"], places=tuple(data["places"]),
                          organisations=tuple(data["organisations"]))

    name = spec.schema.__name__.removesuffix("Schema") + "Entry"
    return type(name, (CommonEntrySchema,), own | {"make": make, "__doc__": f"A new or changed {spec.kind.noun}."})


def load_entry_input(kind: EntryKind, body: Any, client_key: str) -> EntryInput:
    """JSON to typed input; raises marshmallow.ValidationError (messages keyed by field) on bad input."""
    return replace(entry_input_schema(kind)().load(body), client_key=client_key)


def dump_entry(entry: Entry, *, viewer: User) -> dict[str, Any]:
    """An entry the viewer may open, as JSON: what its page shows them (the source only to those who may)."""
    spec = kind_of(entry.kind)
    columns = {name: getattr(entry, name, None) for name in spec.schema._declared_fields}
    own = spec.schema().dump(SimpleNamespace(**columns | spec.json_view(entry)))
    if spec.kind == EntryKind.INTELLIGENCE_REPORT and can_view_source(viewer, entry):
        own["source_details"] = entry.source_details
    return {
        "id": entry.id, "kind": entry.kind.value, "status": entry.status.value,
        "occurred_at": _iso(entry.occurred_at), "recorded_at": _iso(entry.recorded_at),
        "updated_at": _iso(entry.updated_at), "submitted_at": _iso(entry.submitted_at),
        "summary": entry.summary, "marking": entry.marking.value, "beat_id": entry.beat_id,
        "beat_code": beat_label(entry.beat_id).code, "is_beat_overridden": entry.is_beat_overridden,
        "lat": entry.lat, "lon": entry.lon, "accuracy_m": finite_float(entry.accuracy_m),
        "location_source": entry.location_source.value, "location_text": entry.location_text,
        "author_collar": entry.author.collar_number, "patrol_id": entry.patrol_id,
        "raised_from_id": getattr(entry, "raised_from_id", None),
        **({"started_at": _iso(entry.started_at), "ended_at": _iso(entry.ended_at)}
           if entry.kind == EntryKind.PATROL else {}),
        **own,
        "places": LocationLinkSchema(many=True).dump(places_view(entry)["places"]),
        "organisations": OrganisationLinkSchema(many=True).dump(places_view(entry)["organisations"]),
        "photos": [{"id": photo.id, "url": url_for("photos.photo", photo_id=photo.id),
                    "thumbnail_url": url_for("photos.thumbnail", photo_id=photo.id), "width": photo.width,
                    "height": photo.height} for photo in entry.photos],
    }


def _iso(value) -> str | None:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if value else None
