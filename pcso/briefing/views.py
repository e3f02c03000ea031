"""The shift briefing, and the beat priorities supervisors set."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import LOGGERS, REVIEWERS, require
from ..auth.forms import EmptyForm
from ..beats.services import get_beat
from ..database import writes_on_read
from ..extensions import db
from ..jobs import runner as jobs
from ..models import Beat, BeatPriority
from ..timeutil import london_today
from ..lists.forms import EntryExportForm
from .forms import PriorityForm
from .services import (
    add_patrol_plans, build_briefing, close_priority, end_shift, get_priority, record_briefing,
    save_priority, start_shift,
)

bp = Blueprint("briefing", __name__)


@bp.get("/briefing")
@require(*LOGGERS)
@writes_on_read
def show():
    briefing = build_briefing(current_user)
    record_briefing(briefing)
    add_patrol_plans(briefing, config=current_app.config)
    db.session.commit()
    points = [{"lat": h.lat, "lon": h.lon, "url": h.url, "kind": "asb_incident",
               "label": f"{h.count} ASB incidents in 7 days ({h.before} in the 28 days before)"}
              for h in briefing.hotspots]
    return render_template("briefing/show.html", b=briefing, button_form=EmptyForm(), hotspot_points=points,
                           patrol_plans=briefing.patrol_plans)


@bp.route("/briefing.pdf", methods=["GET", "POST"])
@require(*LOGGERS)
def pdf():
    """The printable briefing is a disclosure: GET asks why and for whom; POST hands it to a background job
    (pcso/jobs/kinds.py), which records the disclosure, commits, then draws the PDF outside any transaction.
    The officer follows it on the job's page and downloads it there."""
    briefing, form = build_briefing(current_user), EntryExportForm()
    if not form.validate_on_submit():
        return render_template("briefing/pdf_form.html", b=briefing, form=form), 400 if request.method == "POST" else 200
    job_id = jobs.launch("briefing_pdf", {"purpose": form.purpose.data, "recipient": form.recipient.data},
                      actor=current_user)
    return redirect(url_for("jobs.show", job_id=job_id), code=303)


@bp.post("/shift/start")
@require(*LOGGERS)
def shift_start():
    if not EmptyForm().validate_on_submit():
        abort(400)
    _, created = start_shift(current_user)
    db.session.commit()
    flash("Shift started. Here is your briefing." if created else "Your shift had already started.", "success")
    return redirect(url_for("briefing.show"))


@bp.post("/shift/end")
@require(*LOGGERS)
def shift_end():
    if not EmptyForm().validate_on_submit():
        abort(400)
    shift = end_shift(current_user)
    db.session.commit()
    flash("Shift ended. Your next briefing starts from now." if shift else "You had no shift running.", "success")
    return redirect(url_for("main.index"))


# --- priorities (supervisors) ------------------------------------------------------------------------

def _priority_page(form, beat: Beat, priority: BeatPriority | None, status: int = 200):
    return render_template("briefing/priority_form.html", form=form, beat=beat, priority=priority), status


@bp.route("/beats/<int:beat_id>/priorities/new", methods=["GET", "POST"])
@require(*REVIEWERS)
def new_priority(beat_id: int):
    beat = get_beat(beat_id) or abort(404)
    form = PriorityForm()
    if not form.is_submitted():
        form.issue_date.data = london_today()
    if form.validate_on_submit():
        save_priority(BeatPriority(beat_id=beat.id), form, actor=current_user)
        db.session.commit()
        flash("Priority added. Officers on the beat see it in their briefing.", "success")
        return redirect(url_for("beats.detail", beat_id=beat.id) + "#priorities")
    return _priority_page(form, beat, None, 400 if form.is_submitted() else 200)


@bp.route("/priorities/<int:priority_id>/edit", methods=["GET", "POST"])
@require(*REVIEWERS)
def edit_priority(priority_id: int):
    priority = get_priority(priority_id) or abort(404)
    if priority.closed_at is not None:
        abort(409, "This priority is closed")
    form = PriorityForm(obj=priority)
    if form.validate_on_submit():
        save_priority(priority, form, actor=current_user)
        db.session.commit()
        flash("Priority updated.", "success")
        return redirect(url_for("beats.detail", beat_id=priority.beat_id) + "#priorities")
    return _priority_page(form, priority.beat, priority, 400 if form.is_submitted() else 200)


@bp.post("/priorities/<int:priority_id>/close")
@require(*REVIEWERS)
def close(priority_id: int):
    priority = get_priority(priority_id) or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    close_priority(priority, actor=current_user)
    db.session.commit()
    flash("Priority closed. It stays on record.", "success")
    return redirect(url_for("beats.detail", beat_id=priority.beat_id) + "#priorities")

