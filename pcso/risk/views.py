"""Recording a victim risk review from the ASB incident's page."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user

from ..access import RISK_REVIEWERS, can_review_risk, require
from ..entries.pages import render_detail
from ..entries.queries import get_visible_entry
from ..extensions import db
from ..models import AsbIncident, RiskLevel
from .forms import RiskReviewForm
from .services import ReviewInput, RiskReviewRejected, record_risk_review, victims_of

bp = Blueprint("risk", __name__)


@bp.post("/asb-incidents/<int:incident_id>/risk-reviews")
@require(*RISK_REVIEWERS)
def new(incident_id: int):
    incident = get_visible_entry(current_user, incident_id)
    if not isinstance(incident, AsbIncident):
        abort(404)
    if not can_review_risk(current_user, incident):
        abort(403)
    form = RiskReviewForm(victims=victims_of(incident))
    if form.validate_on_submit():
        try:
            record_risk_review(incident, ReviewInput(int(form.person_id.data), RiskLevel(form.level.data),
                                                     form.outcome.data), actor=current_user)
        except RiskReviewRejected as error:
            db.session.rollback()
            getattr(form, error.field).errors = [error.message]
        else:
            db.session.commit()
            flash("Risk review recorded.", "success")
            return redirect(url_for("entries.detail", entry_id=incident.id, _anchor="risk"))
    return render_detail(incident, risk_form=form, status=400)
