"""Beats: import boundaries, find the beat containing a point, assign officers."""
from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import sqlalchemy as sa
from flask import current_app, g, has_app_context
from shapely.geometry import shape
from sqlalchemy.orm import Session

from .. import audit
from ..boundaries import BeatShape
from ..extensions import db
from ..geo import BeatIndex
from ..models import AuditAction, Beat, BeatIndexVersion, User
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


# --- The beat index, shared by every server through a version number --------------------------------------

VERSION_ID = 1
_CACHE = "beatbook.beat_index"
_DIRTY = "beatbook.beats_changed"  # session.info: this transaction changed a beat (not yet committed)


def index_version() -> int:
    """The beat index's version: one primary-key read of one row (0 when the row is missing)."""
    return db.session.scalar(sa.select(BeatIndexVersion.version).where(BeatIndexVersion.id == VERSION_ID)) or 0


def bump_version(connection: sa.Connection) -> None:
    """Move the version on, in the caller's transaction (so it commits, or rolls back, with the beat change)."""
    table = BeatIndexVersion.__table__
    moved = connection.execute(sa.update(table).where(table.c.id == VERSION_ID)
                               .values(version=table.c.version + 1)).rowcount
    if not moved:
        connection.execute(sa.insert(table).values(id=VERSION_ID, version=1))


@sa.event.listens_for(Session, "after_flush")
def _beats_flushed(session: Session, _context) -> None:
    """Any beat inserted, deleted or with a column changed: bump the version with it, whoever flushed it."""
    changed = any(isinstance(obj, Beat) for obj in chain(session.new, session.deleted)) or any(
        isinstance(obj, Beat) and session.is_modified(obj, include_collections=False) for obj in session.dirty)
    if changed:
        bump_version(session.connection())
        session.info[_DIRTY] = True
        session.info.pop(_CACHE, None)
        if has_app_context():
            g.pop("beat_index_version", None)  # read it again once this transaction has ended


@sa.event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost: committed or rolled back, the per-transaction tree goes
        session.info.pop(_DIRTY, None)
        session.info.pop(_CACHE, None)


@dataclass(frozen=True)
class BeatLabel:
    """What a beat select shows: no boundary (21 beats' GeoJSON was loaded and decoded for every form)."""
    id: int
    code: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})"


@dataclass(frozen=True)
class BeatCatalogue:
    index: BeatIndex
    labels: tuple[BeatLabel, ...]  # by name


def _build() -> BeatCatalogue:
    rows = db.session.execute(sa.select(Beat.id, Beat.code, Beat.name, Beat.boundary).order_by(Beat.name)).all()
    return BeatCatalogue(index=BeatIndex((row.id, shape(row.boundary)) for row in rows),
                         labels=tuple(BeatLabel(row.id, row.code, row.name) for row in rows))


def _catalogue() -> BeatCatalogue:
    """The beats' STRtree and labels, built once per process and rebuilt when the beats' version moves.

    The version (pcso/models/beat.py, BeatIndexVersion) is read once per request (kept on flask.g), so a beat
    changed through another server, worker or `flask beats import` is used here for the next entry. A
    transaction that has itself changed beats uses a catalogue of its own until it ends: the process-wide one
    only ever holds committed beats.
    """
    session = db.session()
    if session.info.get(_DIRTY):
        if _CACHE not in session.info:
            session.info[_CACHE] = _build()
        return session.info[_CACHE]
    cache = current_app.extensions.setdefault(_CACHE, {})
    version = g.get("beat_index_version")
    if version is None:
        version = g.beat_index_version = index_version()
    if cache.get("version") != version or "catalogue" not in cache:
        cache["catalogue"] = _build()
        cache["version"] = version
    return cache["catalogue"]


def beat_index() -> BeatIndex:
    """The STRtree over all beats (see _catalogue)."""
    return _catalogue().index


def beat_labels() -> list[BeatLabel]:
    """Every beat's id, code and name, by name, for a select: no query when the beats haven't changed."""
    return list(_catalogue().labels)


def beat_label(beat_id: int | None) -> BeatLabel | None:
    """One beat's id, code and name, from the cached catalogue (no query)."""
    return next((label for label in _catalogue().labels if label.id == beat_id), None)


def is_beat(beat_id: int) -> bool:
    return beat_label(beat_id) is not None


def locate_beat_id(lat: float, lon: float) -> int | None:
    """The id of the beat containing the point, from the cached STRtree (no query)."""
    return beat_index().locate(lat, lon)


def locate_beat(lat: float, lon: float) -> Beat | None:
    beat_id = locate_beat_id(lat, lon)
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
