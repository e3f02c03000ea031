"""Schemas of the ASB Case Reviews API: the list and its filters, one review, the application and each later step.

The inputs carry the field names the case review services name in their refusals (pcso/case_reviews/services.py
CaseReviewRejected.field), so a 422's `errors` points at the body's own fields.
"""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..models import AppealOutcome, ApplicantType, CaseReviewState, RecommendationStatus
from ..models.case_review import NAME_MAX, TEXT_MAX
from .schemas import STAMP, BeatRefSchema, EntrySummarySchema, Strict, enum_field, example

ID = validate.Range(1, 2**31 - 1)
NOT_BLANK = validate.Regexp(r"\s*\S", error="Must not be blank.")
DAY, DUE = "2026-11-20", "2026-12-04"
ENTRY = EntrySummarySchema.example


def _text(*, required: bool = False, most: int = TEXT_MAX, **metadata):
    checks = [validate.Length(max=most), NOT_BLANK] if required else [validate.Length(max=most)]
    if required:
        return fields.String(required=True, validate=checks, metadata=metadata)
    return fields.String(allow_none=True, load_default=None, validate=checks, metadata=metadata)


@example({"state": "received", "beat": 7, "overdue": True, "victim": 41})
class CaseReviewArgsSchema(Strict):
    state = enum_field(CaseReviewState, metadata={"description": "Only applications in this state"})
    beat = fields.Integer(validate=ID, metadata={"description": "Only applications for this beat (its id)"})
    overdue = fields.Boolean(load_default=False, metadata={"description": "Only those with a step overdue"})
    victim = fields.Integer(validate=ID, metadata={
        "description": "Only this person's applications (404 for a person you may not see)"})


@example({"id": 41, "full_name": "Vera Victim"})
class CaseReviewVictimSchema(ma.Schema):
    id = fields.Integer(required=True)
    full_name = fields.String(required=True)


@example({"step": "Threshold decision, told to the applicant", "due_on": DUE, "is_late": False})
class CaseReviewDueStepSchema(ma.Schema):
    step = fields.String(required=True)
    due_on = fields.Date(required=True)
    is_late = fields.Boolean(required=True, metadata={"description": "Due before today (London)"})


SUMMARY = {"id": 3, "state": "received", "state_label": "Received: threshold decision due", "received_on": DAY,
           "beat": BeatRefSchema.example, "victim": CaseReviewVictimSchema.example, "is_overdue": False,
           "due_steps": [CaseReviewDueStepSchema.example], "url": "/case-reviews/3"}


@example(SUMMARY)
class CaseReviewSummarySchema(ma.Schema):
    """An application as the list page shows it."""
    id = fields.Integer(required=True)
    state = enum_field(CaseReviewState, required=True)
    state_label = fields.String(required=True)
    received_on = fields.Date(required=True)
    beat = fields.Nested(BeatRefSchema, required=True)
    victim = fields.Nested(CaseReviewVictimSchema, required=True)
    is_overdue = fields.Boolean(required=True)
    due_steps = fields.List(fields.Nested(CaseReviewDueStepSchema), required=True,
                            metadata={"description": "What is still to do, and by when"})
    url = fields.String(required=True, metadata={"description": "The application's page"})


@example({"count": 1, "case_reviews": [SUMMARY]})
class CaseReviewListSchema(ma.Schema):
    count = fields.Integer(required=True)
    case_reviews = fields.List(fields.Nested(CaseReviewSummarySchema), required=True,
                               metadata={"description": "Newest received first; at most 200"})


@example({"entry_id": 501, "qualifies": True, "reason": None, "entry": ENTRY})
class CaseReviewIncidentSchema(ma.Schema):
    entry_id = fields.Integer(required=True)
    qualifies = fields.Boolean(required=True, metadata={"description": "Counted towards the threshold when recorded"})
    reason = fields.String(allow_none=True, required=True, metadata={"description": "Why not, when it doesn't"})
    entry = fields.Nested(EntrySummarySchema, allow_none=True, required=True,
                          metadata={"description": "null: an incident you can't open (now)"})


@example({"id": 9, "text": "Housing to fit a door entry system", "owner": "Trafford Housing Trust", "status": "open",
          "status_label": "Open", "updated_at": STAMP})
