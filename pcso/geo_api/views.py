"""Small JSON endpoints the entry forms call to show the beat before saving, and the offline pack.

POST with a JSON body and the CSRF token in X-CSRFToken: a postcode or a point is
where something happened, so it stays out of URLs and access logs.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import current_user

from ..access import LOGGERS, require
from ..beats.offline_pack import build_pack
from ..beats.services import locate_beat
from ..entries.location import lookup_postcode, parse_point

bp = Blueprint("geo_api", __name__, url_prefix="/geo")


def _body() -> dict:
    """The JSON object sent, or {} for anything else (a list, a string, no body)."""
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _beat_json(beat):
    return None if beat is None else {"id": beat.id, "code": beat.code, "name": beat.name}


@bp.post("/locate")
@require(*LOGGERS)
def locate():
    data = _body()
    point = parse_point(data.get("lat"), data.get("lon"))
    if point is None:
        return jsonify(error="Give a latitude and longitude in decimal degrees."), 400
    return jsonify(beat=_beat_json(locate_beat(*point)))


@bp.post("/postcode")
@require(*LOGGERS)
def postcode():
    data = _body()
    found = lookup_postcode(str(data.get("postcode") or "")[:16])
    if found is None:
        return jsonify(error="Postcode not found. Check it, or use your location or the map."), 404
    return jsonify(postcode=found.postcode, lat=found.lat, lon=found.lon,
                   beat=_beat_json(locate_beat(found.lat, found.lon)))


@bp.get("/offline-pack")
@require(*LOGGERS)
def offline_pack():
    """The user's beats and their postcodes, for the phone to keep (pcso/beats/offline_pack.py).

    Send the last `version` as If-None-Match to get 304 when nothing changed. Cache-Control stays
    no-store: the page script keeps its own copy in Cache Storage, the HTTP cache keeps none.
    """
    pack = build_pack(list(current_user.beats))
    etag = f'"{pack["version"]}"'
    if etag in request.headers.get("If-None-Match", "").replace("W/", "").split(", "):
        return "", 304, {"ETag": etag}
    response = jsonify(pack)
    response.headers["ETag"] = etag
    return response
