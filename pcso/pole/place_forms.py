"""The location and organisation pages' forms. Field checks only: the services (pcso/pole/locations.py) look up
the postcode, place the point and say what is missing."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Form, FormField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..models import OrganisationType
from ..numbers import LAT_RANGE, LON_RANGE, FiniteFloatField
from .locations import LocationData, OrganisationData

PIN = "The pin could not be read: drop it again, or give the postcode"


class AddressFields(Form):
    """An address or a named place, and an optional pin."""

    place_name = StringField("Name of the place", validators=[Optional(), Length(max=120)],
                             description="For a park, car park, shop or other named place. Leave empty for a house.")
    house = StringField("House number or name", validators=[Optional(), Length(max=60)],
                        render_kw={"autocomplete": "off"})
    street = StringField("Street", validators=[Optional(), Length(max=120)], render_kw={"autocomplete": "off"})
    town = StringField("Town or area", validators=[Optional(), Length(max=60)])
    postcode = StringField("Postcode", validators=[Optional(), Length(max=10)],
                           render_kw={"autocomplete": "off", "autocapitalize": "characters"},
                           description="Looked up in the postcode book on the server: it gives the point and beat.")
    lat = FiniteFloatField(low=LAT_RANGE[0], high=LAT_RANGE[1], message=PIN)
    lon = FiniteFloatField(low=LON_RANGE[0], high=LON_RANGE[1], message=PIN)

    def data_in(self) -> LocationData:
        def text(field) -> str | None:
            return (field.data or "").strip() or None

        return LocationData(place_name=text(self.place_name), house=text(self.house), street=text(self.street),
                            town=text(self.town), postcode=text(self.postcode), lat=self.lat.number,
                            lon=self.lon.number)

    def load(self, location) -> None:
        for name in ("place_name", "house", "street", "town", "postcode"):
            getattr(self, name).data = getattr(location, name)
        if location.lat is not None:
            self.lat.data, self.lon.data = str(location.lat), str(location.lon)


class LocationPageForm(FlaskForm, AddressFields):
    """/locations/new and /locations/<id>/edit."""


class OrganisationPageForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter the organisation's name"), Length(max=200)])
    org_type = SelectField("Kind", choices=[("", "Choose the kind")] + [(t.value, t.label) for t in OrganisationType],
                           validators=[DataRequired("Choose the kind of organisation")])
    address = FormField(AddressFields, label="Address")

    def data_in(self) -> OrganisationData:
        address = self.address.form.data_in()
        return OrganisationData(name=self.name.data, org_type=OrganisationType(self.org_type.data),
                                address=None if address.is_blank else address)

    def load(self, organisation) -> None:
        self.name.data, self.org_type.data = organisation.name, organisation.org_type.value
        if organisation.location is not None:
            self.address.form.load(organisation.location)
