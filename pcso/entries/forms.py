"""The fields every entry form has, and the rows for people and vehicles. Each kind's own form is in its
module (pcso/entries/kinds/). Field-level checks only: cross-field rules are the kinds' check() and the
services', so the API and sync keep them too. No database writes here."""
from __future__ import annotations

import uuid

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    DateField, DateTimeLocalField, FieldList, Form, FormField, HiddenField, RadioField, SelectField,
    SelectMultipleField, StringField, TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..models import (
    LOCATION_ROLES, ORGANISATION_ROLES, VEHICLE_ROLES, InvolvementRole, LinkRole, OrganisationType, SecurityMarking,
    normalise_vrm,
)
from ..models.asb import VRM_ALLOWED
from ..numbers import ACCURACY_RANGE_M, LAT_RANGE, LON_RANGE, FiniteFloatField, RecordIdField, finite_float, record_id
from ..timeutil import from_london, to_london, utcnow
from .data import CLIENT_KEY, LocationInput, OrganisationInput, PlaceInput

LONG_TEXT = 20_000
UNREADABLE_POINT = "The location could not be read: use the postcode instead"
POINT_FIELDS = ("lat", "lon", "accuracy_m")  # hidden: their errors are shown on the postcode, as the services do


def as_str(value) -> str:
    """Coerce for choice fields filled from a model: None -> "", an enum -> its value."""
    return "" if value is None else str(value)


def choices(enum_cls, blank: str | None = None):
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


def role_choices(roles) -> list[tuple[str, str]]:
    return [(role.value, role.label) for role in roles]


