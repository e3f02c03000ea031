from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template
from flask_login import current_user

from ..access import READERS, STAFF, require
from ..context.police_uk_layer import (
    ATTRIBUTION, LAYER_LABEL, latest_months, points_geojson, street_crime_counts, street_crime_points,
)
from ..briefing.services import open_priorities
from ..entries.queries import entry_map_points, recent_visible_entries
from ..entries.services import record_shown
from .services import all_beats, get_beat, outlines_geojson

bp = Blueprint("beats", __name__, url_prefix="/beats")


@bp.get("/")
@require(*STAFF)
def index():
    beats = all_beats()
    mine = current_user.beat_ids
    return render_template("beats/index.html", beats=beats, mine=mine)


@bp.get("/outlines.geojson")
@require(*STAFF)
def outlines():
    return jsonify(outlines_geojson(all_beats()))


@bp.get("/<int:beat_id>")
@require(*READERS)
def detail(beat_id: int):
    beat = get_beat(beat_id) or abort(404)
    entries = recent_visible_entries(current_user, beat_id=beat.id, limit=50)
    record_shown(entries, actor=current_user, object_type="entry")  # the list and its map layer
    return render_template(
        "beats/detail.html", beat=beat, entries=entries, points=entry_map_points(entries),
        outline=outlines_geojson([beat]),
        street_crime=street_crime_counts({beat.id}, latest_months({beat.id})),
        street_crime_label=LAYER_LABEL, street_crime_attribution=ATTRIBUTION,
        priorities=open_priorities({beat.id}),
    )


@bp.get("/<int:beat_id>/street-crime.geojson")
@require(*READERS)
def street_crime(beat_id: int):
    """The data.police.uk context layer of a beat: its latest months, one feature per snap point."""
    beat = get_beat(beat_id) or abort(404)
    months = latest_months({beat.id})
    return jsonify(points_geojson(street_crime_points({beat.id}, months), months))
