"""One audit module: every create, update, view, search, disclosure, combination, erasure and denial goes
through here (DPA 2018 s.62). Nothing else writes audit_event rows.

record(action, obj, *, actor, **details) adds one event to the current session and flushes; it never commits,
so the event and the change it describes are written in the same transaction or not at all.

Details never carry free text typed about people: ids, kinds, field names, counts and dates only. The
exceptions: a search's terms (names included: who looked for whom is the point of auditing a search), a
disclosure's purpose and recipient (typed by the officer; s.62 requires the recipient) and a merge's reason
(the justification for altering the records, asked for as what was checked).

The shapes other code reads (the audit viewer, the unusual-access report)
----------------------------------------------------------------------------
Consultation (s.62 "consultation"), action `view`: ONE event per request, written by this module, naming every
record the response showed. A view or service calls `consulted(records, actor=...)` for what it shows (a
record, or a list of them; several calls add up) and this module writes the event:
    object_type, object_id: the page's own record, the first consulted (an entry page: "entry", 42; a
                            profile: "person", 3); for a list, the kind it lists and NULL.
    details = {
      "context": "entries.detail",        # the route's endpoint (what screen or API call showed them)
      "records": {                        # every kind shown, in the order first consulted
        "entry":  {"ids": [42, 7, ...], "count": 1000, "digest": "sha256:..."},
        "person": {"ids": [3], "count": 1, "digest": "sha256:..."},
      },
      ...                                 # what the caller added: "kind", "via": "api", "format", "joined",
    }                                     # "screen" ("dashboard", "briefing", "merge-comparison"), a shown source
  "ids" holds at most MAX_IDS ids (the first shown, in page order); "count" is how many were shown in all, and
  "digest" is sha256 over all of them (sorted, comma-separated decimal ids, first 32 hex digits): the same set
  of records gives the same digest, so a capped list can still be matched against a later re-run.
  The event is written when the request commits (the same transaction as the page's other writes, through a
  before_commit hook) or, for a read-only page, by an after-request step in a short transaction of its own that
  writes first (SQLite: the write lock is held for one INSERT). Error responses (401, 403, 404, 410, 5xx) write
  none; a 400 that still shows records (the merge comparison asking for a reason) does.
  `events_naming(object_type, object_id)` (`names_records` for many): the SQL "this event names that record"
  Records: entry, person, vehicle, location, organisation, photo, held_submission. A page showing entries with
  their POLE records (an entry's page) names both; lists name the entries they list.

Search (action `search`): the terms (`terms`), `scope`, `results` (how many matched). A search that joins
  records, e.g. one that answers people or vehicles alongside the entries they appear in, or a list filtered on a
  person (that person's linked entries), carries `"joined": true`: s.62 "combination" of searches is recorded
  this way, as SEARCH with joined=true, never as COMBINE. Its results are named by the request's `view` event.

Combination (action `combine`): a merge of two POLE records, on the survivor (object_id), details {"survivor",
  "merged", "ids": [survivor, merged], "into", "links_moved", "filled": [field names], "revision": the survivor's
  new one, "merged_revision", "reason": text, "context"} (a vehicle merge adds "vrm" and "merged_vrm").
  Merges before this were written as `update` with merged/into.

Collection and alteration of POLE records (action `create` / `update`): object_type person / vehicle /
  location / organisation, details {"revision": n, "fields": [changed field names, never values],
  "context": endpoint or null}. (`pole_changed()` writes them.)

Disclosure (action `disclose`): details {"format", "purpose", "recipient", "count", "marking", "context", ...},
  and what it disclosed: "records": {"entry": {"ids", "count", "digest"}} as above (a list export, an entry PDF).

Erasure (action `erase`): metadata only, through `erased(object_type, object_id, actor=..., **metadata)`, which
  refuses anything that looks like free text (values must be numbers, booleans, dates or short tokens).

Denial (action `deny`): a record the user may not see was asked for and answered 404 (found by one after-request
  step from the route's record id: entry_id, person_id, vehicle_id, location_id, photo_id, held_id, ?from= on a
  new report, other_id of a merge). object_type, object_id; details {"context": endpoint, "method": "GET"}.
  Never the content. Bounded: at most one event per user and record per DENY_WINDOW, and at most DENY_CAP per user
  per window; the event that reaches the cap carries "capped": true (more followed unrecorded). Ids that don't exist: none.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, g, has_app_context, has_request_context, request
from flask_login import current_user
from sqlalchemy.dialects.postgresql import JSONB

from .extensions import db
from .models import (
    AuditAction, AuditEvent, Entry, HeldSubmission, Location, Organisation, Person, Photo, User, Vehicle,
)
from .timeutil import utcnow

MAX_IDS = 200  # ids named in one event per kind of record; the count and digest cover the rest
DENY_WINDOW = timedelta(minutes=1)
DENY_CAP = 30  # denials recorded per user per window
_PENDING = "beatbook_consulted"
RECORD_TYPES = ("entry", "person", "vehicle", "location", "organisation", "photo", "held_submission")


def record(
    action: AuditAction,
    obj: Any = None,
    *,
    actor: User | None,
    object_type: str | None = None,
    object_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    if obj is not None:
        object_type = object_type or type(obj).__tablename__
        object_id = object_id if object_id is not None else obj.id
    return _add(action, actor.id if actor is not None else None, object_type, object_id, details)


def _add(action: AuditAction, actor_id: int | None, object_type: str | None, object_id: int | None,
         details: dict[str, Any]) -> AuditEvent:
    event = AuditEvent(action=action, actor_id=actor_id, object_type=object_type, object_id=object_id,
                       details=details)
    db.session.add(event)
    db.session.flush()
    return event


def endpoint() -> str | None:  # the view's endpoint, or "job:<kind>" inside a background job (pcso/jobs/)
    if has_app_context() and g.get("beatbook_job_kind"):
        return f"job:{g.beatbook_job_kind}"
    return request.endpoint if has_request_context() else None


# --- consultation: one event per request --------------------------------------------------------------

@dataclass
class _Consultation:
    actor_id: int | None
    records: dict[str, dict[int, None]] = field(default_factory=dict)  # kind -> ids in order shown (no repeats)
    primary: tuple[str, int | None] | None = None  # the event's object_type and object_id
    details: dict[str, Any] = field(default_factory=dict)


def _type_of(item: Any) -> str:
    """The record's kind as events name it: "entry" for every kind of entry (their rows share its ids)."""
    return "entry" if isinstance(item, Entry) else type(item).__tablename__


