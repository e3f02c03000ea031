"""The records manager's decision form: retain (reason, next review) or dispose (reason, confirmed).

Field rules only; whether a record needs the safeguarding lead's note is the services' decision
(pcso/retention/services.py record_decision), which puts its refusal back on the field it names.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..models import EntryKind, RetentionDecisionType

KIND_CHOICES = [("", "Any")] + [(kind.value, kind.label) for kind in EntryKind] + [
    ("person", "Person"), ("vehicle", "Vehicle"), ("location", "Location"), ("organisation", "Organisation")]


class DecisionForm(FlaskForm):
    decision = RadioField("Decision", choices=[(RetentionDecisionType.RETAIN.value, "Retain: keep it and review it again"),
                                               (RetentionDecisionType.DISPOSE.value, "Dispose: erase its content")],
                          validators=[DataRequired("Choose retain or dispose")])
    rationale = TextAreaField("Reason for the decision", validators=[DataRequired("Give the reason for this decision"),
                                                                     Length(max=2000)],
                              description="The policing purpose for keeping it, or why there is none. Do not name people.")
    next_review = DateField("Next review (retain)", validators=[Optional()],
                            description="After today. A retained record comes back to this queue on that date.")
    safeguarding_note = TextAreaField("Safeguarding lead's note", validators=[Optional(), Length(max=2000)],
                                      description="Who you consulted and what they said.")

    field_order = ("decision", "rationale", "next_review", "safeguarding_note")


class QueueFilterForm(FlaskForm):
    class Meta:
        csrf = False

    kind = SelectField("Kind of record", choices=KIND_CHOICES, default="", validators=[Optional()])
    group = SelectField("MoPI group", choices=[("", "Any"), ("1", "1"), ("2", "2"), ("3", "3"), ("4", "4")],
                        default="", validators=[Optional()])
    after = HiddenField()
