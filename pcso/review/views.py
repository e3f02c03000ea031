"""The review queue: supervisors approve submitted entries or return them to their authors."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import REVIEWERS, can_review_entry, require
from ..beats.services import all_beats
from ..entries.errors import EntryNotFound, EntryRejected
from ..entries.pages import amendment_input, render_detail
from ..entries.queries import get_visible_entry
from ..extensions import db
from ..models import EntryStatus
from ..web import positive_int
from . import services
from .amendments import AmendmentRejected, amendment_queue, approve_amendment, refuse_amendment
from .forms import DECISIONS, AmendmentDecisionForm, IntelReviewForm, review_form_for
from .services import SCOPES, ReviewRejected, approve, next_in_queue, return_to_author, review_queue

bp = Blueprint("review", __name__)


@bp.get("/review")
@require(*REVIEWERS)
def queue():
    scope = request.args.get("scope", "mine")
    if scope not in SCOPES:
        abort(400, "Choose 'mine' or 'all'")
    beat_id = request.args.get("beat", type=positive_int)
    items, total = review_queue(current_user, scope=scope, beat_id=beat_id)
    services.record_queue_view(items, actor=current_user)
    return render_template("review/queue.html", items=items, total=total, scope=scope, beat_id=beat_id,
                           amendments=amendment_queue(current_user, scope=scope, beat_id=beat_id),
                           beats=all_beats(), overdue=sum(item.is_overdue for item in items),
                           count_cap=services.COUNT_CAP)


@bp.post("/entries/<int:entry_id>/review")
@require(*REVIEWERS)
def decide(entry_id: int):
    entry = get_visible_entry(current_user, entry_id) or abort(404)
    if entry.status != EntryStatus.SUBMITTED:
        flash("This entry is no longer awaiting review: someone has decided on it already.", "error")
        return render_detail(entry, status=409)
    if not can_review_entry(current_user, entry):
        abort(403)  # their own entry: someone else signs it off
    decision = request.form.get("decision")
    form = review_form_for(entry, decision if decision in DECISIONS else None)
    if decision not in DECISIONS:
        form.form_errors.append("Choose Approve or Return to author")
        return render_detail(entry, review_form=form, status=400)
    if not form.validate_on_submit():
        return render_detail(entry, review_form=form, status=400)
    try:
        _apply(entry, decision, form)
    except ReviewRejected as error:
        db.session.rollback()
        flash(str(error), "error")
        return render_detail(get_visible_entry(current_user, entry_id) or abort(404), status=409)
    following = next_in_queue(current_user, entry)
    db.session.commit()
    return _onwards(decision, following)


def _apply(entry, decision: str, form) -> None:
    if decision == "approve":
        approve(entry, actor=current_user, comment=form.comment.data,
                grading=form.grading() if isinstance(form, IntelReviewForm) else None)
    else:
        return_to_author(entry, actor=current_user, comment=form.comment.data)


def _onwards(decision: str, following):
    """After a decision: the next entry waiting, or the (now empty) queue."""
    done = "Approved" if decision == "approve" else "Returned to its author"
    if following is None:
        flash(f"{done}. Your review queue is empty.", "success")
        return redirect(url_for("review.queue"))
    flash(f"{done}. Next, the oldest still waiting:", "success")
    return redirect(url_for("entries.detail", entry_id=following.id))


@bp.post("/entries/<int:entry_id>/amendment")
@require(*REVIEWERS)
def decide_amendment(entry_id: int):
    """Approve the pending amendment of an approved entry (it changes, and stays approved) or refuse it."""
    entry = get_visible_entry(current_user, entry_id) or abort(404)
    decision, form = request.form.get("decision"), AmendmentDecisionForm()
    if entry.pending_amendment is None or entry.pending_amendment.author_id == current_user.id:
        abort(404 if entry.pending_amendment is None else 403)
    valid = form.validate_on_submit()
    if decision not in ("approve", "refuse"):
        form.form_errors.append("Choose Approve amendment or Refuse")
    if decision not in ("approve", "refuse") or not valid:
        return render_detail(entry, amendment_form=form, status=400)
    try:
        _decide_amendment(entry, decision, form.comment.data)
    except (AmendmentRejected, EntryRejected, EntryNotFound) as error:
        db.session.rollback()
        form.form_errors.append(_why(error))
        return render_detail(get_visible_entry(current_user, entry_id) or abort(404), amendment_form=form, status=409)
    db.session.commit()
    flash("Amendment approved: the entry is changed and stays approved." if decision == "approve"
          else "Amendment refused: its author sees your reason.", "success")
    return redirect(url_for("review.queue"))


def _decide_amendment(entry, decision: str, comment: str | None) -> None:
    if decision == "approve":
        approve_amendment(entry, amendment_input(entry, entry.pending_amendment), actor=current_user, comment=comment)
    else:
        refuse_amendment(entry, actor=current_user, comment=comment)


def _why(error: Exception) -> str:
    if isinstance(error, EntryRejected):
        return "This amendment can no longer be applied (" + "; ".join(error.errors.values()) + "): refuse it."
    if isinstance(error, EntryNotFound):
        return "This amendment names an entry that is no longer available: refuse it."
    return str(error)
