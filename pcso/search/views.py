"""/search: one box and a few filters over entries, people and vehicles.

The form posts, so names stay out of URLs; a valid search is kept server-side under an opaque,
per-user, expiring id (pcso/search/saved.py) and answered with 303 to /search/results/<id>, a
GET that Back, reload and bookmarks open again without "Confirm Form Resubmission".
"""
from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import LOGGERS, READERS, require
from ..admin.services import officers_in
from ..beats.services import all_beats
from ..database import writes_on_read
from ..entries.queries import entry_map_points
from ..extensions import db
from ..replica import replica_reads
from ..web import positive_int, same_origin_get
from .forms import SearchForm
from .saved import as_formdata, save_search, saved_search_for, submitted_terms, ttl
from .services import record_search, search

bp = Blueprint("search", __name__)

PROFILES = {"person": ("pole.person", "person_id"), "vehicle": ("pole.vehicle", "vehicle_id"),
            "location": ("pole.location", "location_id")}


def profile_url(record) -> str | None:
    """The record's profile page; None for a kind of record without one (organisations)."""
    if (profile := PROFILES.get(type(record).__tablename__)) is None:
        return None
    endpoint, argument = profile
    return url_for(endpoint, **{argument: record.id})


def _form(formdata=None) -> SearchForm:
    if formdata is None:
        return SearchForm(beats=all_beats(), authors=officers_in(LOGGERS))
    return SearchForm(formdata=formdata, meta={"csrf": False}, beats=all_beats(), authors=officers_in(LOGGERS))


@bp.route("/search", methods=["GET", "POST"])
@require(*READERS)
@replica_reads  # its POST saves the query only (a primary-only table): no reason to keep the user on the primary
def index():
    form = _form()
    if request.method == "GET" or not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("search/index.html", form=form, found=None), status
    saved = save_search(current_user, submitted_terms(form))
    db.session.commit()
    return redirect(url_for("search.results", search_id=saved.id), 303)


@bp.get("/search/results/<token:search_id>")
@require(*READERS)
@writes_on_read
@same_origin_get
@replica_reads
def results(search_id: str):
    """Run the user's saved search again and show it with the form filled in.

    Each view of the results (the redirect after the form, a reload, Back, a bookmark, another page)
    is consultation at that moment: the search runs again, with the access rules as they are now, and
    is recorded in the audit log as a search each time. Another user's id, an unknown one and an
    expired one are all 404, with the form to search again.
    """
    saved = saved_search_for(current_user, search_id)
    if saved is None or saved.is_expired():
        return render_template("search/index.html", form=_form(), found=None, gone="expired" if saved else "unknown",
                               ttl_hours=int(ttl().total_seconds() // 3600)), 404
    form = _form(as_formdata(saved))
    if not form.validate():  # the world changed since (a beat or an officer gone): say what, search again
        return render_template("search/index.html", form=form, found=None), 400
    found = search(current_user, replace(form.to_query(), page=request.args.get("page", 1, type=positive_int)))
    record_search(found, actor=current_user)
    db.session.commit()
    return render_template("search/index.html", form=form, found=found, profile_url=profile_url, search_id=saved.id,
                           points=entry_map_points([result.entry for result in found.results]))
