"""The merge form: which record, and why. Posted twice: to review side by side, then to merge."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange

from ..web import MAX_DB_INT

REVIEW, MERGE = "review", "merge"


class MergeForm(FlaskForm):
    other_id = IntegerField("Record number of the other record",
                            validators=[InputRequired("Enter the other record's number"),
                                        NumberRange(1, MAX_DB_INT, "Enter the other record's number")],
                            render_kw={"inputmode": "numeric", "autocomplete": "off"})
    reason = TextAreaField("Why are these the same?",
                           validators=[Length(max=500, message="Keep the reason under 500 characters")],
                           description="What you checked, e.g. the same date of birth and address on both. "
                                       "Recorded in the audit log with your name.")
    action = StringField(default=REVIEW)  # never rendered: the buttons carry it (name=action)

    @property
    def is_merge(self) -> bool:
        return self.action.data == MERGE

    def reason_given(self) -> bool:
        if (self.reason.data or "").strip():
            return True
        self.reason.errors = [*self.reason.errors, "Say why these are the same before merging"]
        return False
