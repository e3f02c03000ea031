"""Beats: import boundaries, find the beat containing a point, assign officers."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from shapely.geometry import shape

from .. import audit
from ..boundaries import BeatShape
from ..extensions import db
from ..geo import BeatIndex
from ..models import AuditAction, Beat, User
from ..timeutil import utcnow
from ..upsert import assign_changed


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def import_beats(shapes: list[BeatShape], *, district: str | None = None, actor: User | None = None
                 ) -> ImportSummary:
    """Insert new beats and update existing ones by code. Flushes; the caller commits once."""
    summary = ImportSummary()
    existing = {beat.code: beat for beat in db.session.scalars(sa.select(Beat))}
    for item in shapes:
        min_lon, min_lat, max_lon, max_lat = item.geometry.bounds
        values = {
            "name": item.name, "boundary": item.geojson, "min_lat": min_lat, "min_lon": min_lon,
            "max_lat": max_lat, "max_lon": max_lon,
        }
        if district is not None:
            values["district"] = district
        beat = existing.get(item.code)
        if beat is None:
            db.session.add(Beat(code=item.code, **values))
            summary.created += 1
        elif assign_changed(beat, values):
            beat.updated_at = utcnow()
            summary.updated += 1
        else:
            summary.unchanged += 1
    db.session.flush()
    audit.record(AuditAction.IMPORT, actor=actor, object_type="beat", created=summary.created,
                 updated=summary.updated, unchanged=summary.unchanged)
    return summary


def _fingerprint() -> tuple:
    return tuple(db.session.execute(sa.select(sa.func.count(Beat.id), sa.func.max(Beat.updated_at))).one())


def beat_index() -> BeatIndex:
    """The STRtree over all beats, built once and rebuilt when any beat changes.

    The fingerprint (count, newest update) is read each call, so a beat imported by
    another process is seen by every gunicorn worker on its next lookup.
    """
    cache = current_app.extensions.setdefault("beatbook.beat_index", {})
    fingerprint = _fingerprint()
    if cache.get("fingerprint") != fingerprint:
        rows = db.session.execute(sa.select(Beat.id, Beat.boundary)).all()
        cache["index"] = BeatIndex((beat_id, shape(boundary)) for beat_id, boundary in rows)
        cache["fingerprint"] = fingerprint
    return cache["index"]


def locate_beat(lat: float, lon: float) -> Beat | None:
    beat_id = beat_index().locate(lat, lon)
    return db.session.get(Beat, beat_id) if beat_id is not None else None


def assign_beats(officer: User, beats: list[Beat], *, actor: User | None) -> None:
    before = sorted(b.code for b in officer.beats)
    officer.beats = list(beats)
    db.session.flush()
    after = sorted(b.code for b in officer.beats)
    if before != after:
        audit.record(AuditAction.UPDATE, officer, actor=actor, field="beats", before=before, after=after)


def get_beat(beat_id: int) -> Beat | None:
    return db.session.get(Beat, beat_id)


def all_beats() -> list[Beat]:
    return list(db.session.scalars(sa.select(Beat).order_by(Beat.name)))


def outlines_geojson(beats: list[Beat]) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": beat.id, "geometry": beat.boundary,
             "properties": {"id": beat.id, "code": beat.code, "name": beat.name}}
            for beat in beats
        ],
    }