class LocationForm(Form):
    """A place in an entry: picked from the suggestions (location_id) or typed (an address or a place's name)."""

    location_id = RecordIdField()
    address = StringField("Address or place", validators=[Optional(), Length(max=200)],
                          description="House number and postcode (12 M32 0DH), a street, or a place's name")
    postcode = StringField("Postcode", validators=[Optional(), Length(max=10)],
                           render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    role = SelectField("What it was", coerce=as_str, choices=role_choices(LOCATION_ROLES),
                       default=LinkRole.SCENE.value)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.location_id.errors:  # hidden: say it beside the address
            self.address.errors, self.location_id.errors = [*self.address.errors, *self.location_id.errors], []
        if (self.postcode.data or "").strip() and not (self.address.data or "").strip():
            self.address.errors = [*self.address.errors, "Enter the house number and street, or the place's name"]
            return False
        return valid


class OrganisationForm(Form):
    organisation_id = RecordIdField()
    name = StringField("Organisation", validators=[Optional(), Length(max=200)],
                       description="A shop, pub, school, housing provider...")
    org_type = SelectField("Kind", coerce=as_str, choices=choices(OrganisationType, blank="Choose if new"), default="")
    role = SelectField("What it was", coerce=as_str, choices=role_choices(ORGANISATION_ROLES),
                       default=LinkRole.INVOLVED.value)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.organisation_id.errors:
            self.name.errors, self.organisation_id.errors = [*self.name.errors, *self.organisation_id.errors], []
        return valid


def places_from_form(rows) -> tuple[LocationInput, ...]:
    """The filled place rows (an empty row is skipped)."""
    return tuple(LocationInput(address=row.address.data.strip(), role=LinkRole(row.role.data or LinkRole.SCENE),
                               postcode=(row.postcode.data or "").strip() or None,
                               location_id=record_id(row.location_id.data))
                 for row in (r.form for r in rows if (r.form.address.data or "").strip()))


def organisations_from_form(rows) -> tuple[OrganisationInput, ...]:
    return tuple(OrganisationInput(name=row.name.data.strip(), role=LinkRole(row.role.data or LinkRole.INVOLVED),
                                   org_type=OrganisationType(row.org_type.data) if row.org_type.data else None,
                                   organisation_id=record_id(row.organisation_id.data))
                 for row in (r.form for r in rows if (r.form.name.data or "").strip()))


def load_place_rows(form, entry) -> None:
    """Fill the place and organisation rows from the entry's links, keeping one empty row of each to add to."""
    places, organisations = entry.location_links, entry.organisation_links
    while len(form.places) < len(places) + 1:
        form.places.append_entry()
    while len(form.organisations) < len(organisations) + 1:
        form.organisations.append_entry()
    for row, item in zip(form.places, places, strict=False):
        row.form.location_id.data, row.form.address.data = str(item.location.id), item.location.address
        row.form.role.data = item.role.value
    for row, item in zip(form.organisations, organisations, strict=False):
        row.form.organisation_id.data, row.form.name.data = str(item.organisation.id), item.organisation.name
        row.form.org_type.data, row.form.role.data = item.organisation.org_type.value, item.role.value


class EntryForm(FlaskForm):
    """Fields every entry has. `beats` choices are set by the view."""

    client_key = HiddenField()
    occurred_at = DateTimeLocalField("When did it happen?", format="%Y-%m-%dT%H:%M",
                                     validators=[InputRequired("Enter the date and time")])
    summary = StringField("Summary", validators=[DataRequired("Enter a short summary"), Length(max=200)],
                          description="One line that says what this is. It shows in lists.")
    marking = RadioField("Security marking", coerce=as_str, choices=[(m.value, m.value) for m in SecurityMarking],
                         default=SecurityMarking.OFFICIAL.value)
    lat = FiniteFloatField(low=LAT_RANGE[0], high=LAT_RANGE[1], message=UNREADABLE_POINT)
    lon = FiniteFloatField(low=LON_RANGE[0], high=LON_RANGE[1], message=UNREADABLE_POINT)
    accuracy_m = FiniteFloatField(low=ACCURACY_RANGE_M[0], high=ACCURACY_RANGE_M[1],
                                  message="The location's accuracy could not be read: use your location again, "
                                          "or the postcode")
    location_source = HiddenField(default="none")
    postcode = StringField("Postcode", validators=[Optional(), Length(max=10)],
                           render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    location_text = StringField("Where exactly?", validators=[Optional(), Length(max=200)],
                                description="Street, landmark or building")
    beat_id = SelectField("Beat", coerce=str, default="")  # a beat by hand: record_id() in place_input
    # Checked, stripped and stored by pcso/photos/services.py when the entry is saved, not here.
    photos = MultipleFileField("Take or choose photos")
    photo_offers = HiddenField()  # the EXIF time and place the phone read before resizing (static/js/photos.js)
    # Places and organisations, on every kind's form (templates/_partials/places_and_organisations.html)
    places = FieldList(FormField(LocationForm), min_entries=1, max_entries=20)
    organisations = FieldList(FormField(OrganisationForm), min_entries=1, max_entries=20)

    # The order fields appear on the page (the error summary follows it); kinds set KIND_ORDER.
    KIND_ORDER: tuple[str, ...] = ("summary", "occurred_at")
    PLACE_ORDER = ("places", "organisations", "postcode", "location_text", "beat_id", "marking", "photos")

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

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        moved = [message for name in POINT_FIELDS for message in getattr(self, name).errors]
        for name in POINT_FIELDS:
            getattr(self, name).errors = []
        self.postcode.errors = [*self.postcode.errors, *dict.fromkeys(moved)]
        return valid

    def validate_client_key(self, field):
        if not CLIENT_KEY.match(field.data or ""):
            raise ValidationError("This form is missing its key: reload the page and try again")

    @property
    def occurred_at_utc(self):
        return from_london(self.occurred_at.data)

    def place_input(self) -> PlaceInput:
        """The location fields as the services take them (they resolve the postcode and the beat)."""
        return PlaceInput(
            lat=self.lat.number, lon=self.lon.number, accuracy_m=self.accuracy_m.number,
            source=self.location_source.data or "none", postcode=(self.postcode.data or "").strip() or None,
            location_text=(self.location_text.data or "").strip() or None, beat_id=record_id(self.beat_id.data))

    def load_location(self, entry) -> None:
        """Fill the location fields from a stored entry (editing)."""
        if entry.lat is not None:
            self.lat.data, self.lon.data = str(entry.lat), str(entry.lon)
            accuracy = finite_float(entry.accuracy_m, *ACCURACY_RANGE_M)  # a bad stored value is dropped, not shown
            self.accuracy_m.data = "" if accuracy is None else str(accuracy)
            self.location_source.data = entry.location_source.value
        self.beat_id.data = str(entry.beat_id) if entry.is_beat_overridden or entry.lat is None else ""
        self.occurred_at.data = to_london(entry.occurred_at).replace(tzinfo=None)


class EndPatrolForm(FlaskForm):
    ended_at = DateTimeLocalField("Ended at", format="%Y-%m-%dT%H:%M",
                                  validators=[InputRequired("Enter the end time")])
    notes = long_text("Notes to add")


class PersonForm(Form):
    person_id = RecordIdField()  # set when an existing record is picked from the suggestions
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    role = SelectField("Role", coerce=as_str, choices=choices(InvolvementRole, blank="Choose a role"), default="")
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

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.person_id.errors:  # hidden: say it beside the name
            self.name.errors, self.person_id.errors = [*self.name.errors, *self.person_id.errors], []
        return valid


class VehicleForm(Form):
    vrm = StringField("Registration", validators=[Optional(), Length(max=12)],
                      render_kw={"autocapitalize": "characters"})
    colour = StringField("Colour", validators=[Optional(), Length(max=30)])
    make = StringField("Make", validators=[Optional(), Length(max=40)])
    model = StringField("Model", validators=[Optional(), Length(max=40)])
    role = SelectField("What it was", coerce=as_str, choices=role_choices(VEHICLE_ROLES),
                       default=LinkRole.MENTIONED.value)

    def validate_vrm(self, field):
        if field.data and not VRM_ALLOWED.match(normalise_vrm(field.data)):
            raise ValidationError("A registration is 2 to 8 letters and numbers, e.g. AB12 CDE")

    def validate(self, extra_validators=None) -> bool:
        """A make, model or colour needs its registration. (Checked here: Optional() on an empty vrm stops its
        own validators, so a row with only a make was dropped without a word.)"""
        valid = super().validate(extra_validators)
        if (self.make.data or self.model.data or self.colour.data) and not (self.vrm.data or "").strip():
            self.vrm.errors = [*self.vrm.errors, "Enter the registration"]
            return False
        return valid
