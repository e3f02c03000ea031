"""ASB Case Reviews through the API: the case review services and queries (pcso/case_reviews/), shaped for JSON.

Nothing here decides a rule: who may see or decide is access.py's (through the queries and services), each step's
checks are the services'. Their refusals become problems: CaseReviewRejected 422 (errors keyed by the body's
field), CaseReviewNotFound 404, PermissionError 403. Every answer that shows an application is consultation, as
its page is: one `view` event naming the victims (person) and the incidents shown (entry), the case review's own
id in its details ("case_review", or "case_reviews" for a list), with via "api". Nothing here commits.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict

from flask import url_for

from .. import audit
from ..access import can_decide_case_review
from ..case_reviews.queries import (
    ListFilter, list_case_reviews, timeline, visible_case_review, visible_incidents, visible_victim,
)
from ..case_reviews.rules import rules_for_beat_id
from ..case_reviews.services import (
    ApplicationInput, CaseReviewNotFound, CaseReviewRejected, ReviewInput, decide_appeal, decide_threshold,
    record_appeal, record_application, record_informed, record_review, update_recommendation,
)
from ..models import CaseReview, User
from ..timeutil import london_today
from .errors import abort
from .services import beat_ref, entry_summary

NOT_FOUND = "No such case review, or not one you may see."


# --- shapes -------------------------------------------------------------------------------------------

def _collar(user) -> str | None:
    return user.collar_number if user is not None else None


def summary(review: CaseReview, today) -> dict:
    return {"id": review.id, "state": review.state, "state_label": review.state.label,
            "received_on": review.received_on, "beat": beat_ref(review.beat),
            "victim": {"id": review.victim.id, "full_name": review.victim.full_name},
            "is_overdue": review.is_overdue(today),
            "due_steps": [{"step": text, "due_on": due, "is_late": due < today} for text, due in review.due_steps()],
            "url": url_for("case_reviews.detail", case_review_id=review.id)}


COPIED = ("applicant_type", "applicant_name", "applicant_relationship", "recorded_at", "threshold", "qualifying",
          "threshold_due_on", "is_threshold_met", "threshold_decided_at", "threshold_reason", "threshold_informed_on",
          "review_due_on", "meeting_on", "agencies", "outcome", "outcome_recorded_at", "outcome_informed_due_on",
          "outcome_informed_on", "appeal_received_on", "appeal_grounds", "appeal_due_on", "appeal_outcome",
          "appeal_decided_on", "appeal_note", "updated_at")


def detail(user: User, review: CaseReview, entries: dict) -> dict:
    today = london_today()
    return summary(review, today) | {name: getattr(review, name) for name in COPIED} | {
        "recorded_by_collar": review.recorded_by.collar_number,
        "threshold_decided_by_collar": _collar(review.threshold_decided_by),
        "outcome_recorded_by_collar": _collar(review.outcome_recorded_by),
        "may_decide": can_decide_case_review(user, review),
        "incidents": [{"entry_id": link.entry_id, "qualifies": link.qualifies, "reason": link.reason,
                       "entry": entry_summary(entries[link.entry_id]) if entries.get(link.entry_id) else None}
                      for link in review.incidents],
        "recommendations": [{"id": r.id, "text": r.text, "owner": r.owner, "status": r.status,
                             "status_label": r.status.label, "updated_at": r.updated_at}
                            for r in review.recommendations],
        "timeline": [asdict(item) for item in timeline(review, today)],
        "timescales": asdict(rules_for_beat_id(review.beat_id))}


def etag(review: CaseReview) -> str:
    """Moves on with every step (updated_at) and every recommendation's status (their own rows)."""
    recommendations = ",".join(f"{r.id}:{r.status.value}:{r.updated_at.isoformat()}" for r in review.recommendations)
    raw = f"{review.id}|{review.updated_at.isoformat()}|{review.state.value}|{recommendations}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def headers(review: CaseReview, **extra) -> dict:
    return {"ETag": f'"{etag(review)}"', **extra}


