from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template
from flask_login import current_user

from ..access import ALL_ROLES, READERS, require
from ..entries.queries import entry_map_points, recent_visible_entries
from ..extensions import db
from ..models import Beat
from .services import all_beats, outlines_geojson

bp = Blueprint("beats", __name__, url_prefix="/beats")


@bp.get("/")
@require(*ALL_ROLES)
def index():
    beats = all_beats()
    mine = current_user.beat_ids
    return render_template("beats/index.html", beats=beats, mine=mine)


@bp.get("/outlines.geojson")
@require(*ALL_ROLES)
def outlines():
    return jsonify(outlines_geojson(all_beats()))


@bp.get("/<int:beat_id>")
@require(*READERS)
def detail(beat_id: int):
    beat = db.session.get(Beat, beat_id) or abort(404)
    entries = recent_visible_entries(current_user, beat_id=beat.id, limit=50)
    return render_template(
        "beats/detail.html", beat=beat, entries=entries, points=entry_map_points(entries),
        outline=outlines_geojson([beat]),
    )
