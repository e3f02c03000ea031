"""What the API's views need beyond the features' own services: reads shaped for JSON, and their audit.

Views call these and commit once; nothing here commits. The audit events are the pages' own
(a list with filters is a search, a profile opened is a view, an export is a disclosure), with
`via="api"` so the log tells them apart.
"""
from __future__ import annotations

import base64
import binascii
from datetime import datetime

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import joinedload

from ..auth.services import session_expires_at
from ..beats.services import all_beats, beat_label
from ..entries.queries import get_visible_entry
from ..extensions import db
from ..lists import approvals
from ..lists.exports import export_stream, export_summary
from ..lists.filters import EntryFilter
from ..lists.services import export_ids, record_disclosure, record_list_shown, record_list_view
from ..models import Entry, School, User
from ..pole import queries as pole_queries
from ..pole.services import RecordNotFound, record_profile_view, visible_record
from ..queries import AnyEntry
from ..timeutil import london_today
from .errors import abort

MAX_PAGE = 100


# --- shapes ---------------------------------------------------------------------------------------

def beat_ref(beat) -> dict | None:
    return None if beat is None else {"id": beat.id, "code": beat.code, "name": beat.name}


def entry_summary(entry: Entry) -> dict:
    """What every entry shows in a list: never a kind's own fields (no restricted ones)."""
    return {"id": entry.id, "kind": entry.kind, "status": entry.status, "occurred_at": entry.occurred_at,
            "summary": entry.summary, "marking": entry.marking, "beat": beat_ref(beat_label(entry.beat_id)),
            "author_collar": entry.author.collar_number, "lat": entry.lat, "lon": entry.lon,
            "url": url_for("entries.detail", entry_id=entry.id)}


def me(user: User, token) -> dict:
    return {"id": user.id, "collar_number": user.collar_number, "display_name": user.display_name,
            "role": user.role, "beats": [beat_ref(b) for b in user.beats],
            "authenticated_by": "token" if token else "session", "token": token,
            "session_expires_at": None if token else session_expires_at(getattr(user, "session_token", None))}


def schools() -> list[School]:
    return list(db.session.scalars(sa.select(School).order_by(School.name, School.id)))


def beats():
    return all_beats()


def visible_entry(user: User, entry_id: int) -> Entry:
    return get_visible_entry(user, entry_id) or abort(404, "No such entry, or not one you may see.")


# --- the entry list: filters as on /lists/entries, cursor of (occurred_at, id) ----------------------

def encode_cursor(entry: Entry) -> str:
    raw = f"{entry.occurred_at.isoformat()}|{entry.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, _, entry_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition("|")
        at, number = datetime.fromisoformat(stamp), int(entry_id)
        if at.tzinfo is None or not 0 < number < 2**31:
            raise ValueError(cursor)
        return at, number
    except (ValueError, UnicodeDecodeError, binascii.Error):
        abort(422, "That cursor is not one this API gave.", errors={"cursor": ["Not a valid cursor."]})


def list_entries(user: User, filters: EntryFilter, *, cursor: str | None, limit: int) -> tuple[list[Entry], str | None]:
    clauses = filters.clauses(user, today=london_today())
    query = sa.select(AnyEntry).where(*clauses)
    if cursor:
        at, entry_id = decode_cursor(cursor)
        query = query.where(sa.tuple_(AnyEntry.occurred_at, AnyEntry.id) < sa.tuple_(at, entry_id)
                            if db.engine.dialect.name == "postgresql"
                            else (AnyEntry.occurred_at < at) | ((AnyEntry.occurred_at == at) & (AnyEntry.id < entry_id)))
    rows = list(db.session.scalars(
        query.options(joinedload(AnyEntry.author))
        .order_by(AnyEntry.occurred_at.desc(), AnyEntry.id.desc()).limit(limit + 1)).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    record_list_shown(rows, filters, actor=user, via="api")
    if not filters.is_empty:
        record_list_view(filters, len(rows), actor=user, via="api", cursor=bool(cursor))
    return rows, encode_cursor(rows[-1]) if more and rows else None


# --- POLE profiles ---------------------------------------------------------------------------------

def profile(user: User, model, record_id: int) -> dict:
    """A record the user may see (a merged one answers as its survivor), its timeline; audited as a view."""
    try:
        record = visible_record(model, record_id, user)
    except RecordNotFound:
        abort(404, "No such record, or not one you may see.")
    timeline = pole_queries.timeline(user, record)
    record_profile_view(record, entries=timeline.total, actor=user, via="api", shown=timeline.entries)
    return {"record": record, "entries_total": timeline.total,
            "entries": [dict(entry_summary(item.entry), roles=[r.value for r in item.roles])
                        for item in timeline.items]}


# --- exports -------------------------------------------------------------------------------------

def export_entries(user: User, filters: EntryFilter, *, fmt: str, purpose: str, recipient: str):
    """Record the disclosure (flush) and return the stream of the file: the view commits before sending it.

    An OFFICIAL-SENSITIVE export is a request for a second person's approval instead: it is returned (an
    ExportRequest) and the file comes later, from download_approved_export().
    """
    clauses = filters.clauses(user, today=london_today())
    summary = export_summary(clauses)
    if summary.needs_approval:
        return approvals.request_export(filters, summary, fmt=fmt, purpose=purpose, recipient=recipient, actor=user,
                                        via="api")
    event = record_disclosure(filters, summary, fmt=fmt, purpose=purpose, recipient=recipient, actor=user,
                              via="api", ids=export_ids(clauses, summary))
    return export_stream(fmt, clauses, summary, event=event, actor=user, purpose=purpose, recipient=recipient,
                         filters=filters, description=filters.describe(beat_names={b.id: b.name for b in all_beats()}))


def export_request_shape(asked) -> dict:
    return {"id": asked.id, "status": asked.status.value, "format": asked.format, "count": asked.count,
            "marking": asked.marking, "purpose": asked.purpose, "recipient": asked.recipient,
            "created_at": asked.created_at, "decided_at": asked.decided_at, "expires_at": asked.expires_at,
            "comment": asked.comment, "downloads": asked.downloads,
            "approve_url": url_for("lists.export_request", request_id=asked.id, _external=False)}


def get_export_request(user: User, request_id: int):
    return approvals.get_export_request(user, request_id) or abort(404, "No such export request.")


def download_approved_export(user: User, request_id: int):
    asked = get_export_request(user, request_id)
    try:
        stream = approvals.download_export(asked, actor=user, description=asked_description(asked))
    except approvals.ExportRefused as error:
        db.session.rollback()
        abort(409, str(error), problem="conflict")
    return asked, stream


def asked_description(asked) -> str:
    try:
        filters = approvals.frozen_filter(asked)
    except approvals.ExportRefused:
        return "A filter that can no longer be read"
    return filters.describe(beat_names={b.id: b.name for b in all_beats()})
