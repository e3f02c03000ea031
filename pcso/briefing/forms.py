"""Beat priorities, in data.police.uk's shape: issue, issue date, action, action date."""
from __future__ import annotations

from datetime import timedelta

from flask_wtf import FlaskForm
from wtforms import DateField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..timeutil import london_today


class PriorityForm(FlaskForm):
    field_order = ("issue", "issue_date", "action", "action_date")

    issue = TextAreaField("Issue", validators=[DataRequired("Describe the issue"), Length(
        max=2000, message="Keep the issue under 2,000 characters")],
        description="What the neighbourhood has asked the team to tackle, e.g. car crime on Shrewsbury Street.")
    issue_date = DateField("Issue date", validators=[InputRequired("Enter the date the issue was agreed")])
    action = TextAreaField("Action", validators=[Optional(), Length(
        max=2000, message="Keep the action under 2,000 characters")],
        description="What the team will do about it. Leave empty until it is agreed.")
    action_date = DateField("Action date", validators=[Optional()],
                            description="When the action was, or will be, taken.")

    def validate_issue_date(self, field):
        if field.data and field.data > london_today() + timedelta(days=1):
            raise ValidationError("The issue date can't be in the future")

    def validate_action_date(self, field):
        if field.data and not (self.action.data or "").strip():
            raise ValidationError("Describe the action this date is for")
        if field.data and self.issue_date.data and field.data < self.issue_date.data:
            raise ValidationError("The action date can't be before the issue date")
