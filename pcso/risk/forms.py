"""A supervisor's review of a victim's risk, from the ASB incident's page."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length

from ..entries.forms import as_str, choices
from ..models import RiskLevel
from ..models.risk import OUTCOME_MAX


class RiskReviewForm(FlaskForm):
    person_id = RadioField("Victim", coerce=as_str, validators=[InputRequired("Choose the victim you reviewed")])
    level = RadioField("Risk now", coerce=as_str, choices=choices(RiskLevel),
                       validators=[InputRequired("Choose the risk level now")],
                       description="High: next review in 14 days. Medium: in 28 days. Low: no further review.")
    outcome = TextAreaField("Outcome", validators=[
        InputRequired("Say what the review found or what was done"),
        Length(max=OUTCOME_MAX, message=f"Keep the outcome to {OUTCOME_MAX:,} characters")],
        description="What you checked, what changed, what was done (e.g. visited, referred to the council's ASB team).")

    def __init__(self, *args, victims=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.person_id.choices = [(str(person.id), person.full_name) for person in victims]
        if len(victims) == 1 and not self.person_id.data:
            self.person_id.data = str(victims[0].id)
