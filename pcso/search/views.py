"""/search: one box and a few filters over entries, people and vehicles. The form posts, so names stay out of URLs."""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user

from ..access import LOGGERS, READERS, require
from ..admin.services import officers_in
from ..beats.services import all_beats
from ..entries.queries import entry_map_points
from ..extensions import db
from .forms import SearchForm
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


def _form() -> SearchForm:
    return SearchForm(beats=all_beats(), authors=officers_in(LOGGERS))


@bp.route("/search", methods=["GET", "POST"])
@require(*READERS)
def index():
    form = _form()
    if request.method == "GET" or not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("search/index.html", form=form, found=None), status
    found = search(current_user, form.to_query())
    record_search(found, actor=current_user)
    db.session.commit()
    return render_template("search/index.html", form=form, found=found, profile_url=profile_url,
                           points=entry_map_points([result.entry for result in found.results]))
