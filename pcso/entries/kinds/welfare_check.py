"""Welfare checks on a child at risk of exploitation: always OFFICIAL-SENSITIVE, need-to-know (the SPOC,
supervisors, safeguarding). The child is a POLE person linked as the subject."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from marshmallow import Schema, fields, post_load, validate
from wtforms import BooleanField, DateField, FieldList, FormField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ...access import LOGGERS
from ...extensions import db
from ...numbers import RecordId, RecordIdField, record_id
from ...models import (
    EntryKind, ExploitationIndicator, LinkRole, RiskLevel, SecurityMarking, User, WelfareCheck, WelfareVisitType,
)
from ...timeutil import age_on, to_london
from ..data import PersonInput, VehicleInput
from ..forms import EntryForm, MultiCheckboxField, PersonForm, VehicleForm, as_str, choices, long_text
from .base import DetailRow, ExportColumn, Kind, day, label_of, text, yes_no
from .common import long_text as json_long_text
from .common import (
    PersonSchema, load_links, named_links, people_field, people_from_form, short_text, vehicles_field,
    vehicles_from_form, vehicles_view,
)

# Who else a welfare check names: people seen with the child (never the child, who is its subject).
SEEN_WITH_ROLES = (LinkRole.ASSOCIATE, LinkRole.SEEN, LinkRole.MENTIONED)


class SeenWithForm(PersonForm):
    role = SelectField("How they were with the child", coerce=as_str, default="",
                       choices=[("", "Choose a role")] + [(r.value, r.label) for r in SEEN_WITH_ROLES])


class SeenWithSchema(PersonSchema):
    ROLES = SEEN_WITH_ROLES

YES_NO = [("yes", "Yes"), ("no", "No")]


class WelfareCheckForm(EntryForm):
    KIND = EntryKind.WELFARE_CHECK
    KIND_ORDER = ("summary", "child_name", "child_born_on", "spoc_id", "occurred_at", "visit_type", "is_seen_alone",
                  "others_present", "child_words", "observations", "indicators", "risk_level",
                  "is_intelligence_raised", "is_mash_referral", "mash_reference", "is_partner_informed",
                  "next_visit_on")
    summary = StringField("Summary", validators=[DataRequired("Enter a short summary"), Length(max=200)],
                          description="Shows in lists: do not put the child's name here.")
    child_id = RecordIdField()  # set when an existing record is picked from the suggestions
    child_name = StringField("Child's name", validators=[DataRequired("Enter the child's name"),
                                                          Length(max=120)])
    child_born_on = DateField("Child's date of birth", validators=[InputRequired("Enter the date of birth")])
    spoc_id = SelectField("SPOC (single point of contact)", coerce=str,
                          validators=[DataRequired("Choose the child's SPOC")])
    visit_type = RadioField("Visit type", coerce=as_str, choices=choices(WelfareVisitType),
                            validators=[InputRequired("Choose the visit type")])
    is_seen_alone = RadioField("Was the child seen alone?", choices=YES_NO,
                               validators=[InputRequired("Say whether the child was seen alone")])
    others_present = StringField("Who else was present?", validators=[Optional(), Length(max=200)])
    child_words = long_text("The child's own words")
    observations = long_text("Wellbeing observations")
    indicators = MultiCheckboxField("Exploitation indicators", choices=choices(ExploitationIndicator))
    risk_level = RadioField("Risk level", coerce=as_str, choices=choices(RiskLevel),
                            validators=[InputRequired("Choose the risk level")])
    is_intelligence_raised = BooleanField("Intelligence report raised")
    is_mash_referral = BooleanField("MASH referral made")
    mash_reference = StringField("MASH reference", validators=[Length(max=40)])
    is_partner_informed = BooleanField("Partner agency informed")
    next_visit_on = DateField("Next visit due", validators=[Optional()])
    people = FieldList(FormField(SeenWithForm), min_entries=1, max_entries=20)
    vehicles = FieldList(FormField(VehicleForm), min_entries=1, max_entries=20)

    def __init__(self, *args, spocs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.spoc_id.choices = [("", "Choose the SPOC")] + [
            (str(u.id), f"{u.display_name} ({u.collar_number})") for u in spocs
        ]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.child_id.errors:  # hidden: say it beside the name
            self.child_name.errors, self.child_id.errors = [*self.child_name.errors, *self.child_id.errors], []
        return valid


@dataclass(frozen=True)
class WelfareCheckFields:
    child: PersonInput
    spoc_id: int
    visit_type: WelfareVisitType
    is_seen_alone: bool
    risk_level: RiskLevel
    others_present: str | None = None
    child_words: str | None = None
    observations: str | None = None
    indicators: tuple[ExploitationIndicator, ...] = ()
    is_intelligence_raised: bool = False
    is_mash_referral: bool = False
    mash_reference: str | None = None
    is_partner_informed: bool = False
    next_visit_on: date | None = None
    people: tuple[PersonInput, ...] = ()  # seen with the child
    vehicles: tuple[VehicleInput, ...] = ()


def _child(name: str, born_on: date | None, child_id) -> PersonInput:
    person_id = child_id if isinstance(child_id, int) else record_id(child_id)
    return PersonInput(name=name.strip(), role=LinkRole.SUBJECT, person_id=person_id, born_on=born_on,
                       confirm_born_on=True)


class WelfareCheckSchema(Schema):
    child_name = fields.String(required=True, validate=validate.Length(min=1, max=120),
                               metadata={"example": "Riley Morgan"})
    child_born_on = fields.Date(required=True, metadata={"example": "2011-06-02"})
    child_id = RecordId(load_default=None, allow_none=True,
                        metadata={"description": "An existing person record, picked from a search"})
    spoc_id = RecordId(required=True, metadata={"example": 3})
    visit_type = fields.Enum(WelfareVisitType, by_value=True, required=True, metadata={"example": "planned"})
    is_seen_alone = fields.Boolean(required=True, metadata={"example": True})
    others_present = short_text(200, metadata={"example": "Mother, in the next room"})
    child_words = json_long_text(metadata={"example": "I'm fine, school is OK"})
    observations = json_long_text(metadata={"example": "New trainers; tired"})
    indicators = fields.List(fields.Enum(ExploitationIndicator, by_value=True), load_default=list,
                             validate=validate.Length(max=len(ExploitationIndicator)),
                             metadata={"example": ["new_phone"]})
    risk_level = fields.Enum(RiskLevel, by_value=True, required=True, metadata={"example": "medium"})
    is_intelligence_raised = fields.Boolean(load_default=False)
    is_mash_referral = fields.Boolean(load_default=False)
    mash_reference = short_text(40, metadata={"example": "MASH-88231"})
    is_partner_informed = fields.Boolean(load_default=False)
    next_visit_on = fields.Date(load_default=None, allow_none=True, metadata={"example": "2026-12-16"})
    people = people_field(SeenWithSchema, metadata={"description": "People seen with the child (not the child)"})
    vehicles = vehicles_field()

    @post_load
    def make(self, data, **kwargs) -> WelfareCheckFields:
        child = _child(data.pop("child_name"), data.pop("child_born_on"), data.pop("child_id"))
        for name in ("others_present", "child_words", "observations", "mash_reference"):
            data[name] = text(data[name])
        return WelfareCheckFields(child=child, **data | {"indicators": tuple(dict.fromkeys(data["indicators"])),
                                                         "people": tuple(data["people"]),
                                                         "vehicles": tuple(data["vehicles"])})


def from_form(form: WelfareCheckForm) -> WelfareCheckFields:
    return WelfareCheckFields(
        child=_child(form.child_name.data, form.child_born_on.data, form.child_id.data),
        spoc_id=int(form.spoc_id.data), visit_type=WelfareVisitType(form.visit_type.data),
        is_seen_alone=form.is_seen_alone.data == "yes", risk_level=RiskLevel(form.risk_level.data),
        others_present=text(form.others_present.data), child_words=text(form.child_words.data),
        observations=text(form.observations.data),
        indicators=tuple(ExploitationIndicator(value) for value in form.indicators.data),
        is_intelligence_raised=form.is_intelligence_raised.data, is_mash_referral=form.is_mash_referral.data,
        mash_reference=text(form.mash_reference.data), is_partner_informed=form.is_partner_informed.data,
        next_visit_on=form.next_visit_on.data, people=people_from_form(form.people),
        vehicles=vehicles_from_form(form.vehicles))


def load_form(form: WelfareCheckForm, entry: WelfareCheck) -> None:
    form.spoc_id.data = str(entry.spoc_id)
    form.is_seen_alone.data = "yes" if entry.is_seen_alone else "no"
    if entry.child is not None:
        form.child_id.data = str(entry.child.id)
        form.child_name.data, form.child_born_on.data = entry.child.full_name, entry.child.born_on
    load_links(form, _seen_with(entry), entry.vehicle_links)


def _seen_with(entry: WelfareCheck) -> list:
    return [item for item in entry.people_links if item.role != LinkRole.SUBJECT]


def _spoc_error(spoc_id: int) -> str | None:
    spoc = db.session.get(User, spoc_id)
    if spoc is None or not spoc.is_enabled or spoc.role not in LOGGERS:
        return "Choose the child's SPOC from the list"
    return None


def check(data) -> dict[str, str]:
    fields_, visit_on = data.fields, to_london(data.occurred_at).date()
    born_on, errors = fields_.child.born_on, {}
    if born_on is None:
        errors["child_born_on"] = "Enter the date of birth"
    elif born_on > visit_on:
        errors["child_born_on"] = "The date of birth is after the visit"
    elif age_on(born_on, visit_on) >= 18:
        errors["child_born_on"] = (f"The child must be under 18 on the visit date: this person was "
                                   f"{age_on(born_on, visit_on)}")
    if not fields_.is_seen_alone and not fields_.others_present:
        errors["is_seen_alone"] = "Say who else was present"
    if fields_.is_mash_referral and not fields_.mash_reference:
        errors["mash_reference"] = "Enter the MASH referral reference"
    if fields_.next_visit_on and fields_.next_visit_on < visit_on:
        errors["next_visit_on"] = "The next visit must be after this one"
    if (spoc := _spoc_error(fields_.spoc_id)) is not None:
        errors["spoc_id"] = spoc
    return errors


def apply(entry: WelfareCheck, fields_: WelfareCheckFields) -> None:
    for name in ("spoc_id", "visit_type", "is_seen_alone", "others_present", "child_words", "observations",
                 "risk_level", "is_intelligence_raised", "is_mash_referral", "mash_reference",
                 "is_partner_informed", "next_visit_on"):
        setattr(entry, name, getattr(fields_, name))
    entry.indicators = [indicator.value for indicator in fields_.indicators]


def links(fields_: WelfareCheckFields) -> list:
    return [(fields_.child, LinkRole.SUBJECT, None, 0)] + [
        (record, role, note, position + 1) for record, role, note, position in named_links(fields_.people, fields_.vehicles)]


def json_view(entry: WelfareCheck) -> dict:
    child = entry.child
    return {"child_name": child.full_name if child else None, "child_born_on": child.born_on if child else None,
            "child_id": child.id if child else None,
            "indicators": [ExploitationIndicator(value) for value in entry.indicators or []],
            "people": [PersonInput(name=item.person.full_name, role=item.role, person_id=item.person.id,
                                   born_on=item.person.born_on, description=item.note) for item in _seen_with(entry)],
            "vehicles": vehicles_view(entry)}


def search_text(entry: WelfareCheck) -> list:
    return [entry.others_present, entry.child_words, entry.observations]


def detail_rows(entry: WelfareCheck) -> list[DetailRow]:
    """The child comes first: a link to their profile on the page, their name in the PDF."""
    child = entry.child
    return [
        DetailRow("Child", child.full_name if child else None, record=child),
        DetailRow("Date of birth", day(child.born_on) if child else None),
        DetailRow("SPOC", f"{entry.spoc.display_name} ({entry.spoc.collar_number})"),
        DetailRow("Visit type", label_of(entry.visit_type)),
        DetailRow("Seen alone", yes_no(entry.is_seen_alone)),
        DetailRow("Others present", entry.others_present),
        DetailRow("The child's own words", entry.child_words, is_long=True),
        DetailRow("Observations", entry.observations, is_long=True),
        DetailRow("Exploitation indicators", ", ".join(entry.indicator_labels) or "None noted"),
        DetailRow("Risk level", label_of(entry.risk_level)),
        DetailRow("Intelligence report raised", yes_no(entry.is_intelligence_raised)),
        DetailRow("MASH referral", f"Yes, ref {entry.mash_reference}" if entry.is_mash_referral else "No"),
        DetailRow("Partner informed", yes_no(entry.is_partner_informed)),
        DetailRow("Next visit due", day(entry.next_visit_on)),
    ]


KIND = Kind(
    hint="Child at risk of exploitation · OFFICIAL-SENSITIVE",
    kind=EntryKind.WELFARE_CHECK, model=WelfareCheck, form=WelfareCheckForm, fields=WelfareCheckFields,
    schema=WelfareCheckSchema, colour="#4c2c92", from_form=from_form, load_form=load_form, check=check,
    apply=apply, links=links, links_field="child_name", born_on_field="child_born_on", json_view=json_view, search_text=search_text,
    detail_rows=detail_rows,
    marking=lambda data, raised_from: SecurityMarking.OFFICIAL_SENSITIVE,  # always, whatever was posted
    # Nothing more leaves in a list export (DPA 2018 s.37): the child's name, words and indicators stay here.
    export_columns=(
        ExportColumn("welfare_risk_level", lambda t: t.c.risk_level),
        ExportColumn("welfare_next_visit_on", lambda t: t.c.next_visit_on),
    ),
)