class CaseReviewRecommendationSchema(ma.Schema):
    id = fields.Integer(required=True)
    text = fields.String(required=True)
    owner = fields.String(required=True)
    status = enum_field(RecommendationStatus, required=True)
    status_label = fields.String(required=True)
    updated_at = fields.AwareDateTime(required=True)


@example({"on": DAY, "text": "Application received", "done": True, "late": False})
class CaseReviewTimelineItemSchema(ma.Schema):
    on = fields.Date(required=True)
    text = fields.String(required=True)
    done = fields.Boolean(required=True, metadata={"description": "false: a step still to do, by `on`"})
    late = fields.Boolean(required=True)


@example({"threshold": 3, "window_months": 6, "complaint_within_months": 1, "threshold_decision_working_days": 10,
          "review_outcome_working_days": 25, "outcome_informed_working_days": 5, "appeal_decision_working_days": 20,
          "source": "Trafford Community Safety Partnership procedure"})
class CaseReviewTimescalesSchema(ma.Schema):
    """The rules of the application's area (pcso/data/case_review.toml): working days, Monday to Friday."""
    threshold = fields.Integer(required=True)
    window_months = fields.Integer(required=True)
    complaint_within_months = fields.Integer(required=True)
    threshold_decision_working_days = fields.Integer(required=True)
    review_outcome_working_days = fields.Integer(required=True)
    outcome_informed_working_days = fields.Integer(required=True)
    appeal_decision_working_days = fields.Integer(required=True)
    source = fields.String(required=True)


DETAIL = dict(
    SUMMARY, applicant_type="victim", applicant_name=None, applicant_relationship=None, recorded_at=STAMP,
    recorded_by_collar="PC1234", threshold=3, qualifying=3, threshold_due_on=DUE, is_threshold_met=None,
    threshold_decided_at=None, threshold_decided_by_collar=None, threshold_reason=None, threshold_informed_on=None,
    review_due_on=None, meeting_on=None, agencies=None, outcome=None, outcome_recorded_at=None,
    outcome_recorded_by_collar=None, outcome_informed_due_on=None, outcome_informed_on=None, appeal_received_on=None,
    appeal_grounds=None, appeal_due_on=None, appeal_outcome=None, appeal_decided_on=None, appeal_note=None,
    updated_at=STAMP, may_decide=False, incidents=[CaseReviewIncidentSchema.example], recommendations=[],
    timeline=[CaseReviewTimelineItemSchema.example], timescales=CaseReviewTimescalesSchema.example)


def _day(description: str | None = None):
    return fields.Date(allow_none=True, required=True, metadata={"description": description} if description else {})


def _stamp():
    return fields.AwareDateTime(allow_none=True, required=True)


def _words(description: str | None = None):
    return fields.String(allow_none=True, required=True, metadata={"description": description} if description else {})


@example(DETAIL)
class CaseReviewSchema(CaseReviewSummarySchema):
    """One application as its page shows it: the incidents counted, each step, the recommendations, the timeline.
    Answered with an ETag; a step sent with If-Match of another version is refused (412)."""
    applicant_type = enum_field(ApplicantType, required=True)
    applicant_name = _words("Who applied on the victim's behalf")
    applicant_relationship = _words()
    recorded_at = fields.AwareDateTime(required=True)
    recorded_by_collar = fields.String(required=True)
    threshold = fields.Integer(required=True, metadata={"description": "The area's threshold when recorded"})
    qualifying = fields.Integer(required=True, metadata={"description": "Complaints that qualified when recorded"})
    threshold_due_on = fields.Date(required=True)
    is_threshold_met = fields.Boolean(allow_none=True, required=True, metadata={"description": "null: not decided"})
    threshold_decided_at = _stamp()
    threshold_decided_by_collar = _words("null: decided by the app at once (threshold not met) or not yet")
    threshold_reason = _words("The reason told to the applicant")
    threshold_informed_on = _day()
    review_due_on = _day()
    meeting_on = _day()
    agencies = _words()
    outcome = _words()
    outcome_recorded_at = _stamp()
    outcome_recorded_by_collar = _words()
    outcome_informed_due_on = _day()
    outcome_informed_on = _day()
    appeal_received_on = _day()
    appeal_grounds = _words()
    appeal_due_on = _day()
    appeal_outcome = enum_field(AppealOutcome, allow_none=True, required=True)
    appeal_decided_on = _day()
    appeal_note = _words()
    updated_at = fields.AwareDateTime(required=True)
    may_decide = fields.Boolean(required=True, metadata={"description": "You may record the decisions and reviews"})
    incidents = fields.List(fields.Nested(CaseReviewIncidentSchema), required=True)
    recommendations = fields.List(fields.Nested(CaseReviewRecommendationSchema), required=True)
    timeline = fields.List(fields.Nested(CaseReviewTimelineItemSchema), required=True)
    timescales = fields.Nested(CaseReviewTimescalesSchema, required=True)


