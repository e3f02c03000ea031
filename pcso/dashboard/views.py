"""Beat dashboards: what happened on a beat over a period, with each figure linked to its entries."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from ..access import DASHBOARD_VIEWERS, dashboard_beat_ids, require
from ..case_reviews.queries import dashboard_block
from ..database import writes_on_read
from ..extensions import db
from ..patrol_plans.measure import suggestion_measure
from ..timeutil import to_london, utcnow
from .forms import DashboardForm
from .scope import Scope, beats_by_name
from .services import build_dashboard, commit_view

bp = Blueprint("dashboard", __name__)


@bp.get("/dashboard")
@require(*DASHBOARD_VIEWERS)
@writes_on_read
def index():
    allowed = dashboard_beat_ids(current_user)  # None: every beat
    beats = beats_by_name(allowed)
    form = DashboardForm(request.args, beats=beats,
                         all_label="All beats" if allowed is None else "All my beats")
    if not form.validate():
        return render_template("dashboard/index.html", form=form, dashboard=None, beats=beats), 400
    if form.beat_id is not None and form.beat_id not in {b.id for b in beats}:
        abort(404)  # another officer's beat, or none: the same answer
    now = utcnow()
    today = to_london(now).date()
    chosen = {form.beat_id} if form.beat_id is not None else (None if allowed is None else allowed)
    date_from, date_to = form.dates(today)
    scope = Scope(frozenset(chosen) if chosen is not None else None, date_from, date_to, today, now)
    dashboard = build_dashboard(current_user, scope, beats)
    suggested = suggestion_measure(current_user, scope)  # pcso/patrol_plans: its own block
    commit_view(scope, actor=current_user, dashboard=dashboard)
    return render_template("dashboard/index.html", form=form, dashboard=dashboard, beats=beats, suggested=suggested,
                           case_reviews=dashboard_block(current_user, scope.beat_ids, today))
