"""The review decision: approve, or return with a comment; intelligence is graded on approval."""
from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import Length, ValidationError

from ..entries.forms import as_str, choices
from ..models import HandlingCode, IntelAssessment, IntelligenceReport, SourceEvaluation

DECISIONS = ("approve", "return")


class ReviewForm(FlaskForm):
    comment = TextAreaField("Comment for the author", validators=[
        Length(max=2000, message="Keep the comment under 2,000 characters")],
        description="Required when you return it: say what to correct.")

    def __init__(self, *args, decision: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.decision = decision

    def validate_comment(self, field):
        if self.decision == "return" and not (field.data or "").strip():
            raise ValidationError("Say what the author should correct before you return it")


class IntelReviewForm(ReviewForm):
    """The supervisor confirms or changes the 3x5x2 grade as they approve.

    Choices are checked in validate() only when approving: returning needs no grade.
    """

    source_evaluation = RadioField("Source evaluation", coerce=as_str, choices=choices(SourceEvaluation),
                                   validate_choice=False)
    assessment = RadioField("Intelligence assessment", coerce=as_str, choices=choices(IntelAssessment),
                            validate_choice=False)
    handling_code = RadioField("Handling code", coerce=as_str, choices=choices(HandlingCode),
                               validate_choice=False)
    handling_conditions = TextAreaField("Conditions for sharing", validators=[
        Length(max=2000, message="Keep the conditions under 2,000 characters")],
        description="Required for handling code C.")

    def validate_handling_conditions(self, field):
        if (self.decision == "approve" and self.handling_code.data == HandlingCode.CONDITIONS
                and not (field.data or "").strip()):
            raise ValidationError("Handling code C needs its conditions: who it may go to, and on what terms")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.decision == "approve":  # grading is needed to approve, not to return
            for name in ("source_evaluation", "assessment", "handling_code"):
                field = getattr(self, name)
                if field.data not in {value for value, _ in field.choices}:
                    field.errors = [*field.errors, f"Choose the {field.label.text.lower()}"]
                    ok = False
        return ok

    def grading(self) -> dict:
        return {"source_evaluation": self.source_evaluation.data, "assessment": self.assessment.data,
                "handling_code": self.handling_code.data,
                "handling_conditions": (self.handling_conditions.data or "").strip() or None}


def review_form_for(entry, decision: str | None = None) -> ReviewForm:
    """The decision form for the entry's detail page; intelligence starts from its current grade."""
    if isinstance(entry, IntelligenceReport):
        form = IntelReviewForm(decision=decision)
        if request.method == "GET":
            form.source_evaluation.data = entry.source_evaluation.value
            form.assessment.data = entry.assessment.value
            form.handling_code.data = entry.handling_code.value
            form.handling_conditions.data = entry.handling_conditions
        return form
    return ReviewForm(decision=decision)


class AmendmentReasonForm(FlaskForm):
    """Why an approved entry needs amending: shown beside the edit form, posted with it (its CSRF token is the
    edit form's)."""

    class Meta:
        csrf = False

    amendment_reason = TextAreaField("Why it needs amending", validators=[
        Length(max=1000, message="Keep the reason under 1,000 characters")],
        description="What was wrong or missing, e.g. “Wrong registration recorded: it was YK68 WPD”. "
                    "A supervisor approves the amendment before the entry changes.",
        render_kw={"rows": 3, "autocomplete": "off"})

    def validate_amendment_reason(self, field):
        if len(" ".join((field.data or "").split())) < 10:
            raise ValidationError("Say why it needs amending, in 10 characters or more")


class AmendmentDecisionForm(FlaskForm):
    comment = TextAreaField("Comment for the author", validators=[
        Length(max=2000, message="Keep the comment under 2,000 characters")],
        description="Required when you refuse it: say why.", render_kw={"rows": 3})