# --- reads, audited --------------------------------------------------------------------------------------

def list_reviews(user: User, args: dict) -> dict:
    """The list page's filters: state, beat, overdue; and a victim (404 unless visible). Names the victims shown."""
    victim_id = args.get("victim")
    if victim_id is not None and visible_victim(user, victim_id) is None:
        abort(404, "No such person, or not one you may see.")
    chosen = ListFilter(state=args.get("state"), beat_id=args.get("beat"), is_overdue=args["overdue"],
                        victim_id=victim_id)
    today = london_today()
    reviews = list_case_reviews(user, chosen, today)
    audit.consulted([r.victim for r in reviews], actor=user, object_type="person",
                    case_reviews=[r.id for r in reviews][:audit.MAX_IDS], screen="case-reviews", via="api")
    return {"count": len(reviews), "case_reviews": [summary(r, today) for r in reviews]}


def visible(user: User, case_review_id: int) -> CaseReview:
    return visible_case_review(user, case_review_id) or abort(404, NOT_FOUND)


def shown(user: User, review: CaseReview) -> dict:
    """The review as its page shows it, and the consultation: the victim and the incidents the user may open."""
    entries = visible_incidents(user, [link.entry_id for link in review.incidents])
    audit.consulted(review.victim, actor=user, case_review=review.id, via="api")  # the event is about the victim
    audit.consulted([entries[link.entry_id] for link in review.incidents if link.entry_id in entries],
                    actor=user, object_type="entry")
    return detail(user, review, entries)


# --- writes --------------------------------------------------------------------------------------------

def _refused(work: Callable, *, not_found: str = NOT_FOUND, **found_errors):
    try:
        return work()
    except CaseReviewRejected as error:
        abort(422, error.message, errors={error.field: [error.message]})
    except CaseReviewNotFound:
        abort(404, not_found, **found_errors)
    except PermissionError:
        abort(403, "Only supervisors and analysts decide on case reviews.", problem="forbidden")


def apply(user: User, body: dict) -> CaseReview:
    """Record an application: 404 for a victim the user may not see, 422 for what the service refuses."""
    data = ApplicationInput(body["victim_id"], body["beat_id"], body["received_on"], body["incident_ids"],
                            body["applicant_type"], body.get("applicant_name"), body.get("applicant_relationship"))
    return _refused(lambda: record_application(data, actor=user), not_found="No such person, or not one you may see.",
                    errors={"victim_id": ["Not found."]})


STEPS: dict[str, Callable] = {
    "threshold": lambda review, b, user: decide_threshold(review, b["decision"] == "met", b.get("reason"),
                                                          b.get("informed_on"), actor=user),
    "informed": lambda review, b, user: record_informed(review, b["stage"], b["informed_on"], actor=user),
    "review": lambda review, b, user: record_review(review, ReviewInput(
        b["meeting_on"], b["agencies"], b["outcome"], [(r["text"], r["owner"]) for r in b["recommendations"]]),
        actor=user),
    "appeal": lambda review, b, user: record_appeal(review, b["appeal_received_on"], b["grounds"], actor=user),
    "appeal_decision": lambda review, b, user: decide_appeal(review, b["outcome"], b["decided_on"], b.get("note") or "",
                                                             actor=user),
    "recommendation": lambda review, b, user: update_recommendation(review, b["recommendation_id"], b["status"],
                                                                    actor=user),
}


def step(user: User, case_review_id: int, name: str, body: dict, if_match) -> CaseReview:
    """One step of the review, as its page's form: 404 unless visible, 412 if If-Match names another version."""
    review = visible(user, case_review_id)
    if if_match and not if_match.star_tag and not if_match.contains(etag(review)):
        abort(412, "The case review has changed since you read it: read it again.", problem="precondition-failed")
    _refused(lambda: STEPS[name](review, body, user))
    return review
