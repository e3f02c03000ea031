"""ASB Case Review pages: the list, recording an application, the detail page and a form per step."""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from ..access import CASE_REVIEW_DECIDERS, CASE_REVIEW_READERS, require
from ..extensions import db
from ..models import AppealOutcome, ApplicantType, CaseReviewState, Person, RecommendationStatus
from ..numbers import record_id
from ..timeutil import london_today
from .forms import ApplicationForm, ListForm, RecommendationForm
from .pages import STEP_FORMS, render_detail, render_index, render_new, startable_beats
from .queries import ListFilter, list_case_reviews, victim_incidents, visible_case_review, visible_victim
from .services import (
    ApplicationInput, CaseReviewNotFound, CaseReviewRejected, ReviewInput, decide_appeal, decide_threshold,
    record_appeal, record_application, record_informed, record_review, update_recommendation,
)

bp = Blueprint("case_reviews", __name__)


@bp.get("/case-reviews")
@require(*CASE_REVIEW_READERS)
def index():
    form = ListForm(request.args, beats=startable_beats(current_user))
    today = london_today()
    if not form.validate():
        return render_index(form, [], today, status=400)
    chosen = ListFilter(state=CaseReviewState(form.state.data) if form.state.data else None,
                        beat_id=record_id(form.beat.data), is_overdue=form.overdue.data == "1")
    return render_index(form, list_case_reviews(current_user, chosen, today), today)


def _victim(person_id) -> Person | None:
    if person_id is None:
        return None
    person = visible_victim(current_user, person_id)
    if person is None:
        abort(404)
    return person


@bp.get("/case-reviews/new")
@require(*CASE_REVIEW_READERS)
def new():
    raw = request.args.get("person")
    if raw is not None and record_id(raw) is None:
        abort(404)
    return render_new(_victim(record_id(raw)))


@bp.post("/case-reviews")
@require(*CASE_REVIEW_READERS)
def create():
    person = _victim(record_id(request.form.get("victim_id")) or 0)
    form = ApplicationForm(beats=startable_beats(current_user), incidents=victim_incidents(current_user, person.id))
    if form.validate_on_submit():
        data = ApplicationInput(person.id, record_id(form.beat_id.data) or 0, form.received_on.data,
                                [record_id(i) or 0 for i in form.incident_ids.data],
                                ApplicantType(form.applicant_type.data), form.applicant_name.data,
                                form.applicant_relationship.data)
        try:
            review = record_application(data, actor=current_user)
        except CaseReviewRejected as error:
            db.session.rollback()
            getattr(form, error.field).errors = [error.message]
        else:
            db.session.commit()
            flash("Application recorded.", "success")
            return redirect(url_for("case_reviews.detail", case_review_id=review.id))
    return render_new(person, form, status=400)


def _visible(case_review_id: int):
    review = visible_case_review(current_user, case_review_id)
    if review is None:
        abort(404)
    return review


@bp.get("/case-reviews/<int:case_review_id>")
@require(*CASE_REVIEW_READERS)
def detail(case_review_id: int):
    return render_detail(_visible(case_review_id))


def _step(case_review_id: int, name: str, apply: Callable, done: str):
    """Parse the step's form, call its service, commit once; a refusal shows on the form (400)."""
    review = _visible(case_review_id)
    form = STEP_FORMS[name](prefix=name)
    if form.validate_on_submit():
        try:
            apply(review, form)
        except CaseReviewRejected as error:
            db.session.rollback()
            getattr(form, error.field).errors = [error.message]
        except PermissionError:
            abort(403)
        else:
            db.session.commit()
            flash(done, "success")
            return redirect(url_for("case_reviews.detail", case_review_id=review.id))
    return render_detail(review, status=400, forms={name: form})


@bp.post("/case-reviews/<int:case_review_id>/threshold-decision")
@require(*CASE_REVIEW_DECIDERS)
def threshold(case_review_id: int):
    return _step(case_review_id, "threshold", lambda review, form: decide_threshold(
        review, form.decision.data == "met", form.reason.data, form.informed_on.data, actor=current_user),
        "Threshold decision recorded.")


@bp.post("/case-reviews/<int:case_review_id>/applicant-informed")
@require(*CASE_REVIEW_DECIDERS)
def informed(case_review_id: int):
    return _step(case_review_id, "informed", lambda review, form: record_informed(
        review, form.stage.data, form.informed_on.data, actor=current_user), "Recorded that the applicant was told.")


@bp.post("/case-reviews/<int:case_review_id>/review")
@require(*CASE_REVIEW_DECIDERS)
def review(case_review_id: int):
    return _step(case_review_id, "review", lambda review, form: record_review(review, ReviewInput(
        form.meeting_on.data, form.agencies.data or "", form.outcome.data or "", form.recommendations()),
        actor=current_user), "Review and outcome recorded.")


@bp.post("/case-reviews/<int:case_review_id>/appeal")
@require(*CASE_REVIEW_DECIDERS)
def appeal(case_review_id: int):
    return _step(case_review_id, "appeal", lambda review, form: record_appeal(
        review, form.appeal_received_on.data, form.grounds.data or "", actor=current_user), "Appeal recorded.")


@bp.post("/case-reviews/<int:case_review_id>/appeal-decision")
@require(*CASE_REVIEW_DECIDERS)
def appeal_decision(case_review_id: int):
    return _step(case_review_id, "appeal_decision", lambda review, form: decide_appeal(
        review, AppealOutcome(form.outcome.data), form.decided_on.data, form.note.data or "", actor=current_user),
        "Appeal decision recorded.")


@bp.post("/case-reviews/<int:case_review_id>/recommendations/<int:recommendation_id>")
@require(*CASE_REVIEW_DECIDERS)
def recommendation(case_review_id: int, recommendation_id: int):
    review = _visible(case_review_id)
    form = RecommendationForm()
    if not form.validate_on_submit():
        flash("Choose a status for the recommendation.", "error")
    else:
        try:
            update_recommendation(review, recommendation_id, RecommendationStatus(form.status.data),
                                  actor=current_user)
        except CaseReviewNotFound:
            abort(404)
        except PermissionError:
            abort(403)
        db.session.commit()
        flash("Recommendation updated.", "success")
    return redirect(url_for("case_reviews.detail", case_review_id=review.id, _anchor="recommendations"))
