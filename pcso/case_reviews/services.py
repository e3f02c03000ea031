"""Writing ASB Case Reviews: each step flushes and records one audit event; the request commits.

Audit events (object_type "case_review"): `create` when an application is recorded, `update` for each later step,
with details {"step", "state", "context", ...ids and counts}. Never names or free text typed about people.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .. import audit
from ..access import can_decide_case_review, can_start_case_review, can_view_record
from ..extensions import db
from ..models import (
    AppealOutcome, ApplicantType, AuditAction, Beat, CaseReview, CaseReviewIncident, CaseReviewRecommendation,
    CaseReviewState, Person, RecommendationStatus, User,
)
from ..timeutil import london_today, utcnow
from .queries import assess, not_met_reason, victim_incidents
from .rules import current_rules, rules_for_beat_id

S = CaseReviewState
IN_FORCE_ON = date(2014, 10, 20)  # the ASB Case Review (s.104 of the 2014 Act) commenced on 20 October 2014


class CaseReviewRejected(ValueError):
    """A step refused: `field` is the form field to show `message` on."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


class CaseReviewNotFound(LookupError):
    """The victim or record is not one the user may see: answered 404."""


@dataclass
class ApplicationInput:
    victim_id: int
    beat_id: int
    received_on: date
    incident_ids: list[int]
    applicant_type: ApplicantType = ApplicantType.VICTIM
    applicant_name: str | None = None
    applicant_relationship: str | None = None


@dataclass
class ReviewInput:
    meeting_on: date
    agencies: str
    outcome: str
    recommendations: list[tuple[str, str]] = field(default_factory=list)  # (text, owner)


def _changed(review: CaseReview, step: str, *, actor: User, **details) -> None:
    audit.record(AuditAction.UPDATE, review, actor=actor, step=step, state=review.state.value,
                 context=audit.endpoint(), **details)


def _check_day(day: date | None, field_name: str, review_or_start: date, what: str) -> None:
    if day is None:
        return
    if day > london_today():
        raise CaseReviewRejected(field_name, f"The date {what} can't be in the future")
    if day < review_or_start:
        raise CaseReviewRejected(field_name, f"The date {what} can't be before the application was received")


def record_application(data: ApplicationInput, *, actor: User) -> CaseReview:
    person = db.session.get(Person, data.victim_id)
    if person is None or not can_view_record(actor, person):
        raise CaseReviewNotFound(data.victim_id)
    if not can_start_case_review(actor, data.beat_id) or db.session.get(Beat, data.beat_id) is None:
        raise CaseReviewRejected("beat_id", "Choose one of your beats")
    if data.received_on > london_today():
        raise CaseReviewRejected("received_on", "The date received can't be in the future")
    if data.received_on < IN_FORCE_ON:
        raise CaseReviewRejected("received_on", "The date received can't be before the Case Review began "
                                                "(20 October 2014)")
    name = (data.applicant_name or "").strip() or None
    if data.applicant_type == ApplicantType.ON_BEHALF and not name:
        raise CaseReviewRejected("applicant_name", "Enter the name of the person applying for the victim")
    available = {incident.id: incident for incident in victim_incidents(actor, person.id)}
    wanted = sorted(set(data.incident_ids))
    if not wanted:
        raise CaseReviewRejected("incident_ids", "Choose the complaints (ASB incidents) the application counts")
    if any(incident_id not in available for incident_id in wanted):
        raise CaseReviewRejected("incident_ids", "Choose from the victim's incidents listed")
    rules = current_rules()
    area = rules_for_beat_id(data.beat_id, rules)
    assessed = assess([available[i] for i in wanted], data.received_on, area)
    qualifying = sum(a.qualifies for a in assessed)
    met = qualifying >= area.threshold
    review = CaseReview(
        victim_id=person.id, applicant_type=data.applicant_type, applicant_name=name,
        applicant_relationship=(data.applicant_relationship or "").strip() or None, beat_id=data.beat_id,
        received_on=data.received_on, recorded_by_id=actor.id, recorded_at=utcnow(),
        state=S.RECEIVED if met else S.THRESHOLD_NOT_MET, threshold=area.threshold, qualifying=qualifying,
        threshold_due_on=rules.add_working_days(data.received_on, area.threshold_decision_working_days),
        incidents=[CaseReviewIncident(entry_id=a.incident.id, qualifies=a.qualifies, reason=a.reason)
                   for a in assessed])
    if not met:  # decided at once: the applicant is told why (threshold_reason)
        review.is_threshold_met = False
        review.threshold_decided_at, review.threshold_decided_by_id = utcnow(), actor.id
        review.threshold_reason = not_met_reason(assessed, data.received_on, area)
    db.session.add(review)
    db.session.flush()
    audit.record(AuditAction.CREATE, review, actor=actor, step="application", state=review.state.value,
                 victim_id=person.id, incident_ids=wanted, qualifying=qualifying, threshold=area.threshold,
                 applicant=data.applicant_type.value, context=audit.endpoint())
    return review


def _may_decide(review: CaseReview, actor: User) -> None:
    if not can_decide_case_review(actor, review):
        raise PermissionError("only supervisors and analysts decide on case reviews")


