"""Suggested patrols: the list and map for an officer's beats (a supervisor's chosen beat), and starting a
patrol from one. The figures are pcso/patrol_plans/services.py; the dashboard's measure is measure.py."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, render_template, request, url_for
from flask_login import current_user

from ..access import LOGGERS, dashboard_beat_ids, require
from ..beats.services import all_beats
from ..database import writes_on_read
from ..entries.pages import make_form, render_form
from ..entries.services import open_patrol
from ..extensions import db
from ..models import EntryKind
from ..timeutil import to_london, utcnow
from ..web import positive_int
from .services import get_suggestion, params_from, record_suggestions, shown_from, suggest_patrols
from .shown import map_points, record_shown_suggestions

bp = Blueprint("patrol_plans", __name__)


@bp.get("/patrols/suggested")
@require(*LOGGERS)
@writes_on_read
def index():
    raw = request.args.get("beat", "")
    try:
        chosen = positive_int(raw) if raw else None
    except ValueError:
        abort(400, "Choose a beat from the list")
    allowed = dashboard_beat_ids(current_user)  # None: every beat (supervisors)
    choices = [b for b in all_beats() if allowed is None or b.id in allowed]
    if chosen is not None and chosen not in {b.id for b in choices}:
        abort(404)  # not a beat of theirs, or none: the same answer
    beats = [b for b in choices if b.id == chosen] if chosen is not None else ([] if allowed is None else choices)
    now, params = utcnow(), params_from(current_app.config)
    suggestions = suggest_patrols(current_user, {b.id for b in beats}, now=now, params=params)
    record_suggestions(current_user, suggestions, now=now, params=params)
    record_shown_suggestions(current_user, suggestions, screen="patrol_suggestions",
                             beat_ids=sorted(b.id for b in beats))
    db.session.commit()
    return render_template("patrol_plans/index.html", suggestions=suggestions, beats=beats, chosen=chosen,
                           choices=choices, params=params, points=map_points(suggestions))


@bp.get("/patrols/suggested/<int:suggestion_id>/start")
@require(*LOGGERS)
@writes_on_read
def start(suggestion_id: int):
    """The patrol form, filled from a suggestion shown to this officer (anyone else's: 404). It posts to the
    normal new-patrol page; the suggestion's id goes with it and is kept on the patrol."""
    row = get_suggestion(current_user, suggestion_id) or abort(404)
    suggestion = shown_from(row, utcnow())
    form = make_form(EntryKind.PATROL)
    form.suggestion_id.data = str(row.id)
    form.purpose.data = suggestion.purpose
    form.lat.data, form.lon.data, form.location_source.data = str(row.lat), str(row.lon), "map"
    form.location_text.data = f"Suggested area near {suggestion.place} (about {int(row.radius_m)} m around)"
    form.beat_id.data = str(row.beat_id)
    # The start time stays now (a patrol is started when it starts); the window is said above the form.
    when = "now" if suggestion.is_now else to_london(suggestion.next_start).strftime("%a %-d %b %H:%M")
    flash(f"Suggested: {suggestion.reason}. Best time {suggestion.when} (next: {when}).", "info")
    record_shown_suggestions(current_user, [suggestion], screen="patrol_suggestion_start")
    page = render_form(form, EntryKind.PATROL, patrol=open_patrol(current_user),
                       action=url_for("entries.new", slug=EntryKind.PATROL.slug))
    db.session.commit()
    return page
