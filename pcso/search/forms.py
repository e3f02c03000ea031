"""The search form: every filter is a named field with its own validation, mapped onto SearchQuery.

Nothing from the request names a column: choices are allow-listed here, and to_query() turns
each field into a typed value. The form posts, so names typed into it stay out of URLs and logs.
"""
from __future__ import annotations

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from ..entries.forms import MultiCheckboxField
from ..entries.location import parse_point
from ..postcodes import DEFAULT_POSTCODES_PATH, load_postcode_book, normalise_postcode
from ..models import (
    EntryKind, HandlingCode, IntelAssessment, NsirCategory, SourceEvaluation, name_key, normalise_vrm,
)
from .query import MAX_RADIUS_M, SearchQuery


def _choices(enum_cls, blank: str = "Any"):
    return [("", blank)] + [(member.value, member.label) for member in enum_cls]


class SearchForm(FlaskForm):
    """`beats` and `authors` fill the beat and officer choices."""

    q = StringField("Words", validators=[Optional(), Length(max=200)],
                    description="Every word must appear. End a word with * to match its start: wrig* finds Wrigley.",
                    render_kw={"type": "search", "autocomplete": "off", "spellcheck": "false"})
    person = StringField("Person's name", validators=[Optional(), Length(max=120)],
                         description="Part of a name or alias", render_kw={"autocomplete": "off"})
    vrm = StringField("Vehicle registration", validators=[Optional(), Length(max=12)],
                      description="Part of it is enough: AB12 finds AB12 CDE",
                      render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})
    kinds = MultiCheckboxField("Kind of entry", choices=[(kind.value, kind.label) for kind in EntryKind])
    beat = SelectField("Beat", coerce=str, default="")
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])
    author = SelectField("Logged by", coerce=str, default="")
    nsir_category = SelectField("NSIR category (ASB)", choices=_choices(NsirCategory), default="")
    source_evaluation = SelectField("Source evaluation", choices=_choices(SourceEvaluation), default="")
    assessment = SelectField("Intelligence assessment", choices=_choices(IntelAssessment), default="")
    handling_code = SelectField("Handling code", choices=_choices(HandlingCode), default="")
    postcode = StringField("Near a postcode", validators=[Optional(), Length(max=10)],
                           render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    lat = StringField("or latitude", validators=[Optional(), Length(max=20)], render_kw={"inputmode": "decimal"})
    lon = StringField("and longitude", validators=[Optional(), Length(max=20)], render_kw={"inputmode": "decimal"})
    radius_m = IntegerField("Within (metres)", default=500,
                            validators=[Optional(), NumberRange(10, MAX_RADIUS_M,
                                                                f"Give a distance from 10 to {MAX_RADIUS_M:,} metres")],
                            render_kw={"inputmode": "numeric"})
    page = IntegerField("Page", default=1, validators=[Optional(), NumberRange(1, 100_000)])

    # The order fields appear on the page: the error summary follows it.
    field_order = ("q", "person", "vrm", "kinds", "beat", "date_from", "date_to", "author", "nsir_category",
                   "source_evaluation", "assessment", "handling_code", "postcode", "lat", "lon", "radius_m")

    def __init__(self, *args, beats=(), authors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.beat.choices = [("", "All beats")] + [(str(b.id), b.name) for b in beats]
        self.author.choices = [("", "Anyone")] + [(str(u.id), f"{u.display_name} ({u.collar_number})")
                                                  for u in authors]
        self.point: tuple[float, float] | None = None

    def validate_person(self, field):
        if field.data and len(name_key(field.data)) < 2:
            raise ValidationError("Give at least two letters of the name")

    def validate_vrm(self, field):
        if field.data and len(normalise_vrm(field.data)) < 2:
            raise ValidationError("Give at least two letters or numbers of the registration")

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date")

    def validate_postcode(self, field):
        if not field.data:
            return
        if self.lat.data or self.lon.data:
            raise ValidationError("Give a postcode or a point, not both")
        book = load_postcode_book(current_app.config.get("POSTCODES_PATH") or DEFAULT_POSTCODES_PATH)
        found = book.lookup(field.data)
        if found is None:
            raise ValidationError("That postcode is not in the postcode book" if normalise_postcode(field.data)
                                  else "Enter a full postcode, like M32 0JG")
        field.data = found.postcode
        self.point = (found.lat, found.lon)

    def validate_lat(self, field):
        if not (field.data or self.lon.data):
            return
        point = parse_point(field.data, self.lon.data)
        if point is None:
            raise ValidationError("Give both latitude and longitude as decimal degrees")
        if not self.postcode.data:
            self.point = point

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and self.to_query().is_empty:
            self.form_errors.append("Give some words, a name, a registration or a filter to search for")
            return False
        return valid

    def to_query(self) -> SearchQuery:
        return SearchQuery(
            text=(self.q.data or "").strip(),
            kinds=tuple(EntryKind(value) for value in self.kinds.data or []),
            beat_id=int(self.beat.data) if self.beat.data else None,
            date_from=self.date_from.data,
            date_to=self.date_to.data,
            author_id=int(self.author.data) if self.author.data else None,
            source_evaluation=SourceEvaluation(self.source_evaluation.data) if self.source_evaluation.data else None,
            assessment=IntelAssessment(self.assessment.data) if self.assessment.data else None,
            handling_code=HandlingCode(self.handling_code.data) if self.handling_code.data else None,
            nsir_category=NsirCategory(self.nsir_category.data) if self.nsir_category.data else None,
            person=(self.person.data or "").strip(),
            vrm=(self.vrm.data or "").strip(),
            near=self.point,
            near_postcode=self.postcode.data or None,
            radius_m=self.radius_m.data or 500,
            page=self.page.data or 1,
        )