def consulted(records: Any, *, actor: User | None, object_type: str | None = None, **details: Any) -> None:
    """Note that this response shows `records` (one record, or an iterable of records or of ids with
    `object_type`). The request's one `view` event names them all (see the module's docstring).

    Costs nothing but the ids: call it with objects already loaded. Outside a request (a CLI command) the
    event is written at once.
    """
    if records is None:
        return
    single = not isinstance(records, Iterable) or isinstance(records, (str, bytes))
    items = [records] if single else list(records)
    pending = g.get(_PENDING) if has_request_context() else None
    if pending is None:
        pending = _Consultation(actor_id=actor.id if actor is not None else None)
        if has_request_context():
            setattr(g, _PENDING, pending)
    if object_type is not None:
        pending.records.setdefault(object_type, {})  # named even when none are shown (an empty list)
    for item in items:
        if item is None:
            continue
        kind = object_type or _type_of(item)
        record_id = item if isinstance(item, int) else item.id
        pending.records.setdefault(kind, {})[record_id] = None
        if pending.primary is None:
            pending.primary = (kind, record_id if single else None)
    if pending.primary is None and object_type is not None:
        pending.primary = (object_type, None)
    for key, value in details.items():
        pending.details.setdefault(key, value)
    if not has_request_context():
        _write(pending, context=None)


def id_summary(ids: Iterable[int]) -> dict[str, Any]:
    """{"ids": the first MAX_IDS, "count": all, "digest": sha256 of all, sorted}: the bounded naming of records."""
    ids = list(ids)
    digest = hashlib.sha256(",".join(str(i) for i in sorted(ids)).encode()).hexdigest()[:32]
    return {"ids": ids[:MAX_IDS], "count": len(ids), "digest": f"sha256:{digest}"}


def _write(pending: _Consultation, *, context: str | None) -> AuditEvent | None:
    shown = {kind: list(ids) for kind, ids in pending.records.items()}
    if not shown:
        return None
    kind, record_id = pending.primary or (next(iter(shown)), None)
    details = {"context": context, "records": {kind: id_summary(ids) for kind, ids in shown.items()},
               **pending.details}
    return _add(AuditAction.VIEW, pending.actor_id, kind, record_id, details)


def write_consultations() -> AuditEvent | None:
    """Write the request's `view` event now (if anything was consulted): into the current transaction."""
    if not has_request_context():
        return None
    pending = g.pop(_PENDING, None)
    return _write(pending, context=endpoint()) if pending is not None else None


