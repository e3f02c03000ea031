"""The offline pack: a user's beats and the postcodes in and around them, for the phone to keep.

"Use my location" and the postcode lookup work with no signal from this copy (static/js/places.js
keeps it in Cache Storage): outlines to find the beat a GPS fix is in, postcodes to find a typed
one. The server still decides the beat when the entry arrives. Nothing here is personal data:
boundaries and ONS postcode centroids are open data, the same for everyone on those beats.

Shape (JSON):
    {"version": "<16 hex>", "beats": [{"id", "code", "name", "outline": <GeoJSON geometry>}],
     "postcodes": [[postcode, lat, lon, beat_id or null], ...]}
`version` is a digest of the rest: the page sends it back as If-None-Match and gets 304 when unchanged.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import current_app
from shapely.geometry import Point, mapping, shape
from shapely.prepared import prep

from ..models import Beat
from ..postcodes import DEFAULT_POSTCODES_PATH, load_postcode_book

SIMPLIFY_ABOVE = 1_000  # outline vertices; beyond this an outline is simplified for the phone
SIMPLIFY_TOLERANCE = 0.00002  # degrees, about 2 m: far inside a GPS fix's error
BUFFER_DEGREES = 0.0015  # postcodes this close outside a beat (about 100-170 m) come too
COORDINATE_PLACES = 6  # about 0.1 m


def _vertices(geometry) -> int:
    polygons = getattr(geometry, "geoms", [geometry])
    return sum(len(p.exterior.coords) + sum(len(r.coords) for r in p.interiors) for p in polygons)


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, COORDINATE_PLACES)
    if isinstance(value, (list, tuple)):
        return [_rounded(item) for item in value]
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    return value


def _outline(geometry) -> dict:
    if _vertices(geometry) > SIMPLIFY_ABOVE:
        geometry = geometry.simplify(SIMPLIFY_TOLERANCE, preserve_topology=True)
    return _rounded(mapping(geometry))


def build_pack(beats: list[Beat]) -> dict[str, Any]:
    """The pack for these beats (cached per set of beats and their last change, per process)."""
    path = str(current_app.config.get("POSTCODES_PATH") or DEFAULT_POSTCODES_PATH)
    key = (path, tuple(sorted((beat.id, beat.updated_at.isoformat(), beat.code, beat.name) for beat in beats)))
    cache = current_app.extensions.setdefault("beatbook.offline_packs", {})
    if key not in cache:
        if len(cache) > 64:
            cache.clear()
        cache[key] = _build(sorted(beats, key=lambda beat: beat.name), path)
    return cache[key]


def _build(beats: list[Beat], path: str) -> dict[str, Any]:
    shapes = [(beat, shape(beat.boundary)) for beat in beats]
    exact = [(beat.id, prep(geometry)) for beat, geometry in shapes]
    near = [prep(geometry.buffer(BUFFER_DEGREES)) for _, geometry in shapes]
    postcodes = []
    if shapes:
        for point in load_postcode_book(path):
            where = Point(point.lon, point.lat)
            if any(area.contains(where) for area in near):
                beat_id = next((beat_id for beat_id, area in exact if area.covers(where)), None)
                postcodes.append([point.postcode, point.lat, point.lon, beat_id])
    postcodes.sort(key=lambda row: row[0])
    body = {"beats": [{"id": beat.id, "code": beat.code, "name": beat.name, "outline": _outline(geometry)}
                      for beat, geometry in shapes],
            "postcodes": postcodes}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return {"version": digest[:16], **body}
