"""Entries through the API: the entry services with typed input from JSON (pcso/entries/schema.py)."""
from __future__ import annotations

import hashlib
import uuid
from datetime import timezone
from dataclasses import replace

from marshmallow import ValidationError

from ..access import can_edit_entry
from ..audit_viewer.reasons import ReasonNeeded, for_api as access_reason_for_api
from ..entries.data import CLIENT_KEY, EntryInput
from ..entries.errors import EntryNotFound, EntryRejected
from ..entries.schema import dump_entry, load_entry_input
from ..entries.services import end_patrol, log_entry, record_links_shown, record_view, submit_entry, update_entry
from ..extensions import db
from ..models import Entry, Patrol, User
from .errors import abort
from .services import visible_entry


def entry_etag(entry: Entry) -> str:
    """Changes with every change of the entry (updated_at moves on each one), of its status or of its photos."""
    photos = ",".join(str(photo.id) for photo in entry.photos)
    raw = f"{entry.id}|{entry.updated_at.isoformat()}|{entry.status.value}|{photos}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def client_key_for(idempotency_key: str) -> str:
    """The Idempotency-Key is the entry's client key (the form's and the API's dedupe are one)."""
    return idempotency_key if CLIENT_KEY.match(idempotency_key) else str(uuid.uuid4())


def _rejected(error: EntryRejected):
    abort(422, error.message if len(error.errors) == 1 else "Some fields are not right: see errors.",
          errors={field: [message] for field, message in error.errors.items()})


def create(user: User, data: EntryInput, *, submit: bool) -> tuple[dict, bool]:
    try:
        entry, created = log_entry(data, actor=user, submit=submit)
    except EntryRejected as error:
        _rejected(error)
    except EntryNotFound:
        abort(404, "The entry it is raised from is not one you may open.", errors={"raised_from_id": ["Not found."]})
    return dump_entry(entry, viewer=user), created


def editable_entry(user: User, entry_id: int) -> Entry:
    entry = visible_entry(user, entry_id)
    if not can_edit_entry(user, entry):
        abort(403, "Only its author changes an entry, while it is a draft or returned for correction.")
    return entry


def check_if_match(entry: Entry, if_match) -> None:
    if not if_match:
        abort(428, "Send If-Match with the entry's ETag (from GET).", problem="precondition-required")
    if not if_match.contains(entry_etag(entry)) and not if_match.star_tag:
        abort(412, "The entry has changed since you read it: read it again.", problem="precondition-failed")


def update(user: User, entry_id: int, body, *, if_match, submit: bool) -> Entry:
    entry = editable_entry(user, entry_id)
    check_if_match(entry, if_match)
    try:
        data = load_entry_input(entry.kind, body, entry.client_key)
    except ValidationError as error:
        abort(422, errors=error.messages if isinstance(error.messages, dict) else {"_schema": error.messages})
    try:
        return update_entry(entry, data, actor=user, submit=submit)
    except EntryRejected as error:
        _rejected(error)


def submit(user: User, entry_id: int) -> Entry:
    entry = editable_entry(user, entry_id)
    try:
        return submit_entry(entry, actor=user)
    except EntryRejected as error:
        _rejected(error)


def detail(user: User, entry: Entry) -> dict:
    return dump_entry(entry, viewer=user)


def record_read(user: User, entry: Entry, headers, *, browser_session: bool) -> None:
    """Reading an entry through the API is consultation, as its page is: the entry and its POLE records, with
    the reason for access given in `headers` (pcso/audit_viewer/reasons.py); 428/422 when it is missing or bad."""
    try:
        reason = access_reason_for_api(entry, user, headers, browser_session=browser_session)
    except ReasonNeeded as needed:
        abort(needed.status, needed.message, errors=needed.errors,
              problem="access-reason-required" if needed.status == 428 else None)
    record_view(entry, actor=user, via="api", **reason)
    record_links_shown(entry, actor=user)


def with_key(data: EntryInput, idempotency_key: str) -> EntryInput:
    return replace(data, client_key=client_key_for(idempotency_key))


def visible(user: User, entry_id: int) -> Entry:
    return visible_entry(user, entry_id)


def commit() -> None:
    db.session.commit()


def end(user: User, patrol_id: int, *, ended_at, notes: str | None, submit: bool) -> Entry:
    """End the caller's open patrol (and submit it if asked), as the patrol's page does."""
    patrol = editable_entry(user, patrol_id)
    if not isinstance(patrol, Patrol):
        abort(404, "No such patrol, or not one you may see.")
    try:
        end_patrol(patrol, ended_at.astimezone(timezone.utc), (notes or "").strip() or None, actor=user)
        if submit:
            submit_entry(patrol, actor=user)
    except EntryRejected as error:
        _rejected(error)
    return patrol
