"""ASB incidents: NSIR 2011 category and type, what happened, who was involved, and the victim's risk."""
from __future__ import annotations

from dataclasses import dataclass

from marshmallow import Schema, fields, post_load, validate
from wtforms import FieldList, FormField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ...models import AsbIncident, AsbType, EntryKind, InvolvementRole, LinkRole, NsirCategory, RiskLevel
from ..data import PersonInput, VehicleInput
from ..forms import EntryForm, OptionalRadioField, PersonForm, VehicleForm, as_str, choices, long_text
from .base import DetailRow, ExportColumn, Kind, label_of, text
from .common import (
    PersonSchema, enum, linked_view, load_links, named_links, people_field, people_from_form, short_text,
    vehicles_field,
    vehicles_from_form, victim_named,
)
from .common import long_text as json_long_text


class AsbIncidentForm(EntryForm):
    KIND = EntryKind.ASB_INCIDENT
    KIND_ORDER = ("summary", "occurred_at", "nsir_category", "asb_type", "description", "people", "vehicles",
                  "action_taken", "control_room_ref", "victim_risk")
    nsir_category = RadioField("NSIR category", coerce=as_str, choices=choices(NsirCategory),
                               validators=[InputRequired("Choose the NSIR category")])
    asb_type = SelectField("Type", coerce=as_str, choices=choices(AsbType, blank="Choose the type"),
                           validators=[DataRequired("Choose the type of ASB")])
    description = long_text("What happened?", required="Describe what happened")
    people = FieldList(FormField(PersonForm), min_entries=1, max_entries=20)
    vehicles = FieldList(FormField(VehicleForm), min_entries=1, max_entries=20)
    action_taken = long_text("Action taken")
    control_room_ref = StringField("Control room reference", validators=[Optional(), Length(max=40)])
    victim_risk = OptionalRadioField("Victim risk", coerce=as_str, choices=choices(RiskLevel, blank="Not assessed"),
                                     default="")


@dataclass(frozen=True)
class AsbIncidentFields:
    nsir_category: NsirCategory
    asb_type: AsbType
    description: str
    action_taken: str | None = None
    control_room_ref: str | None = None
    victim_risk: RiskLevel | None = None
    people: tuple[PersonInput, ...] = ()
    vehicles: tuple[VehicleInput, ...] = ()


class AsbPersonSchema(PersonSchema):
    ROLES = tuple(LinkRole(role.value) for role in InvolvementRole)


class AsbIncidentSchema(Schema):
    nsir_category = fields.Enum(NsirCategory, by_value=True, required=True, metadata={"example": "personal"})
    asb_type = fields.Enum(AsbType, by_value=True, required=True, metadata={"example": "rowdy_behaviour"})
    description = fields.String(required=True, validate=validate.Length(min=1, max=20_000),
                                metadata={"example": "Group of six youths kicking a ball at parked cars"})
    action_taken = json_long_text(metadata={"example": "Words of advice; group dispersed"})
    control_room_ref = short_text(40, metadata={"example": "MP-2026-1201-0456"})
    victim_risk = enum(RiskLevel, metadata={"example": "medium"})
    people = people_field(AsbPersonSchema)
    vehicles = vehicles_field()

    @post_load
    def make(self, data, **kwargs) -> AsbIncidentFields:
        return AsbIncidentFields(
            nsir_category=data["nsir_category"], asb_type=data["asb_type"], description=data["description"],
            action_taken=text(data["action_taken"]), control_room_ref=_reference(data["control_room_ref"]),
            victim_risk=data["victim_risk"], people=tuple(data["people"]), vehicles=tuple(data["vehicles"]))


def _reference(value) -> str | None:
    return (text(value) or "").upper() or None


def from_form(form: AsbIncidentForm) -> AsbIncidentFields:
    return AsbIncidentFields(
        nsir_category=NsirCategory(form.nsir_category.data), asb_type=AsbType(form.asb_type.data),
        description=form.description.data, action_taken=text(form.action_taken.data),
        control_room_ref=_reference(form.control_room_ref.data),
        victim_risk=RiskLevel(form.victim_risk.data) if form.victim_risk.data else None,
        people=people_from_form(form.people), vehicles=vehicles_from_form(form.vehicles))


def load_form(form: AsbIncidentForm, entry: AsbIncident) -> None:
    load_links(form, entry.people_links, entry.vehicle_links)


def check(data) -> dict[str, str]:
    if victim_named(data.fields.people) and data.fields.victim_risk is None:
        return {"victim_risk": "A victim is named: assess their risk (low, medium or high)"}
    return {}


def apply(entry: AsbIncident, fields_: AsbIncidentFields) -> None:
    entry.nsir_category, entry.asb_type = fields_.nsir_category, fields_.asb_type
    entry.description = fields_.description
    entry.action_taken, entry.control_room_ref = fields_.action_taken, fields_.control_room_ref
    entry.victim_risk = fields_.victim_risk


def links(fields_: AsbIncidentFields) -> list:
    return named_links(fields_.people, fields_.vehicles)


def search_text(entry: AsbIncident) -> list:
    return [entry.asb_type.value.replace("_", " ") if entry.asb_type else None, entry.description,
            entry.action_taken, entry.control_room_ref]


def detail_rows(entry: AsbIncident) -> list[DetailRow]:
    return [
        DetailRow("NSIR category", label_of(entry.nsir_category)),
        DetailRow("Type", label_of(entry.asb_type)),
        DetailRow("What happened", entry.description, is_long=True),
        DetailRow("Action taken", entry.action_taken, is_long=True),
        DetailRow("Control room reference", entry.control_room_ref),
        DetailRow("Victim risk", label_of(entry.victim_risk)),
    ]


KIND = Kind(
    hint="NSIR category, people and vehicles involved",
    kind=EntryKind.ASB_INCIDENT, model=AsbIncident, form=AsbIncidentForm, fields=AsbIncidentFields,
    schema=AsbIncidentSchema, colour="#d4351c", from_form=from_form, load_form=load_form, check=check,
    apply=apply, links=links, json_view=linked_view, search_text=search_text, detail_rows=detail_rows,
    people_heading="People involved",
    detail_partial="risk/_assessments.html",  # the victims' risk assessments, and a supervisor's review form
    export_columns=(
        ExportColumn("nsir_category", lambda t: t.c.nsir_category),
        ExportColumn("asb_type", lambda t: t.c.asb_type),
        ExportColumn("victim_risk", lambda t: t.c.victim_risk),
    ),
)
