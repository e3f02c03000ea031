"""Patrols: foot, cycle or vehicle, with a purpose; started now or later, ended by their author."""
from __future__ import annotations

import re
from dataclasses import dataclass

from marshmallow import Schema, fields, post_load, validate
from wtforms import DateTimeLocalField, FieldList, FormField, HiddenField, RadioField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ...extensions import db
from ...models import EntryKind, Patrol, PatrolMode, PatrolSuggestion
from ...timeutil import format_london
from ..data import PersonInput, VehicleInput
from ..forms import EntryForm, PersonForm, VehicleForm, as_str, choices, long_text
from .base import DetailRow, ExportColumn, Kind, label_of, text
from .common import (
    PersonSchema, linked_view, load_links, named_links, people_field, people_from_form, vehicles_field,
    vehicles_from_form,
)
from .common import long_text as json_long_text


class PatrolForm(EntryForm):
    KIND = EntryKind.PATROL
    KIND_ORDER = ("mode", "purpose", "occurred_at", "notes", "summary")
    occurred_at = DateTimeLocalField("Started at", format="%Y-%m-%dT%H:%M",
                                     validators=[InputRequired("Enter the start time")])
    summary = StringField("Summary", validators=[Optional(), Length(max=200)],
                          description="Optional: the purpose is used if left blank.")
    mode = RadioField("How are you patrolling?", coerce=as_str, choices=choices(PatrolMode),
                      validators=[InputRequired("Choose foot, cycle or vehicle")])
    purpose = StringField("Purpose or target", validators=[DataRequired("Say what the patrol is for"),
                                                           Length(max=200)],
                          description="e.g. Car break-ins on Moss Lane overnight")
    notes = long_text("Notes")
    suggestion_id = HiddenField()  # started from a patrol suggestion (pcso/patrol_plans/views.py start)
    people = FieldList(FormField(PersonForm), min_entries=1, max_entries=20)
    vehicles = FieldList(FormField(VehicleForm), min_entries=1, max_entries=20)


@dataclass(frozen=True)
class PatrolFields:
    mode: PatrolMode
    purpose: str
    notes: str | None = None
    suggestion_id: int | None = None
    people: tuple[PersonInput, ...] = ()
    vehicles: tuple[VehicleInput, ...] = ()


class PatrolSchema(Schema):
    mode = fields.Enum(PatrolMode, by_value=True, required=True, metadata={"example": "foot"})
    purpose = fields.String(required=True, validate=validate.Length(min=1, max=200),
                            metadata={"example": "Car break-ins on Moss Lane overnight"})
    notes = json_long_text(metadata={"example": "Spoke to two shopkeepers on King Street"})
    people = people_field(PersonSchema)
    vehicles = vehicles_field()

    @post_load
    def make(self, data, **kwargs) -> PatrolFields:
        return PatrolFields(mode=data["mode"], purpose=data["purpose"].strip(), notes=text(data["notes"]),
                            people=tuple(data["people"]), vehicles=tuple(data["vehicles"]))


def from_form(form: PatrolForm) -> PatrolFields:
    raw = str(form.suggestion_id.data or "").strip()
    return PatrolFields(mode=PatrolMode(form.mode.data), purpose=form.purpose.data.strip(), notes=text(form.notes.data),
                        people=people_from_form(form.people), vehicles=vehicles_from_form(form.vehicles),
                        suggestion_id=int(raw) if re.fullmatch(r"[0-9]{1,9}", raw) else None)


def load_form(form: PatrolForm, entry: Patrol) -> None:
    """obj= fills every field but the linked rows."""
    load_links(form, entry.people_links, entry.vehicle_links)


def links(fields_: PatrolFields) -> list:
    return named_links(fields_.people, fields_.vehicles)


def check(data) -> dict[str, str]:
    return {} if data.fields.purpose else {"purpose": "Say what the patrol is for"}


def apply(entry: Patrol, fields: PatrolFields) -> None:
    entry.started_at = entry.occurred_at
    entry.mode, entry.purpose, entry.notes = fields.mode, fields.purpose, fields.notes
    if entry.suggestion_id is None and fields.suggestion_id is not None:
        entry.suggestion_id = _suggestion_shown_to(entry.author_id, fields.suggestion_id)
    entry.summary = entry.summary or f"{fields.mode.title()} patrol: {fields.purpose}"[:200]


def _suggestion_shown_to(author_id: int, suggestion_id: int) -> int | None:
    """The patrol suggestion a new patrol records (pcso/patrol_plans): only one shown to its author."""
    row = db.session.get(PatrolSuggestion, suggestion_id)
    return row.id if row is not None and row.user_id == author_id else None


def search_text(entry: Patrol) -> list:
    return [entry.purpose, entry.notes]


def _duration(entry: Patrol) -> str | None:
    minutes = entry.duration_minutes
    return None if minutes is None else f"{minutes // 60} h {minutes % 60:02d} min"


def detail_rows(entry: Patrol) -> list[DetailRow]:
    return [
        DetailRow("Mode", label_of(entry.mode)),
        DetailRow("Purpose or target", entry.purpose),
        DetailRow("Started", format_london(entry.started_at)),
        DetailRow("Ended", format_london(entry.ended_at) if entry.ended_at else "Still on patrol"),
        DetailRow("Duration", _duration(entry)),
        DetailRow("Notes", entry.notes, is_long=True),
    ]


def _hours(row: dict) -> float | None:
    started, ended = row["patrol_started_at"], row["patrol_ended_at"]
    return round((ended - started).total_seconds() / 3600, 2) if started and ended else None


KIND = Kind(
    hint="Foot, cycle or vehicle; end it when you finish",
    kind=EntryKind.PATROL, model=Patrol, form=PatrolForm, fields=PatrolFields, schema=PatrolSchema,
    colour="#00703c", from_form=from_form, load_form=load_form, check=check, apply=apply, links=links,
    json_view=linked_view, people_heading="People seen", search_text=search_text, detail_rows=detail_rows,
    export_columns=(
        ExportColumn("patrol_mode", lambda t: t.c.mode),
        ExportColumn("patrol_started_at", lambda t: t.c.started_at),
        ExportColumn("patrol_ended_at", lambda t: t.c.ended_at),
        ExportColumn("patrol_hours", derive=_hours),
    ),
)