def decide_threshold(review: CaseReview, met: bool, reason: str | None, informed_on: date | None, *,
                     actor: User) -> CaseReview:
    _may_decide(review, actor)
    if review.state != S.RECEIVED:
        raise CaseReviewRejected("decision", "The threshold decision has been made already")
    if met and review.qualifying < review.threshold:
        raise CaseReviewRejected("decision", f"{review.qualifying} qualifying complaint(s): the threshold of "
                                             f"{review.threshold} is not met")
    reason = (reason or "").strip() or None
    if not met and not reason:
        raise CaseReviewRejected("reason", "Say why the threshold is not met: the applicant is told the reason")
    _check_day(informed_on, "informed_on", review.received_on, "the applicant was told")
    rules = current_rules()
    review.state, review.is_threshold_met = (S.THRESHOLD_MET if met else S.THRESHOLD_NOT_MET), met
    review.threshold_decided_at, review.threshold_decided_by_id = utcnow(), actor.id
    review.threshold_reason, review.threshold_informed_on = reason, informed_on
    if met:
        area = rules_for_beat_id(review.beat_id, rules)
        review.review_due_on = rules.add_working_days(london_today(), area.review_outcome_working_days)
    db.session.flush()
    _changed(review, "threshold", actor=actor, decision="met" if met else "not_met", informed=informed_on is not None)
    return review


def record_informed(review: CaseReview, stage: str, informed_on: date, *, actor: User) -> CaseReview:
    """The applicant told the threshold decision (stage "threshold") or the outcome ("outcome": closes it)."""
    _may_decide(review, actor)
    _check_day(informed_on, "informed_on", review.received_on, "the applicant was told")
    if stage == "threshold" and review.state in (S.THRESHOLD_MET, S.THRESHOLD_NOT_MET) \
            and review.threshold_informed_on is None:
        review.threshold_informed_on = informed_on
    elif stage == "outcome" and review.state == S.REVIEWED:
        review.outcome_informed_on, review.state = informed_on, S.CLOSED
    else:
        raise CaseReviewRejected("informed_on", "There is nothing to tell the applicant at this step")
    db.session.flush()
    _changed(review, f"informed_{stage}", actor=actor)
    return review


def record_review(review: CaseReview, data: ReviewInput, *, actor: User) -> CaseReview:
    _may_decide(review, actor)
    if review.state != S.THRESHOLD_MET:
        raise CaseReviewRejected("meeting_on", "A review is recorded once the threshold is met")
    _check_day(data.meeting_on, "meeting_on", review.received_on, "of the meeting")
    if not data.agencies.strip():
        raise CaseReviewRejected("agencies", "Say which agencies took part")
    if not data.outcome.strip():
        raise CaseReviewRejected("outcome", "Record the outcome of the review")
    rules = current_rules()
    area = rules_for_beat_id(review.beat_id, rules)
    review.meeting_on, review.agencies, review.outcome = data.meeting_on, data.agencies.strip(), data.outcome.strip()
    review.outcome_recorded_at, review.outcome_recorded_by_id = utcnow(), actor.id
    review.outcome_informed_due_on = rules.add_working_days(london_today(), area.outcome_informed_working_days)
    review.recommendations.extend(
        CaseReviewRecommendation(text=text.strip(), owner=owner.strip(), status=RecommendationStatus.OPEN)
        for text, owner in data.recommendations if text.strip())
    review.state = S.REVIEWED
    db.session.flush()
    _changed(review, "review", actor=actor, recommendations=len(review.recommendations))
    return review


def update_recommendation(review: CaseReview, recommendation_id: int, status: RecommendationStatus, *,
                          actor: User) -> CaseReviewRecommendation:
    _may_decide(review, actor)
    found = next((r for r in review.recommendations if r.id == recommendation_id), None)
    if found is None:
        raise CaseReviewNotFound(recommendation_id)
    found.status = status
    db.session.flush()
    _changed(review, "recommendation", actor=actor, recommendation_id=found.id, status=status.value)
    return found


def record_appeal(review: CaseReview, received_on: date, grounds: str, *, actor: User) -> CaseReview:
    _may_decide(review, actor)
    if review.state not in (S.THRESHOLD_NOT_MET, S.CLOSED) or review.appeal_received_on is not None:
        raise CaseReviewRejected("appeal_received_on", "An appeal is recorded once, after a decision or the outcome")
    _check_day(received_on, "appeal_received_on", review.received_on, "the appeal was received")
    if not grounds.strip():
        raise CaseReviewRejected("grounds", "Summarise the grounds of the appeal")
    rules = current_rules()
    area = rules_for_beat_id(review.beat_id, rules)
    review.appeal_received_on, review.appeal_grounds = received_on, grounds.strip()
    review.appeal_due_on = rules.add_working_days(received_on, area.appeal_decision_working_days)
    review.state = S.APPEALED
    db.session.flush()
    _changed(review, "appeal", actor=actor)
    return review


def decide_appeal(review: CaseReview, outcome: AppealOutcome, decided_on: date, note: str, *,
                  actor: User) -> CaseReview:
    """Upheld against a threshold decision: the threshold is met and a review is due. Otherwise: closed."""
    _may_decide(review, actor)
    if review.state != S.APPEALED:
        raise CaseReviewRejected("outcome", "There is no appeal waiting for a decision")
    _check_day(decided_on, "decided_on", review.appeal_received_on, "of the appeal decision")
    review.appeal_outcome, review.appeal_decided_on = outcome, decided_on
    review.appeal_note = note.strip() or None
    if outcome == AppealOutcome.UPHELD and review.outcome is None:
        rules = current_rules()
        area = rules_for_beat_id(review.beat_id, rules)
        review.state, review.is_threshold_met = S.THRESHOLD_MET, True
        review.review_due_on = rules.add_working_days(decided_on, area.review_outcome_working_days)
        review.threshold_informed_on = review.threshold_informed_on or decided_on
    else:
        review.state = S.CLOSED
    db.session.flush()
    _changed(review, "appeal_decision", actor=actor, outcome=outcome.value)
    return review