# --- what the steps take ------------------------------------------------------------------------------

@example({"victim_id": 41, "beat_id": 7, "received_on": DAY, "incident_ids": [501, 502, 503],
          "applicant_type": "on_behalf", "applicant_name": "Jo Victim", "applicant_relationship": "daughter"})
class CaseReviewApplicationInSchema(Strict):
    victim_id = fields.Integer(required=True, validate=ID, metadata={"description": "The person (404 if not yours)"})
    beat_id = fields.Integer(required=True, validate=ID, metadata={"description": "Its threshold and timescales apply"})
    received_on = fields.Date(required=True, metadata={"description": "Not in the future, nor before 20 Oct 2014"})
    incident_ids = fields.List(fields.Integer(validate=ID), required=True, validate=validate.Length(max=50),
                               metadata={"description": "The victim's ASB incidents (as victim) it counts"})
    applicant_type = enum_field(ApplicantType, load_default=ApplicantType.VICTIM)
    applicant_name = _text(most=NAME_MAX, description="Needed when someone applies on the victim's behalf")
    applicant_relationship = _text(most=NAME_MAX, description="e.g. parent, carer, councillor, MP")


@example({"decision": "not_met", "reason": "Two qualifying complaints in six months; the threshold is 3.",
          "informed_on": DUE})
class ThresholdDecisionInSchema(Strict):
    decision = fields.String(required=True, validate=validate.OneOf(["met", "not_met"]))
    reason = _text(description="Told to the applicant; needed when the threshold is not met")
    informed_on = fields.Date(allow_none=True, load_default=None,
                              metadata={"description": "When the applicant was told (null: not yet)"})


@example({"stage": "threshold", "informed_on": DUE})
class ApplicantInformedInSchema(Strict):
    stage = fields.String(required=True, validate=validate.OneOf(["threshold", "outcome"]), metadata={
        "description": "threshold: told the threshold decision; outcome: told the outcome (closes the review)"})
    informed_on = fields.Date(required=True)


@example({"text": "Housing to fit a door entry system", "owner": "Trafford Housing Trust"})
class RecommendationInSchema(Strict):
    text = _text(required=True)
    owner = _text(required=True, most=NAME_MAX, description="The agency or officer who owns it")


@example({"meeting_on": DUE, "agencies": "Police; Trafford Council ASB team; Trafford Housing Trust",
          "outcome": "Joint visit to the neighbours; door entry system", "recommendations": [RecommendationInSchema.example]})
class CaseReviewMeetingInSchema(Strict):
    meeting_on = fields.Date(required=True)
    agencies = _text(required=True)
    outcome = _text(required=True)
    recommendations = fields.List(fields.Nested(RecommendationInSchema), load_default=list,
                                  validate=validate.Length(max=20))


@example({"status": "in_progress"})
class RecommendationStatusInSchema(Strict):
    status = enum_field(RecommendationStatus, required=True)


@example({"appeal_received_on": DUE, "grounds": "The applicant says two complaints were left out"})
class AppealInSchema(Strict):
    appeal_received_on = fields.Date(required=True)
    grounds = _text(required=True)


@example({"outcome": "upheld", "decided_on": DUE, "note": "The two complaints count: a review will be held"})
class AppealDecisionInSchema(Strict):
    outcome = enum_field(AppealOutcome, required=True)
    decided_on = fields.Date(required=True)
    note = _text(description="What was decided and why (told to the applicant)")
