"""/api/v1: the supervisor's review queue and decisions, and the shift briefing."""
from __future__ import annotations

from flask import url_for

from ..access import LOGGERS, REVIEWERS
from ..database import writes_on_read
from ..extensions import db
from . import services_more
from .auth import api_require, api_user
from .blueprint import api_blueprint
from .idempotency import idempotent
from .schemas_more import BriefingSchema, DecisionInSchema, QueueArgsSchema, QueueSchema, ReviewSchema

bp = api_blueprint("api_work", "Review queue, review decisions and the shift briefing")


@bp.route("/review-queue", methods=["GET"])
@api_require(*REVIEWERS)
@bp.arguments(QueueArgsSchema, location="query")
@bp.response(200, QueueSchema)
def review_queue(args: dict):
    """Submitted entries awaiting you, oldest first: your beats' and those no supervisor covers (scope=all: every beat)."""
    return services_more.queue(api_user(), scope=args["scope"], beat_id=args.get("beat_id"))


@bp.route("/entries/<int:entry_id>/reviews", methods=["POST"])
@api_require(*REVIEWERS)
@idempotent
@bp.arguments(DecisionInSchema)
@bp.response(201, ReviewSchema)
@bp.alt_response(409, response="CONFLICT")
def create_review(decision: dict, entry_id: int):
    """Approve an entry, or return it to its author with a comment; intelligence is graded as it is approved.

    404 for an entry you may not open, 403 for your own, 409 once someone has decided on it.
    """
    review = services_more.decide(api_user(), entry_id, decision)
    return review, 201, {"Location": url_for("entries.detail", entry_id=entry_id)}


@bp.route("/briefing", methods=["GET"])
@api_require(*LOGGERS)
@writes_on_read
@bp.response(200, BriefingSchema)
def briefing():
    """Your shift briefing: what is new on your beats since your last shift, returned entries, drafts. Audited."""
    found = services_more.briefing(api_user())
    db.session.commit()
    return found