def forget_consultations() -> None:
    """This request's records are named by an event already written (a reason's POST): write no second."""
    if has_request_context():
        g.pop(_PENDING, None)


def _before_commit(session) -> None:  # not a SAVEPOINT's release: the request's own commit writes the event
    if has_request_context() and g.get(_PENDING) is not None and session is db.session() \
            and not session.in_nested_transaction():
        write_consultations()


NOT_SHOWN = {401, 403, 404, 410}


def _after_request(response):
    if g.get(_PENDING) is not None:
        if response.status_code in NOT_SHOWN or response.status_code >= 500:
            g.pop(_PENDING, None)
        else:
            # The page's reading transaction ends first: the event's own transaction writes first, so
            # a deferred (GET) transaction never has to upgrade its lock (pcso/database.py).
            db.session.rollback()
            write_consultations()
            db.session.commit()
    if response.status_code == 404:
        _record_denial()
    return response


# --- denial ------------------------------------------------------------------------------------------

# Route arguments (and the few form/query fields) that name a record: what a 404 on them denied.
DENIABLE = {"entry_id": "entry", "patrol_id": "entry", "person_id": "person", "vehicle_id": "vehicle",
            "location_id": "location", "photo_id": "photo", "held_id": "held_submission"}
MERGE_ENDPOINTS = {"pole.merge_person": "person", "pole.merge_vehicle": "vehicle"}


def _models() -> dict[str, Any]:
    return {"entry": Entry, "person": Person, "vehicle": Vehicle, "location": Location,
            "organisation": Organisation, "photo": Photo, "held_submission": HeldSubmission}


def _asked_for() -> list[tuple[str, int]]:
    """The records this request named: its route's record ids, ?from= on a new report, a merge's other_id."""
    asked = [(DENIABLE[name], value) for name, value in (request.view_args or {}).items()
             if name in DENIABLE and isinstance(value, int)]
    named = []
    if request.endpoint in ("entries.new", "entries.edit"):  # raised from (?from= on a new form, then hidden)
        named += [("entry", request.values.get(name, "")) for name in ("from", "raised_from_id")]
    if request.endpoint in MERGE_ENDPOINTS:
        named.append((MERGE_ENDPOINTS[request.endpoint], request.form.get("other_id", "")))
    asked += [(kind, int(value)) for kind, value in named if value.isascii() and value.isdigit() and len(value) < 10]
    return asked


def _request_actor_id() -> int | None:
    user = g.get("api_user")
    if user is None and current_user and current_user.is_authenticated:
        user = current_user
    return getattr(user, "id", None) if user is not None else None


def _record_denial() -> None:
    try:
        asked = _asked_for()
    except Exception:  # a body that can't be read as a form: nothing to name
        return
    actor_id = _request_actor_id() if asked else None
    if actor_id is None:
        return
    db.session.rollback()
    models = _models()
    since = utcnow() - DENY_WINDOW
    recent = db.session.execute(
        sa.select(AuditEvent.object_type, AuditEvent.object_id)
        .where(AuditEvent.actor_id == actor_id, AuditEvent.action == AuditAction.DENY, AuditEvent.at >= since)
        .limit(DENY_CAP)).all()
    existing = []
    for kind, record_id in asked:
        model = models[kind]
        if (kind, record_id) not in {tuple(row) for row in recent} and db.session.scalar(
                sa.select(model.id).where(model.id == record_id)) is not None:
            existing.append((kind, record_id))
    db.session.rollback()  # the reads' transaction ends; the writes' own starts with a write
    written = len(recent)
    for kind, record_id in existing:
        if written >= DENY_CAP:
            break
        written += 1
        details = {"context": endpoint(), "method": request.method}
        if written == DENY_CAP:
            details["capped"] = True
        _add(AuditAction.DENY, actor_id, kind, record_id, details)
    if existing:
        db.session.commit()


# --- POLE collection and alteration, combination, erasure ---------------------------------------------

def pole_changed(record_obj: Any, *, actor: User | None, fields: Iterable[str], created: bool = False,
                 **details: Any) -> AuditEvent | None:
    """A POLE record made or changed: bump its revision and write CREATE/UPDATE with the field names (never
    the values). Nothing changed (no fields, not new): nothing written."""
    fields = sorted(set(fields))
    if not created and not fields:
        return None
    record_obj.revision = 1 if created else (record_obj.revision or 1) + 1
    db.session.flush()
    return record(AuditAction.CREATE if created else AuditAction.UPDATE, record_obj, actor=actor,
                  revision=record_obj.revision, fields=fields, context=endpoint(), **details)


