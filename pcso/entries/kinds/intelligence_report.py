"""Intelligence reports, graded 3x5x2 (College of Policing APP). Who the source is goes in `source_details`,
which only access.can_view_source() readers see: never in lists, search, exports or the API's other users."""
from __future__ import annotations

from dataclasses import dataclass

from marshmallow import Schema, fields, post_load, validate
from wtforms import DateTimeLocalField, FieldList, FormField, HiddenField, RadioField, SelectField, StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from ...models import (
    EntryKind, HandlingCode, IntelAssessment, IntelligenceReport, LinkRole, SecurityMarking, SourceEvaluation,
    WelfareCheck,
)
from ..data import PersonInput, VehicleInput
from ..forms import EntryForm, PersonForm, VehicleForm, as_str, choices, long_text
from .base import DetailRow, ExportColumn, Kind, Section, label_of, text
from .common import PersonSchema, linked_view, load_links, named_links, people_field, people_from_form, short_text
from .common import long_text as json_long_text
from .common import vehicles_field, vehicles_from_form

# Who an intelligence report is about. Victim and reporter are left out on purpose: they are for what
# happened to someone (ASB), and in intelligence the one who told us is the source, who is never a link.
INTEL_ROLES = (LinkRole.SUBJECT, LinkRole.ASSOCIATE, LinkRole.SUSPECT, LinkRole.WITNESS, LinkRole.MENTIONED)
SENSITIVE_HELP = ("OFFICIAL-SENSITIVE: only you, supervisors and analysts can open it. "
                  "OFFICIAL (handling code P only): officers on the beat see it in their briefing.")


class IntelPersonForm(PersonForm):
    role = SelectField("Role", coerce=as_str, default="",
                       choices=[("", "Choose a role")] + [(role.value, role.label) for role in INTEL_ROLES])


class IntelligenceReportForm(EntryForm):
    KIND = EntryKind.INTELLIGENCE_REPORT
    KIND_ORDER = ("summary", "occurred_at", "sanitised_text", "source_evaluation", "assessment", "handling_code",
                  "handling_conditions", "people", "vehicles", "source_details")
    summary = StringField("Summary", validators=[DataRequired("Enter a short summary"), Length(max=200)],
                          description="Shows in lists: nothing that could identify the source.")
    occurred_at = DateTimeLocalField("When was this seen or heard?", format="%Y-%m-%dT%H:%M",
                                     validators=[InputRequired("Enter the date and time")])
    sanitised_text = long_text("Intelligence", required="Enter the intelligence",
                               description="Keep fact apart from opinion. Write nothing that could identify the "
                               "source: not who they are, where they live, or how they came to know.")
    source_evaluation = RadioField("Source evaluation", coerce=as_str, choices=choices(SourceEvaluation),
                                   validators=[InputRequired("Choose the source evaluation (1, 2 or 3)")])
    assessment = RadioField("Intelligence assessment", coerce=as_str, choices=choices(IntelAssessment),
                            validators=[InputRequired("Choose the intelligence assessment (A to E)")])
    handling_code = RadioField("Handling code", coerce=as_str, choices=choices(HandlingCode),
                               validators=[InputRequired("Choose the handling code (P or C)")])
    handling_conditions = TextAreaField("Conditions for sharing", validators=[
        Length(max=2000, message="Keep the conditions under 2,000 characters")],
        description="Required for handling code C: who it may go to, and on what terms.")
    people = FieldList(FormField(IntelPersonForm), min_entries=1, max_entries=20)
    vehicles = FieldList(FormField(VehicleForm), min_entries=1, max_entries=20)
    source_details = long_text("Source details", description="Restricted: only supervisors and analysts will "
                               "see this. Who the source is, how to contact them, how they know.")
    marking = RadioField("Security marking", coerce=as_str, choices=[(m.value, m.value) for m in SecurityMarking],
                         default=SecurityMarking.OFFICIAL_SENSITIVE.value, description=SENSITIVE_HELP)
    raised_from_id = HiddenField()  # the entry it was raised from, posted back with the form
    raised_from = None  # that entry, once the view has checked the officer may see it


@dataclass(frozen=True)
class IntelligenceReportFields:
    source_evaluation: SourceEvaluation
    assessment: IntelAssessment
    handling_code: HandlingCode
    sanitised_text: str
    handling_conditions: str | None = None
    source_details: str | None = None
    people: tuple[PersonInput, ...] = ()
    vehicles: tuple[VehicleInput, ...] = ()


class IntelPersonSchema(PersonSchema):
    ROLES = INTEL_ROLES


class IntelligenceReportSchema(Schema):
    source_evaluation = fields.Enum(SourceEvaluation, by_value=True, required=True, metadata={"example": "2"})
    assessment = fields.Enum(IntelAssessment, by_value=True, required=True, metadata={"example": "B"})
    handling_code = fields.Enum(HandlingCode, by_value=True, required=True, metadata={"example": "P"})
    sanitised_text = fields.String(required=True, validate=validate.Length(min=1, max=20_000),
                                   metadata={"example": "A silver Ford Fiesta delivers cannabis on Moss Lane"})
    handling_conditions = short_text(2000, metadata={"example": None})
    source_details = json_long_text(load_only=True, metadata={
        "description": "Restricted: read back only by supervisors and analysts", "example": "Neighbour, by phone"})
    people = people_field(IntelPersonSchema)
    vehicles = vehicles_field()

    @post_load
    def make(self, data, **kwargs) -> IntelligenceReportFields:
        return IntelligenceReportFields(
            source_evaluation=data["source_evaluation"], assessment=data["assessment"],
            handling_code=data["handling_code"], sanitised_text=data["sanitised_text"],
            handling_conditions=text(data["handling_conditions"]), source_details=text(data["source_details"]),
            people=tuple(data["people"]), vehicles=tuple(data["vehicles"]))


