"""School visits: which school, what kind of visit, the topic, who was there and what follows."""
from __future__ import annotations

from dataclasses import dataclass

from marshmallow import Schema, fields, post_load, validate
from wtforms import FieldList, FormField, IntegerField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ...extensions import db
from ...numbers import RecordId
from ...models import EntryKind, School, SchoolVisit, SchoolVisitType
from ..data import PersonInput, VehicleInput
from ..forms import EntryForm, MultiCheckboxField, PersonForm, VehicleForm, as_str, choices, long_text
from .base import DetailRow, ExportColumn, Kind, label_of, text
from .common import (
    PersonSchema, linked_view, load_links, named_links, people_field, people_from_form, vehicles_field, vehicles_from_form,
)
from .common import long_text as json_long_text

YEAR_GROUPS = ["Nursery", "Reception"] + [f"Y{n}" for n in range(1, 14)] + ["Staff", "Parents"]


class SchoolVisitForm(EntryForm):
    KIND = EntryKind.SCHOOL_VISIT
    KIND_ORDER = ("summary", "school_id", "visit_type", "topic", "occurred_at", "year_groups", "audience_size",
                  "follow_ups")
    school_id = SelectField("School", coerce=str, validators=[DataRequired("Choose the school")])
    visit_type = RadioField("Visit type", coerce=as_str, choices=choices(SchoolVisitType),
                            validators=[InputRequired("Choose the visit type")])
    topic = StringField("Topic", validators=[DataRequired("Enter the topic"), Length(max=200)],
                        description="e.g. Knife Crime Awareness Week")
    year_groups = MultiCheckboxField("Year groups", choices=[(y, y) for y in YEAR_GROUPS])
    audience_size = IntegerField("Audience size", validators=[Optional(), NumberRange(1, 5000,
                                 "Enter a number between 1 and 5,000")])
    follow_ups = long_text("Follow-ups", description="Anything to do next. A disclosure is its own "
                           "safeguarding record, not a note here.")
    people = FieldList(FormField(PersonForm), min_entries=1, max_entries=20)
    vehicles = FieldList(FormField(VehicleForm), min_entries=1, max_entries=20)

    def __init__(self, *args, schools=(), near_beats=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        schools = list(schools)
        mine = [(str(s.id), s.name) for s in schools if s.beat_id in near_beats]
        others = [(str(s.id), s.name) for s in schools if s.beat_id not in near_beats]
        self.school_id.choices = (
            {"": [("", "Choose the school")], "On your beats": mine, "Other schools": others} if mine
            else [("", "Choose the school")] + others
        )


@dataclass(frozen=True)
class SchoolVisitFields:
    school_id: int
    visit_type: SchoolVisitType
    topic: str
    year_groups: tuple[str, ...] = ()
    audience_size: int | None = None
    follow_ups: str | None = None
    people: tuple[PersonInput, ...] = ()
    vehicles: tuple[VehicleInput, ...] = ()


class SchoolVisitSchema(Schema):
    school_id = RecordId(required=True, metadata={"example": 12})
    visit_type = fields.Enum(SchoolVisitType, by_value=True, required=True, metadata={"example": "assembly"})
    topic = fields.String(required=True, validate=validate.Length(min=1, max=200),
                          metadata={"example": "Knife Crime Awareness Week"})
    year_groups = fields.List(fields.String(validate=validate.OneOf(YEAR_GROUPS)), load_default=list,
                              validate=validate.Length(max=len(YEAR_GROUPS)), metadata={"example": ["Y9", "Y10"]})
    audience_size = fields.Integer(load_default=None, allow_none=True, strict=True,
                                   validate=validate.Range(min=1, max=5000), metadata={"example": 180})
    follow_ups = json_long_text(metadata={"example": "Send the head of year the leaflet"})
    people = people_field(PersonSchema)
    vehicles = vehicles_field()

    @post_load
    def make(self, data, **kwargs) -> SchoolVisitFields:
        return SchoolVisitFields(
            school_id=data["school_id"], visit_type=data["visit_type"], topic=data["topic"].strip(),
            year_groups=tuple(dict.fromkeys(data["year_groups"])), audience_size=data["audience_size"],
            follow_ups=text(data["follow_ups"]), people=tuple(data["people"]), vehicles=tuple(data["vehicles"]))


def from_form(form: SchoolVisitForm) -> SchoolVisitFields:
    return SchoolVisitFields(
        school_id=int(form.school_id.data), visit_type=SchoolVisitType(form.visit_type.data),
        topic=form.topic.data.strip(), year_groups=tuple(form.year_groups.data),
        audience_size=form.audience_size.data, follow_ups=text(form.follow_ups.data),
        people=people_from_form(form.people), vehicles=vehicles_from_form(form.vehicles))


def load_form(form: SchoolVisitForm, entry: SchoolVisit) -> None:
    form.school_id.data = str(entry.school_id)
    form.year_groups.data = [y.strip() for y in (entry.year_groups or "").split(",") if y.strip()]
    load_links(form, entry.people_links, entry.vehicle_links)


def links(fields_: SchoolVisitFields) -> list:
    return named_links(fields_.people, fields_.vehicles)


def check(data) -> dict[str, str]:
    if db.session.get(School, data.fields.school_id) is None:
        return {"school_id": "Choose a school from the list"}
    return {}


def apply(entry: SchoolVisit, fields_: SchoolVisitFields) -> None:
    entry.school_id, entry.visit_type, entry.topic = fields_.school_id, fields_.visit_type, fields_.topic
    entry.school = db.session.get(School, fields_.school_id)
    entry.year_groups = ", ".join(fields_.year_groups) or None
    entry.audience_size, entry.follow_ups = fields_.audience_size, fields_.follow_ups


def fallback_point(entry: SchoolVisit) -> tuple[float, float] | None:
    """A visit logged without a location is placed at its school."""
    school = entry.school
    return (school.lat, school.lon) if school is not None and school.lat is not None else None


def search_text(entry: SchoolVisit) -> list:
    return [entry.school.name if entry.school else None, entry.topic, entry.year_groups, entry.follow_ups]


def detail_rows(entry: SchoolVisit) -> list[DetailRow]:
    return [
        DetailRow("School", f"{entry.school.name} (URN {entry.school.urn})"),
        DetailRow("Visit type", label_of(entry.visit_type)),
        DetailRow("Topic", entry.topic),
        DetailRow("Year groups", entry.year_groups),
        DetailRow("Audience", entry.audience_size),
        DetailRow("Follow-ups", entry.follow_ups, is_long=True),
    ]


SCHOOL = School.__table__


KIND = Kind(
    hint="Talk, assembly, drop-in or meeting",
    kind=EntryKind.SCHOOL_VISIT, model=SchoolVisit, form=SchoolVisitForm, fields=SchoolVisitFields,
    schema=SchoolVisitSchema, colour="#1d70b8", from_form=from_form, load_form=load_form, check=check,
    apply=apply, links=links, people_heading="People", search_text=search_text, detail_rows=detail_rows,
    export_join=lambda joined, table: joined.outerjoin(SCHOOL, SCHOOL.c.id == table.c.school_id),
    export_columns=(
        ExportColumn("school", lambda t: SCHOOL.c.name, is_text=True),
        ExportColumn("school_visit_topic", lambda t: t.c.topic, is_text=True),
    ),
    fallback_point=fallback_point,
    json_view=lambda entry: {"year_groups": [y.strip() for y in (entry.year_groups or "").split(",") if y.strip()]}
    | linked_view(entry),
)
