"""The dashboard's choices: a beat (or all) and a period. A GET form: no CSRF token, nothing written."""
from __future__ import annotations

from datetime import date, timedelta

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional, ValidationError

from ..numbers import record_id

PERIODS = (("7", "Last 7 days"), ("28", "Last 28 days"), ("90", "Last 90 days"), ("custom", "Dates I choose"))
DEFAULT_PERIOD = "28"
LONGEST_DAYS = 366
EARLIEST = date(2000, 1, 1)


class DashboardForm(FlaskForm):
    """`beats` fills the beat choices (the ones the user may open); "" is every one of them."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    beat = SelectField("Beat", coerce=str, default="")
    period = SelectField("Period", choices=PERIODS, default=DEFAULT_PERIOD)
    date_from = DateField("From", validators=[Optional()], description="Day, month, year")
    date_to = DateField("To", validators=[Optional()], description="Inclusive")

    field_order = ("beat", "period", "date_from", "date_to")

    def __init__(self, *args, beats=(), all_label: str = "All beats", **kwargs):
        super().__init__(*args, **kwargs)
        self.beat.choices = [("", all_label)] + [(str(b.id), b.name) for b in beats]
        # an unknown beat id is answered 404 by the view, not as a form error: it may be a beat that exists
        self.beat.pre_validate = lambda form: None

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.period.data == "custom":  # Optional() stops a field's own checks when it is empty
            for field, example in ((self.date_from, "2026-11-01"), (self.date_to, "2026-11-28")):
                if field.data is None and not field.errors:
                    field.errors = [f"Enter the {'first' if field is self.date_from else 'last'} day, "
                                    f"for example {example}"]
                    valid = False
        return valid

    def validate_date_from(self, field):
        if field.data and field.data < EARLIEST:
            raise ValidationError(f"Choose a day from {EARLIEST:%d %B %Y}")

    def validate_date_to(self, field):
        first = self.date_from.data
        if field.data and first and field.data < first:
            raise ValidationError("The last day must be the same as or after the first day")
        if field.data and first and (field.data - first).days + 1 > LONGEST_DAYS:
            raise ValidationError(f"Choose at most {LONGEST_DAYS} days")

    def validate_beat(self, field):
        if field.data and record_id(field.data) is None:
            raise ValidationError("Choose a beat from the list")

    @property
    def beat_id(self) -> int | None:
        return record_id(self.beat.data) if self.beat.data else None

    def dates(self, today: date) -> tuple[date, date]:
        """The period as London dates, inclusive. The dates typed count only with "Dates I choose"."""
        if self.period.data == "custom":
            return self.date_from.data, self.date_to.data
        days = int(self.period.data or DEFAULT_PERIOD)
        return today - timedelta(days=days - 1), today
