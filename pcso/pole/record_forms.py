"""Forms of the person and vehicle edit pages: details, an alias, a warning marker, an address, a vehicle."""
from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from ..models import AddressRole, Sex
from ..models.markers import offered
from ..numbers import MAX_DB_INT
from ..postcodes import normalise_postcode
from ..timeutil import london_today

EARLIEST_BIRTH = date(1900, 1, 1)


def _blank_int(value):
    return int(value) if value not in (None, "", "None") and str(value).isdigit() else None


class PersonDetailsForm(FlaskForm):
    full_name = StringField("Full name", validators=[InputRequired("Enter the person's name"), Length(max=120)],
                            render_kw={"autocomplete": "off"})
    born_on = DateField("Date of birth", validators=[Optional()], description="If known")
    approx_age = IntegerField("Approximate age", validators=[Optional(), NumberRange(0, 120, "An age from 0 to 120")],
                              description="If the date of birth is not known: your estimate, dated today",
                              render_kw={"inputmode": "numeric"})
    sex = RadioField("Sex", choices=[(sex.value, sex.label) for sex in Sex], default=Sex.UNKNOWN.value)
    description = TextAreaField("Description", validators=[Optional(), Length(max=300)],
                                description="Height, build, hair, clothing, scars or tattoos")

    def validate_born_on(self, field):
        if field.data and field.data > london_today():
            raise ValidationError("The date of birth is in the future")
        if field.data and field.data < EARLIEST_BIRTH:
            raise ValidationError("Check the year of birth")

    def validate_approx_age(self, field):
        if field.data is not None and self.born_on.data:
            raise ValidationError("Give a date of birth or an approximate age, not both")


class AliasForm(FlaskForm):
    alias = StringField("Other name or nickname", validators=[InputRequired("Enter the other name"), Length(max=120)],
                        render_kw={"autocomplete": "off"})


class RemoveAliasForm(FlaskForm):
    alias = HiddenField(validators=[InputRequired()])


class MarkerForm(FlaskForm):
    marker = SelectField("Warning marker", validators=[InputRequired("Choose a warning marker")])
    note = TextAreaField("Why", validators=[Optional(), Length(max=300)],
                         description="What happened and when, e.g. the entry it comes from. Not a diagnosis.")
    review_on = DateField("Review by", validators=[Optional()], description="When someone should check it is still right")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.marker.choices = [("", "Choose a marker")] + [(kind.code, kind.label) for kind in offered()]


class ReviewMarkerForm(FlaskForm):
    review_on = DateField("Next review", validators=[Optional()])
    note = TextAreaField("Note", validators=[Optional(), Length(max=300)])


class RemoveMarkerForm(FlaskForm):
    reason = TextAreaField("Why it no longer applies",
                           validators=[InputRequired("Say why the marker is no longer right"), Length(max=300)])


class AddressForm(FlaskForm):
    role = SelectField("Connection", choices=[(role.value, role.label) for role in AddressRole],
                       default=AddressRole.HOME.value)
    location_id = SelectField("A place already recorded", coerce=_blank_int, validate_choice=False, default="")
    address = StringField("Or type the address", validators=[Optional(), Length(max=200)],
                          description="House number and street, or a named place", render_kw={"autocomplete": "off"})
    postcode = StringField("Postcode", validators=[Optional(), Length(max=10)],
                           render_kw={"autocapitalize": "characters", "autocomplete": "off"})

    def set_places(self, places) -> None:
        self.location_id.choices = [("", "Choose a place")] + [
            (place.id, place.address + (f", {place.postcode}" if place.postcode else "")) for place in places]

    def validate_location_id(self, field):
        if field.data is not None and field.data not in {value for value, _ in field.choices if value != ""}:
            raise ValidationError("Choose a place from the list")

    def validate_postcode(self, field):
        if field.data and normalise_postcode(field.data) is None:
            raise ValidationError("Enter a full UK postcode, like M16 0RA")

    def validate_address(self, field):
        if not field.data and self.location_id.data is None:
            raise ValidationError("Choose a place or type the address")


class VehicleDetailsForm(FlaskForm):
    vrm = StringField("Registration (VRM)", validators=[InputRequired("Enter the registration"), Length(max=12)],
                      render_kw={"autocapitalize": "characters", "autocomplete": "off"})
    make = StringField("Make", validators=[Optional(), Length(max=40)])
    model = StringField("Model", validators=[Optional(), Length(max=40)])
    colour = StringField("Colour", validators=[Optional(), Length(max=30)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=300)],
                                description="Damage, stickers, tinted windows, a roof box")
    keeper_id = SelectField("Keeper", coerce=_blank_int, validate_choice=False, default="",
                            description="Someone seen with this vehicle in the entries you can open")
    keeper_number = IntegerField("Or the keeper's record number", validators=[
        Optional(), NumberRange(1, MAX_DB_INT, "Enter a person's record number")], render_kw={"inputmode": "numeric"},
        description="The number at the top of the person's page")

    def set_people(self, people, current=None) -> None:
        listed = list(people) + ([current] if current is not None and current not in people else [])
        self.keeper_id.choices = [("", "No keeper recorded")] + [
            (person.id, person.full_name + (f" (born {person.born_on:%d %b %Y})" if person.born_on else ""))
            for person in listed]

    def validate_keeper_id(self, field):
        if field.data is not None and field.data not in {value for value, _ in field.choices if value != ""}:
            raise ValidationError("Choose a person from the list")

    @property
    def chosen_keeper(self) -> int | None:
        return self.keeper_number.data or self.keeper_id.data


class CsrfOnlyForm(FlaskForm):
    """A button that changes something (removing an address): its CSRF token only."""