def combined(keep: Any, merged: Any, *, actor: User | None, object_type: str | None = None,
             **details: Any) -> AuditEvent:
    """Two records of one real thing combined (a merge): on the survivor, naming both (see the docstring)."""
    keep_id, merged_id = keep.id, merged.id
    return record(AuditAction.COMBINE, actor=actor, object_type=object_type or _type_of(keep), object_id=keep_id,
                  survivor=keep_id, merged=merged_id, ids=[keep_id, merged_id], context=endpoint(), **details)


_TOKEN = re.compile(r"^[\w.:+-]{0,64}$")


def _is_metadata(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, date, datetime)):
        return True
    if isinstance(value, str):
        return bool(_TOKEN.match(value))
    if isinstance(value, (list, tuple)):
        return all(_is_metadata(item) for item in value)
    if isinstance(value, dict):
        return all(_TOKEN.match(str(key)) and _is_metadata(item) for key, item in value.items())
    return False


def erased(object_type: str, object_id: int | None, *, actor: User | None, **metadata: Any) -> AuditEvent:
    """An erasure (disposal, a discarded outbox): metadata only, as the ICO asks of an erasure log.

    `metadata` holds ids, kinds, counts, dates and short tokens (e.g. kind="welfare_check",
    decision_id=12, links=3, reviewed_on="2032-01-01"); anything with spaces or longer than 64
    characters is refused (ValueError): a name or a note has no place in an erasure log.
    """
    for key, value in metadata.items():
        if not _is_metadata(value):
            raise ValueError(f"erasure metadata {key!r} must be ids, counts, dates or short tokens, not text")
    clean = {key: value.isoformat() if isinstance(value, (date, datetime)) else value
             for key, value in metadata.items()}
    return record(AuditAction.ERASE, actor=actor, object_type=object_type, object_id=object_id,
                  context=endpoint(), **clean)


# --- reading: what names a record (the one place that reads inside details in SQL) -----------------
def _listed_ids(keys: tuple[str, ...]):
    """SQLite: a table of the elements of details[keys...] (empty unless it is an array)."""
    path = "$" + "".join(f'."{key}"' for key in keys)
    path = sa.case((sa.func.json_type(AuditEvent.details, path) == "array", path), else_="$.no_such_key")
    return sa.func.json_each(AuditEvent.details, path).table_valued("value").alias("listed")


def _nested(keys: tuple[str, ...], value) -> dict:
    for key in reversed(keys):
        value = {key: value}
    return value


def lists_any(ids: Iterable[int], *, keys: tuple[str, ...] = ("ids",),
              dialect: str | None = None) -> sa.ColumnElement[bool]:
    """True for an event whose details[keys...] (details.ids unless told) holds any of `ids`.

    PostgreSQL: containment (`details::jsonb @> {"ids": [42]}`), which the GIN index of migration 0017 answers
    (a value that is not an array contains nothing); SQLite: json_each over the array, guarded the same way.
    """
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return sa.false()
    if not all(key.replace("_", "").isalnum() for key in keys):
        raise ValueError(f"not a details key: {keys!r}")
    dialect = dialect or db.session.get_bind().dialect.name
    if dialect == "postgresql":
        details = sa.cast(AuditEvent.details, JSONB)
        return sa.or_(*[details.contains(_nested(keys, [i])) for i in wanted])
    listed = _listed_ids(keys)
    return sa.exists(sa.select(sa.literal(1)).select_from(listed).where(listed.c.value.in_(wanted)))


def names_records(object_type: str, ids: Iterable[int], *, dialect: str | None = None) -> sa.ColumnElement[bool]:
    """Events naming any of the records `ids` of `object_type`: as their object, or in their details.ids."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return sa.false()
    return ((AuditEvent.object_type == object_type)
            & (AuditEvent.object_id.in_(wanted) | lists_any(wanted, dialect=dialect))) \
        | lists_any(wanted, keys=("records", object_type, "ids"), dialect=dialect)


def events_naming(object_type: str, object_id: int):  # "who has viewed this record"
    return names_records(object_type, (object_id,))


def init_audit(app: Flask) -> None:
    """The request-wide part: the consultation event at commit or after the response is made, and denials."""
    app.after_request(_after_request)
    if not getattr(init_audit, "_listening", False):
        sa.event.listen(sa.orm.Session, "before_commit", _before_commit)
        init_audit._listening = True
