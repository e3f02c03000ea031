"""Reading entries: every list goes through visible_entries(), the same rule as the detail page."""
from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from ..access import visible_entries
from ..extensions import db
from ..models import Entry, EntryKind, EntryStatus, IntelligenceReport, User
from ..queries import AnyEntry
from ..retention.tombstones import raise_if_erased


def get_visible_entry(user: User, entry_id: int) -> Entry | None:
    """The entry if the user may open it, else None (404); one disposed of under the retention rules raises
    RecordErased (410) for those who could have opened it."""
    entry = db.session.scalar(sa.select(AnyEntry).where(AnyEntry.id == entry_id, visible_entries(user)))
    if entry is None:
        raise_if_erased(user, entry_id)
    return entry


def my_entries(user: User, *, kind: EntryKind | None = None, beat_id: int | None = None,
               status: EntryStatus | None = None, page: int = 1, per_page: int = 25):
    query = sa.select(AnyEntry).where(AnyEntry.author_id == user.id)
    if kind is not None:
        query = query.where(AnyEntry.kind == kind)
    if beat_id is not None:
        query = query.where(AnyEntry.beat_id == beat_id)
    if status is not None:
        query = query.where(AnyEntry.status == status)
    query = query.order_by(AnyEntry.occurred_at.desc(), AnyEntry.id.desc())
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def recent_visible_entries(user: User, *, beat_id: int | None = None, patrol_id: int | None = None,
                           limit: int = 50) -> list[Entry]:
    query = sa.select(AnyEntry).where(visible_entries(user))
    if beat_id is not None:
        query = query.where(AnyEntry.beat_id == beat_id)
    if patrol_id is not None:
        query = query.where(AnyEntry.patrol_id == patrol_id)
    return list(db.session.scalars(query.order_by(AnyEntry.occurred_at.desc()).limit(limit)))


def reports_raised_from(user: User, entry: Entry) -> list[IntelligenceReport]:
    """Intelligence reports raised from `entry` that the user may open."""
    return list(db.session.scalars(
        sa.select(IntelligenceReport).where(IntelligenceReport.raised_from_id == entry.id, visible_entries(user))
        .order_by(IntelligenceReport.occurred_at, IntelligenceReport.id)))


def entry_map_points(entries: list[Entry]) -> list[dict]:
    return [
        {"lat": e.lat, "lon": e.lon, "label": f"{e.kind.label}: {e.summary}",
         "url": url_for("entries.detail", entry_id=e.id), "kind": e.kind.value}
        for e in entries if e.has_location
    ]
