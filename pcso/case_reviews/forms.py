"""The ASB Case Review forms: the application, each later step, and the list's filters (a GET form)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..entries.forms import MultiCheckboxField, as_str, choices
from ..models import AppealOutcome, ApplicantType, CaseReviewState, RecommendationStatus
from ..models.case_review import NAME_MAX, TEXT_MAX
from ..numbers import record_id

RECOMMENDATION_ROWS = 3


def _text(label: str, required: str | None = None, **kwargs) -> TextAreaField:
    validators = [InputRequired(required)] if required else [Optional()]
    return TextAreaField(label, validators=[*validators, Length(max=TEXT_MAX, message=f"Keep it to {TEXT_MAX:,} characters")],
                         **kwargs)


def _name(label: str, **kwargs) -> StringField:
    return StringField(label, validators=[Optional(), Length(max=NAME_MAX, message=f"Keep it to {NAME_MAX} characters")],
                       **kwargs)


def _date(label: str, required: str | None = None, **kwargs) -> DateField:
    validators = [InputRequired(required)] if required else [Optional()]
    return DateField(label, validators=validators, **kwargs)


class ApplicationForm(FlaskForm):
    victim_id = HiddenField()
    received_on = _date("Date the application was received", "Enter the date the application was received")
    beat_id = SelectField("Beat or area", coerce=as_str, validators=[InputRequired("Choose the beat")],
                          description="Its threshold and timescales apply.")
    applicant_type = RadioField("Who applied", coerce=as_str, choices=choices(ApplicantType),
                                default=ApplicantType.VICTIM.value, validators=[InputRequired("Say who applied")])
    applicant_name = _name("Applicant's name", description="If someone applied on the victim's behalf")
    applicant_relationship = _name("Relationship to the victim", description="e.g. parent, carer, councillor, MP")
    incident_ids = MultiCheckboxField("Complaints the application counts", coerce=as_str,
                                      description="The victim's ASB incidents you can see. Each is checked: "
                                                  "within the area's window, reported within a month.")

    def __init__(self, *args, beats=(), incidents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.beat_id.choices = [("", "Choose a beat")] + [(str(b.id), b.name) for b in beats]
        self.incident_ids.choices = [(str(i.id), f"{i.occurred_at:%d %b %Y}: {i.summary}") for i in incidents]

    def validate_victim_id(self, field):
        if record_id(field.data) is None:
            raise ValidationError("Choose the victim again")


class ThresholdForm(FlaskForm):
    decision = RadioField("Threshold decision", coerce=as_str, choices=[("met", "Threshold met: a review will be held"),
                                                                         ("not_met", "Threshold not met")],
                          validators=[InputRequired("Choose whether the threshold is met")])
    reason = _text("Reason told to the applicant", description="Needed when the threshold is not met")
    informed_on = _date("Date the applicant was told", description="Leave empty if not told yet")


class InformedForm(FlaskForm):
    stage = HiddenField(validators=[InputRequired()])
    informed_on = _date("Date the applicant was told", "Enter the date the applicant was told")

    def validate_stage(self, field):
        if field.data not in ("threshold", "outcome"):
            raise ValidationError("Open the case review again")


class ReviewForm(FlaskForm):
    meeting_on = _date("Date of the review meeting", "Enter the date of the review meeting")
    agencies = _text("Agencies taking part", "Say which agencies took part",
                     description="e.g. Police; Trafford Council ASB team; housing provider")
    outcome = _text("Outcome", "Record the outcome of the review")
    recommendation_1 = _text("Recommendation 1")
    owner_1 = _name("Owner of recommendation 1", description="Agency or officer")
    recommendation_2 = _text("Recommendation 2")
    owner_2 = _name("Owner of recommendation 2", description="Agency or officer")
    recommendation_3 = _text("Recommendation 3")
    owner_3 = _name("Owner of recommendation 3", description="Agency or officer")

    def recommendations(self) -> list[tuple[str, str]]:
        rows = [(getattr(self, f"recommendation_{n}").data or "", getattr(self, f"owner_{n}").data or "")
                for n in range(1, RECOMMENDATION_ROWS + 1)]
        return [(text, owner) for text, owner in rows if text.strip()]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for n in range(1, RECOMMENDATION_ROWS + 1):
            text, owner = getattr(self, f"recommendation_{n}"), getattr(self, f"owner_{n}")
            if (text.data or "").strip() and not (owner.data or "").strip():
                owner.errors = [*owner.errors, f"Say who owns recommendation {n}"]
                valid = False
        return valid


class RecommendationForm(FlaskForm):
    status = SelectField("Status", coerce=as_str, choices=choices(RecommendationStatus),
                         validators=[InputRequired("Choose a status")])


class AppealForm(FlaskForm):
    appeal_received_on = _date("Date the appeal was received", "Enter the date the appeal was received")
    grounds = _text("Grounds of the appeal", "Summarise the grounds of the appeal")


class AppealDecisionForm(FlaskForm):
    outcome = RadioField("Appeal decision", coerce=as_str, choices=choices(AppealOutcome),
                         validators=[InputRequired("Choose the appeal decision")])
    decided_on = _date("Date decided", "Enter the date of the appeal decision")
    note = _text("Note", description="What was decided and why (told to the applicant)")


class ListForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    state = SelectField("State", coerce=as_str, choices=choices(CaseReviewState, blank="Any state"), default="")
    beat = SelectField("Beat", coerce=as_str, default="")
    overdue = SelectField("Due", coerce=as_str, choices=[("", "Any"), ("1", "Overdue only")], default="")

    def __init__(self, *args, beats=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.beat.choices = [("", "Any beat")] + [(str(b.id), b.name) for b in beats]
