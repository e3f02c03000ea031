from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for
from flask_login import current_user

from ..access import AUDITORS, LOGGERS, REVIEWERS, STAFF, public, require
from ..assets import web_app_manifest
from ..audit_viewer.queries import RECORD_TYPES
from ..entries.queries import my_entries
from ..entries.services import open_patrol, record_shown
from ..database import readiness
from ..review.services import COUNT_CAP, returned_to, review_queue

bp = Blueprint("main", __name__)


@bp.get("/")
@public
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if current_user.role in LOGGERS:
        recent = my_entries(current_user, per_page=5).items
        waiting = review_queue(current_user, limit=1) if current_user.role in REVIEWERS else None
        patrol, returned = open_patrol(current_user), returned_to(current_user)
        record_shown([patrol, *returned, *recent, *(item.entry for item in (waiting[0] if waiting else []))],
                     actor=current_user, object_type="entry")
        return render_template("main/home.html", patrol=patrol, recent=recent,
                               returned=returned, waiting=waiting, count_cap=COUNT_CAP)
    if current_user.role in AUDITORS:
        return render_template("audit/start.html", record_types=RECORD_TYPES)  # pcso/audit_viewer/'s front door
    return render_template("main/home.html", patrol=None, recent=[], returned=[], waiting=None)


@bp.get("/data-sources")
@require(*STAFF)
def data_sources():
    return render_template("main/data_sources.html")


@bp.get("/healthz")
@public
def health():
    """Liveness: the process answers. Touches nothing else (a database outage must not restart every server)."""
    return jsonify(status="ok")


@bp.get("/readyz")
@public
def ready():
    """Readiness: the database answers (503 while not: the balancer skips us); Redis too when configured, but
    without it the server still takes entries (limits in memory, jobs wait), so Redis down is 200 "degraded"
    (checks.redis false): a balancer must not take every server out for it."""
    checks = readiness(current_app.config.get("REDIS_URL", ""))
    if not checks["database"]:
        return jsonify(status="not ready", checks=checks), 503
    return jsonify(status="ready" if all(checks.values()) else "degraded", checks=checks), 200


@bp.get("/manifest.webmanifest")
@public
def web_manifest():
    body = json.dumps(web_app_manifest(f"Beatbook · {current_app.config['FORCE_NAME']}"))
    return current_app.response_class(body, mimetype="application/manifest+json")