def from_form(form: IntelligenceReportForm) -> IntelligenceReportFields:
    return IntelligenceReportFields(
        source_evaluation=SourceEvaluation(form.source_evaluation.data),
        assessment=IntelAssessment(form.assessment.data), handling_code=HandlingCode(form.handling_code.data),
        sanitised_text=form.sanitised_text.data, handling_conditions=text(form.handling_conditions.data),
        source_details=text(form.source_details.data), people=people_from_form(form.people),
        vehicles=vehicles_from_form(form.vehicles))


def load_form(form: IntelligenceReportForm, entry: IntelligenceReport) -> None:
    load_links(form, entry.people_links, entry.vehicle_links)


def check(data) -> dict[str, str]:
    fields_, errors = data.fields, {}
    if fields_.handling_code == HandlingCode.CONDITIONS and not fields_.handling_conditions:
        errors["handling_conditions"] = "Handling code C: record the conditions for sharing"
    if fields_.handling_code == HandlingCode.PERMITTED and fields_.handling_conditions:
        errors["handling_conditions"] = "Conditions go with handling code C: choose C, or clear the conditions"
    if data.marking == SecurityMarking.OFFICIAL and fields_.handling_code != HandlingCode.PERMITTED:
        errors["marking"] = "Intelligence with conditions on sharing stays OFFICIAL-SENSITIVE"
    return errors


def apply(entry: IntelligenceReport, fields_: IntelligenceReportFields) -> None:
    entry.source_evaluation, entry.assessment = fields_.source_evaluation, fields_.assessment
    entry.handling_code, entry.sanitised_text = fields_.handling_code, fields_.sanitised_text
    entry.handling_conditions = (fields_.handling_conditions
                                 if fields_.handling_code == HandlingCode.CONDITIONS else None)
    entry.source_details = fields_.source_details


def marking(data, raised_from) -> SecurityMarking:
    """OFFICIAL only for sanitised intelligence shared without conditions, and never when it came from a
    welfare check: it names the child, who must stay need-to-know."""
    if (data.marking == SecurityMarking.OFFICIAL and data.fields.handling_code == HandlingCode.PERMITTED
            and not isinstance(raised_from, WelfareCheck)):
        return SecurityMarking.OFFICIAL
    return SecurityMarking.OFFICIAL_SENSITIVE


def links(fields_: IntelligenceReportFields) -> list:
    return named_links(fields_.people, fields_.vehicles)


def search_text(entry: IntelligenceReport) -> list:
    return [entry.sanitised_text]  # never the source details


GRADING = Section("Grading (3x5x2)", "grading")
INTELLIGENCE = Section("Intelligence")


def detail_rows(entry: IntelligenceReport) -> list[DetailRow]:
    return [
        DetailRow("Source evaluation", label_of(entry.source_evaluation), section=GRADING),
        DetailRow("Intelligence assessment", label_of(entry.assessment), section=GRADING),
        DetailRow("Handling code", label_of(entry.handling_code), section=GRADING),
        DetailRow("Conditions for sharing", entry.handling_conditions, is_long=True, section=GRADING),
        DetailRow("Intelligence", entry.sanitised_text, is_long=True, section=INTELLIGENCE,
                  testid="sanitised-text"),
    ]


def _grading(row: dict) -> str | None:
    parts = [row["intel_source_evaluation"], row["intel_assessment"], row["intel_handling_code"]]
    return None if parts[0] is None else " / ".join(getattr(part, "value", part) for part in parts)


KIND = Kind(
    hint="Local faces, suspects, vehicles · graded 3x5x2 · OFFICIAL-SENSITIVE",
    kind=EntryKind.INTELLIGENCE_REPORT, model=IntelligenceReport, form=IntelligenceReportForm,
    fields=IntelligenceReportFields, schema=IntelligenceReportSchema, colour="#0b2545", from_form=from_form,
    load_form=load_form, check=check, apply=apply, links=links, json_view=linked_view, marking=marking,
    search_text=search_text,
    detail_rows=detail_rows, people_heading="People",
    detail_partial="entries/_detail_intelligence_report.html",
    export_columns=(  # never who the source is
        ExportColumn("intel_source_evaluation", lambda t: t.c.source_evaluation, hidden=True),
        ExportColumn("intel_assessment", lambda t: t.c.assessment, hidden=True),
        ExportColumn("intel_handling_code", lambda t: t.c.handling_code, hidden=True),
        ExportColumn("intel_grading", derive=_grading),
        ExportColumn("intel_handling_conditions", lambda t: t.c.handling_conditions, is_text=True),
        ExportColumn("intel_sanitised_text", lambda t: t.c.sanitised_text, is_text=True),
    ),
)
