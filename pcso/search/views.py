"""/search: one box and a few filters over entries, people and vehicles. The form posts, so names stay out of URLs."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user

from ..access import LOGGERS, READERS, require
from ..beats.services import all_beats
from ..entries.queries import entry_map_points
from ..extensions import db
from ..models import User
from .forms import SearchForm
from .services import record_search, search

bp = Blueprint("search", __name__)

PROFILE_ENDPOINTS = {"person": "pole.person", "vehicle": "pole.vehicle", "location": "pole.location"}


def profile_url(record) -> str | None:
    """The record's profile page, once the profiles blueprint provides one; else None."""
    endpoint = PROFILE_ENDPOINTS.get(type(record).__tablename__)
    if endpoint not in current_app.view_functions:
        return None
    rule = next(iter(current_app.url_map.iter_rules(endpoint)))
    (argument,) = rule.arguments
    return url_for(endpoint, **{argument: record.id})


def _form() -> SearchForm:
    authors = db.session.scalars(sa.select(User).where(User.role.in_(LOGGERS)).order_by(User.display_name))
    return SearchForm(beats=all_beats(), authors=authors)


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
