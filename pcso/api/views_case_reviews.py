"""/api/v1: ASB Case Reviews (the "community trigger"): the list, one application, recording one, and each step.

The same roles, rules and audit as the pages (pcso/case_reviews/views.py): a PCSO sees and records applications
on their beats, supervisors and analysts every one, and only they decide; a review you may not see is a 404.
Every POST needs an Idempotency-Key (a retry replays the first answer) and a write token.
"""
from __future__ import annotations

from flask import request, url_for

from ..access import CASE_REVIEW_DECIDERS, CASE_REVIEW_READERS
from ..database import writes_on_read
from ..extensions import db
from . import services_case_reviews as reviews
from .auth import api_require, api_user
from .blueprint import api_blueprint
from .idempotency import idempotent
from .schemas_case_reviews import (
    AppealDecisionInSchema, AppealInSchema, ApplicantInformedInSchema, CaseReviewApplicationInSchema,
    CaseReviewArgsSchema, CaseReviewListSchema, CaseReviewMeetingInSchema, CaseReviewSchema,
    RecommendationStatusInSchema, ThresholdDecisionInSchema,
)

bp = api_blueprint("api_case_reviews", "ASB Case Reviews: applications, threshold decisions, reviews and appeals")
IF_MATCH = {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
            "description": "The review's ETag (from GET): 412 if it has changed since"}
LINKS = {"links": {"GetCaseReview": {"operationRef": "#/paths/~1api~1v1~1case-reviews~1{case_review_id}/get",
                                     "parameters": {"case_review_id": "$response.body#/id"}}}}
IDEMPOTENCY_KEY = "IDEMPOTENCY_KEY"  # a component; manual parameters replace the one @idempotent adds
STEP_DOC = {"parameters": [IDEMPOTENCY_KEY, IF_MATCH], "responses": {200: LINKS}}


@bp.route("/case-reviews", methods=["GET"])
@api_require(*CASE_REVIEW_READERS)
@writes_on_read
@bp.arguments(CaseReviewArgsSchema, location="query")
@bp.response(200, CaseReviewListSchema)
def index(args: dict):
    """Applications you may see, newest received first (at most 200), filtered as /case-reviews is. Audited."""
    found = reviews.list_reviews(api_user(), args)
    db.session.commit()
    return found


@bp.route("/case-reviews/<int:case_review_id>", methods=["GET"])
@api_require(*CASE_REVIEW_READERS)
@writes_on_read
@bp.response(200, CaseReviewSchema)
def detail(case_review_id: int):
    """One application (404 unless you may see it): incidents, steps, recommendations, timeline. ETag. Audited."""
    user = api_user()
    review = reviews.visible(user, case_review_id)
    shown, tags = reviews.shown(user, review), reviews.headers(review)
    db.session.commit()
    return shown, 200, tags


@bp.route("/case-reviews", methods=["POST"])
@api_require(*CASE_REVIEW_READERS)
@idempotent
@bp.arguments(CaseReviewApplicationInSchema)
@bp.response(201, CaseReviewSchema)
@bp.doc(responses={201: LINKS})
def create(body: dict):
    """Record an application for a victim you may see, counting their ASB incidents (as victim) you may open.

    A PCSO records them for their own beats. Below the area's threshold it is decided at once (threshold_not_met,
    with the reason). 404 for a victim you may not see; 422 with the field for what the rules refuse."""
    user = api_user()
    review = reviews.apply(user, body)
    location = url_for("api_case_reviews.detail", case_review_id=review.id)
    return reviews.shown(user, review), 201, reviews.headers(review, Location=location)


def _step(case_review_id: int, name: str, body: dict):
    user = api_user()
    review = reviews.step(user, case_review_id, name, body, request.if_match)
    return reviews.shown(user, review), 200, reviews.headers(review)


@bp.route("/case-reviews/<int:case_review_id>/threshold-decision", methods=["POST"])
@api_require(*CASE_REVIEW_DECIDERS)
@idempotent
@bp.arguments(ThresholdDecisionInSchema)
@bp.response(200, CaseReviewSchema)
@bp.doc(**STEP_DOC)
def threshold(body: dict, case_review_id: int):
    """The threshold decision (supervisors and analysts), on a received application; a reason if not met."""
    return _step(case_review_id, "threshold", body)


@bp.route("/case-reviews/<int:case_review_id>/applicant-informed", methods=["POST"])
@api_require(*CASE_REVIEW_DECIDERS)
@idempotent
@bp.arguments(ApplicantInformedInSchema)
@bp.response(200, CaseReviewSchema)
@bp.doc(**STEP_DOC)
def informed(body: dict, case_review_id: int):
    """The applicant told the threshold decision, or the outcome (which closes the review)."""
    return _step(case_review_id, "informed", body)


@bp.route("/case-reviews/<int:case_review_id>/review", methods=["POST"])
@api_require(*CASE_REVIEW_DECIDERS)
@idempotent
@bp.arguments(CaseReviewMeetingInSchema)
@bp.response(200, CaseReviewSchema)
@bp.doc(**STEP_DOC)
def review(body: dict, case_review_id: int):
    """The review meeting, the agencies, the outcome and its recommendations, once the threshold is met."""
    return _step(case_review_id, "review", body)


@bp.route("/case-reviews/<int:case_review_id>/recommendations/<int:recommendation_id>", methods=["POST"])
@api_require(*CASE_REVIEW_DECIDERS)
@idempotent
@bp.arguments(RecommendationStatusInSchema)
@bp.response(200, CaseReviewSchema)
@bp.doc(**STEP_DOC)
def recommendation(body: dict, case_review_id: int, recommendation_id: int):
    """A recommendation's status (open, in progress, done, not accepted); 404 for one not on this review."""
    return _step(case_review_id, "recommendation", body | {"recommendation_id": recommendation_id})


@bp.route("/case-reviews/<int:case_review_id>/appeal", methods=["POST"])
@api_require(*CASE_REVIEW_DECIDERS)
@idempotent
@bp.arguments(AppealInSchema)
@bp.response(200, CaseReviewSchema)
@bp.doc(**STEP_DOC)
def appeal(body: dict, case_review_id: int):
    """An appeal (the local escalation), once, after the threshold is not met or the review is closed."""
    return _step(case_review_id, "appeal", body)


@bp.route("/case-reviews/<int:case_review_id>/appeal-decision", methods=["POST"])
@api_require(*CASE_REVIEW_DECIDERS)
@idempotent
@bp.arguments(AppealDecisionInSchema)
@bp.response(200, CaseReviewSchema)
@bp.doc(**STEP_DOC)
def appeal_decision(body: dict, case_review_id: int):
    """The appeal decided: upheld against a threshold decision, a review is due; otherwise closed."""
    return _step(case_review_id, "appeal_decision", body)
