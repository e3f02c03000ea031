"""Schemas of the POLE profiles, search, review, briefing, entry lists and exports."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import ValidationError, fields, post_load, validate

from ..lists.filters import LISTED_STATUSES, PARAMS
from ..models import (
    AsbType, EntryKind, HandlingCode, IntelAssessment, NsirCategory, PatrolMode, ReviewDecision, RiskLevel,
    SourceEvaluation,
)
from .schemas import STAMP, EntrySummarySchema, Strict, enum_field, example

ENTRY = EntrySummarySchema.example


@example({"marker": "violent", "label": "Violent", "set_at": STAMP, "review_on": "2027-06-01"})
class WarningMarkerSchema(ma.Schema):
    """A warning marker in force (its note stays on the pages: the API gives what it is and since when)."""
    marker = fields.String(required=True)
    label = fields.String(required=True)
    set_at = fields.AwareDateTime(required=True)
    review_on = fields.Date(allow_none=True)


@example({"id": 41, "full_name": "Sam Smith", "born_on": "1990-04-02", "aliases": ["Sammy"],
          "warning_markers": ["violent"], "sex": "male", "approx_age": None, "approx_age_on": None,
          "description": "Tall, red hoodie", "markers": [WarningMarkerSchema.example]})
class PersonRecordSchema(ma.Schema):
    id = fields.Integer(required=True)
    full_name = fields.String(required=True)
    born_on = fields.Date(allow_none=True)
    aliases = fields.List(fields.String(), required=True)
    warning_markers = fields.List(fields.String(), required=True)
    sex = fields.String(required=True, metadata={"enum": ["female", "male", "unknown"]})
    approx_age = fields.Integer(allow_none=True, metadata={"description": "an officer's estimate, on approx_age_on"})
    approx_age_on = fields.Date(allow_none=True)
    description = fields.String(allow_none=True)
    markers = fields.List(fields.Nested(WarningMarkerSchema), attribute="active_markers", required=True)


@example({"id": 9, "vrm": "AB12CDE", "make": "Vauxhall", "model": "Corsa", "colour": "Blue",
          "description": "Roof box"})
class VehicleRecordSchema(ma.Schema):
    id = fields.Integer(required=True)
    vrm = fields.String(required=True)
    make = fields.String(allow_none=True)
    model = fields.String(allow_none=True)
    colour = fields.String(allow_none=True)
    description = fields.String(allow_none=True)


@example({"id": 5, "address": "12 Matrix Road", "postcode": "M16 0AA", "lat": 53.46, "lon": -2.26, "beat_id": 7})
class LocationRecordSchema(ma.Schema):
    id = fields.Integer(required=True)
    address = fields.String(required=True)
    postcode = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    beat_id = fields.Integer(allow_none=True)


@example(dict(ENTRY, roles=["victim"]))
class TimelineEntrySchema(EntrySummarySchema):
    roles = fields.List(fields.String(), required=True)


def profile_schema(record_schema, name: str, record_example: dict):
    cls = type(f"{name}ProfileSchema", (ma.Schema,), {
        "record": fields.Nested(record_schema, required=True),
        "entries_total": fields.Integer(required=True),
        "entries": fields.List(fields.Nested(TimelineEntrySchema), required=True)})
    return example({"record": record_example, "entries_total": 1, "entries": [TimelineEntrySchema.example]})(cls)


PersonProfileSchema = profile_schema(PersonRecordSchema, "Person", PersonRecordSchema.example)
VehicleProfileSchema = profile_schema(VehicleRecordSchema, "Vehicle", VehicleRecordSchema.example)
LocationProfileSchema = profile_schema(LocationRecordSchema, "Location", LocationRecordSchema.example)


@example({"q": "corsa", "kinds": ["asb_incident"], "date_from": "2026-11-01", "page": 1})
class SearchInSchema(Strict):
    q = fields.String(load_default="", validate=validate.Length(max=200))
    person = fields.String(load_default="", validate=validate.Length(max=120))
    vrm = fields.String(load_default="", validate=validate.Length(max=12))
    kinds = fields.List(enum_field(EntryKind), load_default=list, validate=validate.Length(max=len(EntryKind)))
    beat_id = fields.Integer(allow_none=True, validate=validate.Range(1, 2**31 - 1))
    date_from = fields.Date(allow_none=True)
    date_to = fields.Date(allow_none=True)
    author_id = fields.Integer(allow_none=True, validate=validate.Range(1, 2**31 - 1))
    nsir_category = enum_field(NsirCategory, allow_none=True)
    source_evaluation = enum_field(SourceEvaluation, allow_none=True)
    assessment = enum_field(IntelAssessment, allow_none=True)
    handling_code = enum_field(HandlingCode, allow_none=True)
    lat = fields.Float(allow_none=True, validate=validate.Range(-90, 90))
    lon = fields.Float(allow_none=True, validate=validate.Range(-180, 180))
    radius_m = fields.Integer(load_default=500, validate=validate.Range(10, 5000))
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))


@example({"id": 41, "label": "Sam Smith"})
class FoundRecordSchema(ma.Schema):
    id = fields.Integer(required=True)
    label = fields.String(required=True)


@example(dict(ENTRY, distance_m=120.5))
class SearchResultSchema(EntrySummarySchema):
    distance_m = fields.Float(allow_none=True, metadata={"description": "From the point searched near, if any"})


@example({"total": 1, "page": 1, "pages": 1, "is_capped": False, "results": [dict(ENTRY, distance_m=None)],
          "people": [FoundRecordSchema.example], "vehicles": []})
class SearchOutSchema(ma.Schema):
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    is_capped = fields.Boolean(required=True)
    results = fields.List(fields.Nested(SearchResultSchema), required=True)
    people = fields.List(fields.Nested(FoundRecordSchema), required=True)
    vehicles = fields.List(fields.Nested(FoundRecordSchema), required=True)


@example({"entry": ENTRY, "waiting_hours": 5.5, "is_overdue": False})
class QueueItemSchema(ma.Schema):
    entry = fields.Nested(EntrySummarySchema, required=True)
    waiting_hours = fields.Float(required=True)
    is_overdue = fields.Boolean(required=True)


@example({"total": 1, "items": [QueueItemSchema.example]})
class QueueSchema(ma.Schema):
    total = fields.Integer(required=True)
    items = fields.List(fields.Nested(QueueItemSchema), required=True)


@example({"scope": "mine", "beat_id": 7})
class QueueArgsSchema(Strict):
    scope = fields.String(load_default="mine", validate=validate.OneOf(["mine", "all"]))
    beat_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))


@example({"source_evaluation": "2", "assessment": "B", "handling_code": "P", "handling_conditions": None})
class GradingSchema(Strict):
    source_evaluation = enum_field(SourceEvaluation, required=True)
    assessment = enum_field(IntelAssessment, required=True)
    handling_code = enum_field(HandlingCode, required=True)
    handling_conditions = fields.String(allow_none=True, validate=validate.Length(max=2000))


@example({"decision": "return", "comment": "Add the victim's risk level"})
class DecisionInSchema(Strict):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "return"]))
    comment = fields.String(allow_none=True, validate=validate.Length(max=2000))
    grading = fields.Nested(GradingSchema, allow_none=True)


@example({"id": 88, "entry_id": 501, "decision": "returned", "comment": "Add the victim's risk level", "at": STAMP})
class ReviewSchema(ma.Schema):
    id = fields.Integer(required=True)
    entry_id = fields.Integer(required=True)
    decision = enum_field(ReviewDecision, required=True)
    comment = fields.String(allow_none=True)
    at = fields.AwareDateTime(required=True)


@example({"id": 12, "rank": 1, "beat_id": 7, "place": "M32 0DH", "postcode": "M32 0DH", "lat": 53.4651, "lon": -2.27,
          "radius_m": 180, "days": [5, 6], "hour_from": 20, "hours": 3, "window": "Fri–Sat 20:00–23:00",
          "next_start": "2026-11-28T20:00:00Z", "next_end": "2026-11-28T23:00:00Z", "is_now": False,
          "reason": "7 ASB reports near M32 0DH, Fri–Sat 20:00–23:00, last 28 days; 1 intelligence report",
          "counts": {"asb": 7, "asb_in_window": 7, "intel": 1, "intel_in_window": 1, "street_crime": 0},
          "handling_conditions": [], "start_url": "/patrols/suggested/12/start"})
class PatrolPlanSchema(ma.Schema):
    """A suggested patrol, as the briefing page shows it (docs/PATROL_SUGGESTIONS.md): built only from OFFICIAL
    ASB and intelligence reports you may open on your beats, and street crime context."""
    id = fields.Integer(allow_none=True, metadata={"description": "The kept suggestion (once per officer and day)"})
    rank = fields.Integer(required=True, metadata={"description": "1 = best, within its beat"})
    beat_id = fields.Integer(required=True)
    place = fields.String(required=True, metadata={"description": "The nearest postcode, or the point"})
    postcode = fields.String(allow_none=True)
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)
    radius_m = fields.Float(required=True)
    days = fields.List(fields.Integer(validate=validate.Range(1, 7)), required=True,
                       metadata={"description": "ISO weekdays of the window (1 = Monday)"})
    hour_from = fields.Integer(required=True, metadata={"description": "London hour the window opens"})
    hours = fields.Integer(required=True)
    window = fields.String(required=True, attribute="when", metadata={"description": "The window as words"})
    next_start = fields.AwareDateTime(required=True,
                                      metadata={"description": "When the window next opens (or opened, if now)"})
    next_end = fields.AwareDateTime(required=True, metadata={"description": "When that window closes"})
    is_now = fields.Boolean(required=True, metadata={"description": "The window is open now"})
    reason = fields.String(required=True,
                           metadata={"description": "Why: the reports counted, where, when, over what period"})
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    handling_conditions = fields.List(fields.String(), required=True, metadata={
        "description": "Conditions of handling code C intelligence the suggestion counts: they go with it"})
    start_url = fields.String(allow_none=True, metadata={"description": "The page that starts a patrol from it"})


@example({"since": STAMP, "counts": {"new": 1, "intelligence": 0, "returned": 0, "hotspots": 0, "welfare_due": 0,
          "priorities": 0, "open_actions": 0}, "marking": "OFFICIAL", "new_entries": [ENTRY], "intelligence": [],
          "returned": [], "drafts": [], "patrol_plans": [PatrolPlanSchema.example]})
class BriefingSchema(ma.Schema):
    since = fields.AwareDateTime(required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    marking = fields.String(required=True)
    new_entries = fields.List(fields.Nested(EntrySummarySchema), required=True)
    intelligence = fields.List(fields.Nested(EntrySummarySchema), required=True)
    returned = fields.List(fields.Nested(EntrySummarySchema), required=True)
    drafts = fields.List(fields.Nested(EntrySummarySchema), required=True)
    patrol_plans = fields.List(fields.Nested(PatrolPlanSchema), required=True,
                               metadata={"description": "Suggested patrols for your beats, best first per beat"})


LIST_FILTERS = {
    "beat": fields.List(fields.Integer(validate=validate.Range(1, 2**31 - 1)), validate=validate.Length(max=100)),
    "kind": fields.List(fields.String(validate=validate.OneOf([k.slug for k in EntryKind])),
                        validate=validate.Length(max=len(EntryKind))),
    "status": fields.List(fields.String(validate=validate.OneOf([s.value for s in LISTED_STATUSES])),
                          validate=validate.Length(max=3)),
    "from": fields.Date(), "to": fields.Date(),
    "nsir": fields.String(validate=validate.OneOf([v.value for v in NsirCategory])),
    "asb_type": fields.String(validate=validate.OneOf([v.value for v in AsbType])),
    "mode": fields.String(validate=validate.OneOf([v.value for v in PatrolMode])),
    "risk": fields.String(validate=validate.OneOf([v.value for v in RiskLevel])),
    "person": fields.Integer(validate=validate.Range(1, 2**31 - 1)),
    "bbox": fields.String(metadata={"description": "min lon,min lat,max lon,max lat", "example": "-2.3,53.4,-2.2,53.5"}),
}
assert set(LIST_FILTERS) | {"set"} == set(PARAMS), "the API's list filters follow pcso/lists/filters.py"


@example({"kind": ["asb-incidents"], "from": "2026-11-01", "limit": 25})
class ListArgsSchema(Strict):
    locals().update({name: field for name, field in LIST_FILTERS.items()})
    cursor = fields.String(validate=validate.Length(max=200))
    limit = fields.Integer(load_default=25, validate=validate.Range(1, 100))


@example({"kind": ["asb-incidents"], "from": "2026-11-01"})
class FiltersSchema(Strict):
    locals().update({name: field for name, field in LIST_FILTERS.items()})


@example({"id": 3, "status": "pending", "format": "csv", "count": 120, "marking": "OFFICIAL-SENSITIVE",
          "purpose": "Evidence pack for the ASB case review", "recipient": "J Smith, Trafford Council",
          "created_at": STAMP, "decided_at": None, "expires_at": None, "comment": None, "downloads": 0,
          "approve_url": "/exports/3"})
class ExportRequestSchema(ma.Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["pending", "approved", "refused", "downloaded"]))
    format = fields.String(required=True)
    count = fields.Integer(required=True)
    marking = fields.String(required=True)
    purpose = fields.String(required=True)
    recipient = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    decided_at = fields.AwareDateTime(allow_none=True)
    expires_at = fields.AwareDateTime(allow_none=True)
    comment = fields.String(allow_none=True)
    downloads = fields.Integer(required=True)
    approve_url = fields.String(required=True, metadata={"description": "The page where a second person decides"})


@example({"format": "csv", "purpose": "Ward panel on ASB at the tram stop",
          "recipient": "Trafford Council ASB team", "filters": FiltersSchema.example})
class ExportInSchema(Strict):
    format = fields.String(required=True, validate=validate.OneOf(["csv", "geojson"]))
    purpose = fields.String(required=True, validate=validate.Length(max=500),
                            metadata={"description": "Why it is needed: 10 to 500 characters"})
    recipient = fields.String(required=True, validate=validate.Length(max=200),
                              metadata={"description": "Who receives it: 3 to 200 characters"})
    filters = fields.Nested(FiltersSchema, load_default=dict)

    @post_load
    def one_line(self, data, **kwargs):
        """As the export form: one line each, in the file and the audit log; then the lengths."""
        errors = {}
        for name, least in (("purpose", 10), ("recipient", 3)):
            data[name] = " ".join(data[name].split())
            if len(data[name]) < least:
                errors[name] = [f"Give the {name} in {least} characters at least."]
        if errors:
            raise ValidationError(errors)
        return data
