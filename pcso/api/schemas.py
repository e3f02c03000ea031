"""Marshmallow schemas shared by the API's endpoints; each carries an example for the OpenAPI document.

`@example({...})` sets the schema's example; setup.register_schemas() puts every schema in SCHEMAS
into components with it (a test checks that every component has one and that it validates).
"""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..models import EntryKind, EntryStatus, Role, SecurityMarking, TokenScope

SCHEMAS: list[type[ma.Schema]] = []

STAMP = "2026-11-28T21:40:00Z"


def example(value: dict):
    def decorator(cls):
        cls.example = value
        SCHEMAS.append(cls)
        return cls
    return decorator


def enum_field(enum_cls, **kwargs):
    return fields.Enum(enum_cls, by_value=True, **kwargs)


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


@example({"submit": True})
class SubmitArgsSchema(Strict):
    submit = fields.Boolean(load_default=False, metadata={"description": "Submit for review at once"})


PROBLEM_EXAMPLE = {"type": "/api/v1/reference#problem-validation", "title": "Unprocessable Content", "status": 422,
                   "detail": "Some fields are not right: see errors.", "errors": {"purpose": ["Missing data."]}}


@example(PROBLEM_EXAMPLE)
class ProblemSchema(ma.Schema):
    type = fields.String(required=True, metadata={"description": "A URI reference naming the kind of problem"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.Raw(),
                         metadata={"description": "Field name -> messages"})


@example({"id": 7, "code": "E05015253", "name": "Old Trafford"})
class BeatRefSchema(ma.Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)


@example({"id": 3, "name": "Laptop sync", "prefix": "bb_x7Qa1Lk", "scope": "write", "expires_at": STAMP,
          "last_used_at": None})
class TokenInfoSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    prefix = fields.String(required=True)
    scope = enum_field(TokenScope, required=True)
    expires_at = fields.AwareDateTime(required=True)
    last_used_at = fields.AwareDateTime(allow_none=True)


@example({"id": 12, "collar_number": "PC1234", "display_name": "Sam Patel", "role": "pcso",
          "beats": [BeatRefSchema.example], "authenticated_by": "token", "token": TokenInfoSchema.example})
class MeSchema(ma.Schema):
    id = fields.Integer(required=True)
    collar_number = fields.String(required=True)
    display_name = fields.String(required=True)
    role = enum_field(Role, required=True)
    beats = fields.List(fields.Nested(BeatRefSchema), required=True)
    authenticated_by = fields.String(required=True, validate=validate.OneOf(["token", "session"]))
    token = fields.Nested(TokenInfoSchema, allow_none=True)
    session_expires_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "Signed in with the browser session: when it ends if left idle (each request moves it on)"})


@example({"type": "Feature", "id": 7, "geometry": {"type": "Polygon", "coordinates": [[[-2.28, 53.45],
          [-2.25, 53.45], [-2.25, 53.47], [-2.28, 53.45]]]}, "properties": {"code": "E05015253", "name": "Old Trafford"}})
class BeatFeatureSchema(ma.Schema):
    type = fields.String(required=True, validate=validate.Equal("Feature"))
    id = fields.Integer(required=True)
    geometry = fields.Dict(required=True)
    properties = fields.Dict(required=True)


@example({"type": "FeatureCollection", "features": [BeatFeatureSchema.example]})
class BeatCollectionSchema(ma.Schema):
    type = fields.String(required=True, validate=validate.Equal("FeatureCollection"))
    features = fields.List(fields.Nested(BeatFeatureSchema), required=True)


@example({"id": 4, "urn": 106360, "name": "Seymour Park Community Primary School", "school_type": "Community school",
          "age_range": "3-11", "postcode": "M16 9QE", "lat": 53.4569, "lon": -2.2711, "beat_id": 7})
class SchoolSchema(ma.Schema):
    id = fields.Integer(required=True)
    urn = fields.Integer(required=True)
    name = fields.String(required=True)
    school_type = fields.String(allow_none=True)
    age_range = fields.String(allow_none=True)
    postcode = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    beat_id = fields.Integer(allow_none=True)


@example({"id": 501, "kind": "asb_incident", "status": "submitted", "occurred_at": STAMP,
          "summary": "Youths on the tram platform", "marking": "OFFICIAL", "beat": BeatRefSchema.example,
          "author_collar": "PC1234", "lat": 53.4649, "lon": -2.2607, "url": "/entries/501"})
class EntrySummarySchema(ma.Schema):
    id = fields.Integer(required=True)
    kind = enum_field(EntryKind, required=True)
    status = enum_field(EntryStatus, required=True)
    occurred_at = fields.AwareDateTime(required=True)
    summary = fields.String(required=True)
    marking = enum_field(SecurityMarking, required=True)
    beat = fields.Nested(BeatRefSchema, allow_none=True)
    author_collar = fields.String(required=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    url = fields.String(required=True, metadata={"description": "The entry's page"})


@example({"entries": [EntrySummarySchema.example], "next_cursor": "MjAyNi0xMS0yOFQyMTo0MDowMCswMDowMHw1MDE"})
class EntryPageSchema(ma.Schema):
    entries = fields.List(fields.Nested(EntrySummarySchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True,
                                metadata={"description": "Pass as ?cursor= for the next page; null at the end"})
