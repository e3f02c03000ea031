"""Entry forms: the common fields, then one form per kind. No database writes here."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, DateField, DateTimeLocalField, FieldList, Form, FormField, HiddenField, IntegerField,
    RadioField, SelectField, SelectMultipleField, StringField, TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..models import (
    AsbType, ExploitationIndicator, HandlingCode, IntelAssessment, InvolvementRole, LinkRole, NsirCategory,
    PatrolMode, RiskLevel, SchoolVisitType, SecurityMarking, SourceEvaluation, WelfareVisitType, normalise_vrm,
)
from ..models.asb import VRM_ALLOWED
from ..timeutil import age_on, from_london, to_london, utcnow
from .location import ResolvedLocation, lookup_postcode, parse_point

LONG_TEXT = 20_000
CLIENT_KEY = re.compile(r"^[A-Za-z0-9-]{8,64}$")
YEAR_GROUPS = ["Nursery", "Reception"] + [f"Y{n}" for n in range(1, 14)] + ["Staff", "Parents"]


def _as_str(value) -> str:
    """Coerce for choice fields filled from a model: None -> "", an enum -> its value."""
    return "" if value is None else str(value)


def _choices(enum_cls, blank: str | None = None):
    choices = [(member.value, member.label) for member in enum_cls]
    return [("", blank)] + choices if blank is not None else choices


def long_text(label: str, required: str | None = None, **kwargs) -> TextAreaField:
    validators = [DataRequired(required)] if required else [Optional()]
    validators.append(Length(max=LONG_TEXT, message=f"Keep this under {LONG_TEXT:,} characters"))
    return TextAreaField(label, validators=validators, **kwargs)


class OptionalRadioField(RadioField):
    """A radio group whose blank choice stands for None in the model."""

    def process_data(self, value):
        super().process_data("" if value is None else value)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EntryForm(FlaskForm):
    """Fields every entry has. `beats` choices are set by the view."""

    client_key = HiddenField()
    occurred_at = DateTimeLocalField("When did it happen?", format="%Y-%m-%dT%H:%M",
                                     validators=[InputRequired("Enter the date and time")])
    summary = StringField("Summary", validators=[DataRequired("Enter a short summary"), Length(max=200)],
                          description="One line that says what this is. It shows in lists.")
    marking = RadioField("Security marking", coerce=_as_str, choices=[(m.value, m.value) for m in SecurityMarking],
                         default=SecurityMarking.OFFICIAL.value)
    lat = HiddenField()
    lon = HiddenField()
    accuracy_m = HiddenField()
    location_source = HiddenField(default="none")
    postcode = StringField("Postcode", validators=[Optional(), Length(max=10)],
                           render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    location_text = StringField("Where exactly?", validators=[Optional(), Length(max=200)],
                                description="Street, landmark or building")
    beat_id = SelectField("Beat", coerce=str, default="")

    resolved: ResolvedLocation | None = None
    # The order fields appear on the page (the error summary follows it); kinds set KIND_ORDER.
    KIND_ORDER: tuple[str, ...] = ("summary", "occurred_at")
    PLACE_ORDER = ("postcode", "location_text", "beat_id", "marking")

    @property
    def field_order(self) -> tuple[str, ...]:
        return self.KIND_ORDER + self.PLACE_ORDER

    def __init__(self, *args, beats=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.beat_id.choices = [("", "Work it out from the location")] + [
            (str(beat.id), beat.label) for beat in beats
        ]
        if not self.client_key.data:
            self.client_key.data = str(uuid.uuid4())

    def validate_client_key(self, field):
        if not CLIENT_KEY.match(field.data or ""):
            raise ValidationError("This form is missing its key: reload the page and try again")

    def validate_occurred_at(self, field):
        if field.data is None:
            return  # unreadable: the field already says so
        when = from_london(field.data)
        if when > utcnow() + timedelta(minutes=10):
            raise ValidationError("The time is in the future")
        if when.year < 2000:
            raise ValidationError("Check the year")

    @property
    def occurred_at_utc(self):
        return from_london(self.occurred_at.data)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        self.resolved = self._resolve_location()
        return ok and self.resolved is not None

    def _resolve_location(self) -> ResolvedLocation | None:
        """Point from the device or the map, else the postcode, else none. Errors go on the form."""
        source = self.location_source.data or "none"
        if self.lat.data or self.lon.data:
            point = parse_point(self.lat.data, self.lon.data)
            if point is None:
                self.postcode.errors.append("The location could not be read: use the postcode instead")
                return None
            accuracy = None
            if self.accuracy_m.data:
                try:
                    accuracy = float(self.accuracy_m.data)
                except ValueError:
                    accuracy = None
                limit = current_app.config["LOCATION_MAX_ACCURACY_M"]
                if accuracy is not None and accuracy > limit:
                    self.postcode.errors.append(
                        f"Your location is only accurate to ±{accuracy:,.0f} m. Try again outdoors, "
                        "enter a postcode, or drop a pin on the map."
                    )
                    return None
            source = source if source in ("gps", "map", "school") else "map"
            return ResolvedLocation(point[0], point[1], accuracy, source)
        if self.postcode.data:
            found = lookup_postcode(self.postcode.data)
            if found is None:
                self.postcode.errors.append("Postcode not found. Check it, or use your location or the map.")
                return None
            return ResolvedLocation(found.lat, found.lon, None, "postcode", found.postcode)
        return ResolvedLocation(None, None, None, "none")

    def load_location(self, entry) -> None:
        """Fill the location fields from a stored entry (editing)."""
        if entry.lat is not None:
            self.lat.data, self.lon.data = str(entry.lat), str(entry.lon)
            self.accuracy_m.data = "" if entry.accuracy_m is None else str(entry.accuracy_m)
            self.location_source.data = entry.location_source.value
        self.beat_id.data = str(entry.beat_id) if entry.is_beat_overridden or entry.lat is None else ""
        self.occurred_at.data = to_london(entry.occurred_at).replace(tzinfo=None)


class PatrolForm(EntryForm):
    KIND_ORDER = ("mode", "purpose", "occurred_at", "notes", "summary")
    occurred_at = DateTimeLocalField("Started at", format="%Y-%m-%dT%H:%M",
                                     validators=[InputRequired("Enter the start time")])
    summary = StringField("Summary", validators=[Optional(), Length(max=200)],
                          description="Optional: the purpose is used if left blank.")
    mode = RadioField("How are you patrolling?", coerce=_as_str, choices=_choices(PatrolMode),
                      validators=[InputRequired("Choose foot, cycle or vehicle")])
    purpose = StringField("Purpose or target", validators=[DataRequired("Say what the patrol is for"),
                                                           Length(max=200)],
                          description="e.g. Car break-ins on Moss Lane overnight")
    notes = long_text("Notes")


class EndPatrolForm(FlaskForm):
    ended_at = DateTimeLocalField("Ended at", format="%Y-%m-%dT%H:%M",
                                  validators=[InputRequired("Enter the end time")])
    notes = long_text("Notes to add")


class PersonForm(Form):
    person_id = HiddenField()  # set when an existing record is picked from the suggestions
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    role = SelectField("Role", coerce=_as_str, choices=_choices(InvolvementRole, blank="Choose a role"), default="")
    born_on = DateField("Date of birth", validators=[Optional()], description="If known: it tells people apart")
    description = StringField("Description", validators=[Optional(), Length(max=300)])

    def validate_role(self, field):
        if self.name.data and not field.data:
            raise ValidationError("Choose the person's role")
        if field.data and not self.name.data:
            raise ValidationError("Enter the person's name, or clear the role")

    def validate_born_on(self, field):
        if field.data and field.data > to_london(utcnow()).date():
            raise ValidationError("The date of birth is in the future")


class VehicleForm(Form):
    vrm = StringField("Registration", validators=[Optional(), Length(max=12)],
                      render_kw={"autocapitalize": "characters"})
    colour = StringField("Colour", validators=[Optional(), Length(max=30)])
    make = StringField("Make", validators=[Optional(), Length(max=40)])
    model = StringField("Model", validators=[Optional(), Length(max=40)])

    def validate_vrm(self, field):
        if field.data and not VRM_ALLOWED.match(normalise_vrm(field.data)):
            raise ValidationError("A registration is 2 to 8 letters and numbers, e.g. AB12 CDE")
        if (self.make.data or self.model.data or self.colour.data) and not field.data:
            raise ValidationError("Enter the registration")


class AsbIncidentForm(EntryForm):
    KIND_ORDER = ("summary", "occurred_at", "nsir_category", "asb_type", "description", "people", "vehicles",
                  "action_taken", "control_room_ref", "victim_risk")
    nsir_category = RadioField("NSIR category", coerce=_as_str, choices=_choices(NsirCategory),
                               validators=[InputRequired("Choose the NSIR category")])
    asb_type = SelectField("Type", coerce=_as_str, choices=_choices(AsbType, blank="Choose the type"),
                           validators=[DataRequired("Choose the type of ASB")])
    description = long_text("What happened?", required="Describe what happened")
    people = FieldList(FormField(PersonForm), min_entries=1, max_entries=20)
    vehicles = FieldList(FormField(VehicleForm), min_entries=1, max_entries=20)
    action_taken = long_text("Action taken")
    control_room_ref = StringField("Control room reference", validators=[Optional(), Length(max=40)])
    # No Optional(): it would stop the chain before validate_victim_risk runs.
    victim_risk = OptionalRadioField("Victim risk", coerce=_as_str, choices=_choices(RiskLevel, blank="Not assessed"), default="")

    def validate_victim_risk(self, field):
        has_victim = any(p.form.role.data == InvolvementRole.VICTIM for p in self.people)
        if has_victim and not field.data:
            raise ValidationError("A victim is named: assess their risk (low, medium or high)")


class SchoolVisitForm(EntryForm):
    KIND_ORDER = ("summary", "school_id", "visit_type", "topic", "occurred_at", "year_groups", "audience_size",
                  "follow_ups")
    school_id = SelectField("School", coerce=str, validators=[DataRequired("Choose the school")])
    visit_type = RadioField("Visit type", coerce=_as_str, choices=_choices(SchoolVisitType),
                            validators=[InputRequired("Choose the visit type")])
    topic = StringField("Topic", validators=[DataRequired("Enter the topic"), Length(max=200)],
                        description="e.g. Knife Crime Awareness Week")
    year_groups = MultiCheckboxField("Year groups", choices=[(y, y) for y in YEAR_GROUPS])
    audience_size = IntegerField("Audience size", validators=[Optional(), NumberRange(1, 5000,
                                 "Enter a number between 1 and 5,000")])
    follow_ups = long_text("Follow-ups", description="Anything to do next. A disclosure is its own "
                           "safeguarding record, not a note here.")

    def __init__(self, *args, schools=(), near_beats=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        schools = list(schools)
        mine = [(str(s.id), s.name) for s in schools if s.beat_id in near_beats]
        others = [(str(s.id), s.name) for s in schools if s.beat_id not in near_beats]
        self.school_id.choices = (
            {"": [("", "Choose the school")], "On your beats": mine, "Other schools": others} if mine
            else [("", "Choose the school")] + others
        )


YES_NO = [("yes", "Yes"), ("no", "No")]


class WelfareCheckForm(EntryForm):
    KIND_ORDER = ("summary", "child_name", "child_born_on", "spoc_id", "occurred_at", "visit_type", "is_seen_alone",
                  "others_present", "child_words", "observations", "indicators", "risk_level",
                  "is_intelligence_raised", "is_mash_referral", "mash_reference", "is_partner_informed",
                  "next_visit_on")
    summary = StringField("Summary", validators=[DataRequired("Enter a short summary"), Length(max=200)],
                          description="Shows in lists: do not put the child's name here.")
    child_id = HiddenField()  # set when an existing record is picked from the suggestions
    child_name = StringField("Child's name", validators=[DataRequired("Enter the child's name"),
                                                          Length(max=120)])
    child_born_on = DateField("Child's date of birth", validators=[InputRequired("Enter the date of birth")])
    spoc_id = SelectField("SPOC (single point of contact)", coerce=str,
                          validators=[DataRequired("Choose the child's SPOC")])
    visit_type = RadioField("Visit type", coerce=_as_str, choices=_choices(WelfareVisitType),
                            validators=[InputRequired("Choose the visit type")])
    is_seen_alone = RadioField("Was the child seen alone?", choices=YES_NO,
                               validators=[InputRequired("Say whether the child was seen alone")])
    others_present = StringField("Who else was present?", validators=[Optional(), Length(max=200)])
    child_words = long_text("The child's own words")
    observations = long_text("Wellbeing observations")
    indicators = MultiCheckboxField("Exploitation indicators", choices=_choices(ExploitationIndicator))
    risk_level = RadioField("Risk level", coerce=_as_str, choices=_choices(RiskLevel),
                            validators=[InputRequired("Choose the risk level")])
    is_intelligence_raised = BooleanField("Intelligence report raised")
    is_mash_referral = BooleanField("MASH referral made")
    mash_reference = StringField("MASH reference", validators=[Length(max=40)])
    is_partner_informed = BooleanField("Partner agency informed")
    next_visit_on = DateField("Next visit due", validators=[Optional()])

    def __init__(self, *args, spocs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.spoc_id.choices = [("", "Choose the SPOC")] + [
            (str(u.id), f"{u.display_name} ({u.collar_number})") for u in spocs
        ]

    def _visit_date(self):
        return to_london(from_london(self.occurred_at.data)).date() if self.occurred_at.data else None

    def validate_child_born_on(self, field):
        visit_on = self._visit_date()
        if visit_on is None or field.data is None:
            return
        if field.data > visit_on:
            raise ValidationError("The date of birth is after the visit")
        if age_on(field.data, visit_on) >= 18:
            raise ValidationError("The child must be under 18 on the visit date: this person was "
                                  f"{age_on(field.data, visit_on)}")

    def validate_is_seen_alone(self, field):
        if field.data == "no" and not self.others_present.data:
            raise ValidationError("Say who else was present")

    def validate_mash_reference(self, field):
        if self.is_mash_referral.data and not field.data:
            raise ValidationError("Enter the MASH referral reference")

    def validate_next_visit_on(self, field):
        visit_on = self._visit_date()
        if field.data and visit_on and field.data < visit_on:
            raise ValidationError("The next visit must be after this one")


# Who an intelligence report is about. Victim and reporter are left out on purpose: they are for what
# happened to someone (ASB), and in intelligence the one who told us is the source, who is never a link.
INTEL_ROLES = (LinkRole.SUBJECT, LinkRole.ASSOCIATE, LinkRole.SUSPECT, LinkRole.WITNESS, LinkRole.MENTIONED)


class IntelPersonForm(PersonForm):
    role = SelectField("Role", coerce=_as_str, default="",
                       choices=[("", "Choose a role")] + [(role.value, role.label) for role in INTEL_ROLES])


class IntelligenceReportForm(EntryForm):
    """3x5x2 (College of Policing APP): source evaluation, intelligence assessment, handling code."""

    KIND_ORDER = ("summary", "occurred_at", "sanitised_text", "source_evaluation", "assessment", "handling_code",
                  "handling_conditions", "people", "vehicles", "source_details")
    summary = StringField("Summary", validators=[DataRequired("Enter a short summary"), Length(max=200)],
                          description="Shows in lists: nothing that could identify the source.")
    occurred_at = DateTimeLocalField("When was this seen or heard?", format="%Y-%m-%dT%H:%M",
                                     validators=[InputRequired("Enter the date and time")])
    sanitised_text = long_text("Intelligence", required="Enter the intelligence",
                               description="Keep fact apart from opinion. Write nothing that could identify the "
                               "source: not who they are, where they live, or how they came to know.")
    source_evaluation = RadioField("Source evaluation", coerce=_as_str, choices=_choices(SourceEvaluation),
                                   validators=[InputRequired("Choose the source evaluation (1, 2 or 3)")])
    assessment = RadioField("Intelligence assessment", coerce=_as_str, choices=_choices(IntelAssessment),
                            validators=[InputRequired("Choose the intelligence assessment (A to E)")])
    handling_code = RadioField("Handling code", coerce=_as_str, choices=_choices(HandlingCode),
                               validators=[InputRequired("Choose the handling code (P or C)")])
    # No Optional(): it would stop the chain before validate_handling_conditions runs.
    handling_conditions = TextAreaField("Conditions for sharing", validators=[
        Length(max=2000, message="Keep the conditions under 2,000 characters")],
        description="Required for handling code C: who it may go to, and on what terms.")
    people = FieldList(FormField(IntelPersonForm), min_entries=1, max_entries=20)
    vehicles = FieldList(FormField(VehicleForm), min_entries=1, max_entries=20)
    source_details = long_text("Source details", description="Restricted: only supervisors and analysts will "
                               "see this. Who the source is, how to contact them, how they know.")
    marking = RadioField("Security marking", coerce=_as_str, choices=[(m.value, m.value) for m in SecurityMarking],
                         default=SecurityMarking.OFFICIAL_SENSITIVE.value,
                         description="OFFICIAL-SENSITIVE: only you, supervisors and analysts can open it. "
                         "OFFICIAL (handling code P only): officers on the beat see it in their briefing.")
    raised_from_id = HiddenField()  # the entry it was raised from, posted back with the form
    raised_from = None  # that entry, once the view has checked the officer may see it

    def validate_handling_conditions(self, field):
        conditions = (field.data or "").strip()
        if self.handling_code.data == HandlingCode.CONDITIONS and not conditions:
            raise ValidationError("Handling code C: record the conditions for sharing")
        if self.handling_code.data == HandlingCode.PERMITTED and conditions:
            raise ValidationError("Conditions go with handling code C: choose C, or clear the conditions")

    def validate_marking(self, field):
        if field.data == SecurityMarking.OFFICIAL and self.handling_code.data != HandlingCode.PERMITTED:
            raise ValidationError("Intelligence with conditions on sharing stays OFFICIAL-SENSITIVE")
