"""The audit log as the auditor reads it: one typed filter, one keyset-paginated query, metadata of records.

Parameters (GET, an interface: the unusual-access report and the audit home link with them):

    collar=PC1001         events by that officer          action=view  repeatable (AuditAction values)
    type=entry  id=123    events naming that record (as object, or in details.ids)
    from=YYYY-MM-DD  to=YYYY-MM-DD   London dates, inclusive    before=<event id>  the keyset cursor

Pages are newest first, ordered by (at, id) and continued "before" an event: the (actor_id, at) and (at)
indexes drive them, and a page never skips or repeats an event however many arrive meanwhile.
Parsing raises AuditFilterError (a message for the page, answered 400). Nothing from the request names a column.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..models import AuditAction, AuditEvent, Beat, Entry, EntryKind, Link, SecurityMarking, User, WelfareCheck
from ..timeutil import london_day_start, london_today
from ..web import MAX_DB_INT
from .matching import names_records, unindexed

PER_PAGE = 50
# Record types an auditor can pick (object_type values written by audit.record) and how each is named.
RECORD_TYPES = {"entry": "Entry", "person": "Person", "vehicle": "Vehicle", "location": "Location",
                "organisation": "Organisation", "photo": "Photo", "user": "Officer account"}
POLE_TYPES = ("person", "vehicle", "location", "organisation")
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
MAX_ACTIONS = len(AuditAction)


class AuditFilterError(ValueError):
    """A filter value that cannot be read; str() is the message for the page."""


def _one(args, name: str) -> str | None:
    values = [str(v).strip() for v in args.getlist(name) if str(v).strip()]
    if len(set(values)) > 1:
        raise AuditFilterError(f"Give one “{name}” value, not {len(values)}.")
    return values[0] if values else None


def _number(value: str | None, what: str) -> int | None:
    if value is None:
        return None
    value = value.lstrip("#")
    if not value.isdigit() or not 0 < int(value) <= MAX_DB_INT:
        raise AuditFilterError(f"“{value[:40]}” is not {what}.")
    return int(value)


def _day(value: str | None, what: str) -> date | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise AuditFilterError(f"“{value[:40]}” is not a date for “{what}”: use YYYY-MM-DD.") from None
    if not EARLIEST <= day <= LATEST:
        raise AuditFilterError(f"The “{what}” date must be between {EARLIEST} and {LATEST}.")
    return day


def month_start(today: date) -> date:
    return today.replace(day=1)


@dataclass(frozen=True)
class AuditQuery:
    collar: str | None = None
    actor: User | None = None
    record_type: str | None = None
    record_id: int | None = None
    actions: tuple[AuditAction, ...] = ()
    from_on: date | None = None
    to_on: date | None = None
    before: int | None = None
    extra_ids: tuple[int, ...] = field(default=())  # more records of record_type (a person's entries), or none

    @classmethod
    def from_args(cls, args, *, default_month: bool) -> "AuditQuery":
        collar = _one(args, "collar")
        actor = None
        if collar is not None:
            collar = collar.upper()[:16]
            actor = db.session.scalar(sa.select(User).where(User.collar_number == collar))
            if actor is None:
                raise AuditFilterError(f"No officer has the collar number “{collar}”.")
        record_type, record_id = _one(args, "type"), _number(_one(args, "id"), "a record number")
        if record_type is not None and record_type not in RECORD_TYPES:
            raise AuditFilterError(f"“{record_type[:40]}” is not a record type. Choose one of: "
                                   f"{', '.join(RECORD_TYPES)}.")
        if record_id is not None and record_type is None:
            record_type = "entry"
        if record_type is not None and record_id is None:
            raise AuditFilterError("Give the record's number as well as its type.")
        names = {str(v).strip() for v in args.getlist("action") if str(v).strip()}
        if len(names) > MAX_ACTIONS or not names <= {a.value for a in AuditAction}:
            raise AuditFilterError("Choose actions from: " + ", ".join(a.value for a in AuditAction) + ".")
        from_on, to_on = _day(_one(args, "from"), "from"), _day(_one(args, "to"), "to")
        if default_month and from_on is None and to_on is None:
            from_on, to_on = month_start(london_today()), london_today()
        if from_on and to_on and from_on > to_on:
            raise AuditFilterError("The “from” date is after the “to” date.")
        return cls(collar=collar, actor=actor, record_type=record_type, record_id=record_id,
                   actions=tuple(a for a in AuditAction if a.value in names), from_on=from_on, to_on=to_on,
                   before=_number(_one(args, "before"), "an event number"))

    def to_args(self, **overrides) -> dict[str, Any]:
        """The filter as GET parameters (for links: the next page, the export, the same search)."""
        args = {"collar": self.collar, "type": self.record_type, "id": self.record_id,
                "action": [a.value for a in self.actions] or None,
                "from": self.from_on.isoformat() if self.from_on else None,
                "to": self.to_on.isoformat() if self.to_on else None, "before": self.before}
        args |= overrides
        return {name: value for name, value in args.items() if value not in (None, "", [])}

    def audit_terms(self) -> dict[str, Any]:
        """What the auditor asked for, as the audit event on their own page records it."""
        terms = self.to_args()
        terms.pop("before", None)
        if self.extra_ids:
            terms["with_linked"] = len(self.extra_ids)
        return terms

    @property
    def has_record(self) -> bool:
        return self.record_type is not None and self.record_id is not None

    def clauses(self) -> list[sa.ColumnElement[bool]]:
        clauses = []
        if self.actor is not None:
            clauses.append(AuditEvent.actor_id == self.actor.id)
        if self.has_record:
            clauses.append(names_records(self.record_type, (self.record_id,))
                           | (names_records("entry", self.extra_ids) if self.extra_ids else sa.false()))
        if self.actions:
            clauses.append(AuditEvent.action.in_(self.actions))
        if self.from_on:
            clauses.append(AuditEvent.at >= london_day_start(self.from_on))
        if self.to_on:
            clauses.append(AuditEvent.at < london_day_start(self.to_on + timedelta(days=1)))
        return clauses


@dataclass
class EventRow:
    event: AuditEvent
    actor: User | None
    entry: "EntryMeta | None" = None


@dataclass
class EventPage:
    rows: list[EventRow]
    next_before: int | None  # the cursor of the next (older) page, or None at the end
    notes: dict[int, str] = field(default_factory=dict)  # event id -> the note its remembered reason was given with

    def note_for(self, event: AuditEvent) -> str | None:
        details = event.details or {}
        if isinstance(details.get("note"), str):
            return details["note"]
        return self.notes.get(event.id)


def event_page(query: AuditQuery, *, per_page: int = PER_PAGE) -> EventPage:
    """One page of events, newest first, continuing before `query.before` (keyset on (at, id))."""
    statement = (sa.select(AuditEvent, User).outerjoin(User, User.id == AuditEvent.actor_id)
                 .where(*query.clauses()).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(per_page + 1))
    if query.before is not None:
        cursor_at = db.session.scalar(sa.select(AuditEvent.at).where(AuditEvent.id == query.before))
        if cursor_at is not None:
            statement = statement.where((AuditEvent.at < cursor_at)
                                        | ((AuditEvent.at == cursor_at) & (AuditEvent.id < query.before)))
    found = db.session.execute(statement).all()
    rows = [EventRow(event, actor) for event, actor in found[:per_page]]
    metas = entry_meta({row.event.object_id for row in rows if row.event.object_type == "entry"
                        and row.event.object_id is not None})
    for row in rows:
        if row.event.object_type == "entry":
            row.entry = metas.get(row.event.object_id)
    return EventPage(rows, rows[-1].event.id if len(found) > per_page else None, _reason_notes(rows))


def _reason_notes(rows: list[EventRow]) -> dict[int, str]:
    """For views that carry a remembered reason but not its note: the note, from the view it was given with
    (details.reason_event, or else that officer's latest earlier view of the record with a note)."""
    wanting = [row.event for row in rows if (row.event.details or {}).get("reason")
               and not isinstance((row.event.details or {}).get("note"), str)]
    notes: dict[int, str] = {}
    for event in wanting:
        ref, reason = event.details.get("reason_event"), event.details["reason"]
        earlier = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.id == ref) if isinstance(ref, int) else
            sa.select(AuditEvent).where(AuditEvent.actor_id == event.actor_id, AuditEvent.id < event.id,
                                        AuditEvent.object_type == event.object_type,
                                        AuditEvent.object_id == event.object_id, AuditEvent.action == event.action,
                                        AuditEvent.at >= event.at - timedelta(days=1))
            .order_by(AuditEvent.id.desc()).limit(50))
        given = next((e for e in earlier if (e.details or {}).get("reason") == reason
                      and isinstance((e.details or {}).get("note"), str)), None)
        if given is not None:
            notes[event.id] = given.details["note"]
    return notes


def count_events(query: AuditQuery, *, up_to: int | None = None) -> int:
    statement = sa.select(sa.func.count(AuditEvent.id)).where(*query.clauses())
    if up_to is not None:
        statement = statement.where(AuditEvent.id <= up_to)
    return db.session.scalar(statement)


def latest_event_id() -> int | None:
    return db.session.scalar(sa.select(sa.func.max(AuditEvent.id)))


# --- records, as metadata only -----------------------------------------------------------------------

@dataclass(frozen=True)
class EntryMeta:
    """What the auditor may know of an entry: never its content."""
    id: int
    kind: EntryKind
    marking: SecurityMarking
    beat_name: str
    author_id: int
    spoc_id: int | None = None

    @property
    def label(self) -> str:
        return f"{self.kind.label} #{self.id}"


def entry_meta(ids) -> dict[int, EntryMeta]:
    if not ids:
        return {}
    welfare = WelfareCheck.__table__
    rows = db.session.execute(
        sa.select(Entry.id, Entry.kind, Entry.marking, Beat.name, Entry.author_id, welfare.c.spoc_id)
        .join(Beat, Beat.id == Entry.beat_id).outerjoin(welfare, welfare.c.id == Entry.id)
        .where(Entry.id.in_(sorted(ids))))
    return {row[0]: EntryMeta(*row) for row in rows}


@dataclass(frozen=True)
class RecordMeta:
    record_type: str
    record_id: int
    exists: bool
    entry: EntryMeta | None = None
    linked: tuple[EntryMeta, ...] = ()  # for a person, vehicle...: the entries it is linked to

    @property
    def label(self) -> str:
        return self.entry.label if self.entry else f"{RECORD_TYPES[self.record_type]} #{self.record_id}"


def record_meta(record_type: str, record_id: int) -> RecordMeta:
    if record_type == "entry":
        meta = entry_meta({record_id}).get(record_id)
        return RecordMeta(record_type, record_id, meta is not None, entry=meta)
    if record_type in POLE_TYPES:
        column = getattr(Link, f"{record_type}_id")
        ids = set(db.session.scalars(sa.select(Link.entry_id).where(column == record_id).limit(200)))
        linked = tuple(sorted(entry_meta(ids).values(), key=lambda m: m.id, reverse=True))
        table = sa.table(record_type, sa.column("id"))
        exists = db.session.scalar(sa.select(sa.exists().where(table.c.id == record_id)))
        return RecordMeta(record_type, record_id, bool(exists), linked=linked)
    table = sa.table(record_type, sa.column("id"))
    exists = db.session.scalar(sa.select(sa.exists().where(table.c.id == record_id)))
    return RecordMeta(record_type, record_id, bool(exists))


def with_linked_entries(query: AuditQuery, meta: RecordMeta) -> AuditQuery:
    """A person's (vehicle's...) record together with the entries it is linked to: "who looked at this child"."""
    return replace(query, extra_ids=tuple(m.id for m in meta.linked))


# --- the audit home ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecentRecord:
    entry: EntryMeta
    last_at: datetime


def recent_sensitive_records(*, limit: int = 10, days: int = 30, batch: int = 500,
                             batches: int = 6) -> list[RecentRecord]:
    """The OFFICIAL-SENSITIVE entries most recently viewed, newest first: read down the `at` index in batches
    of view events until `limit` distinct records are found (or a bounded number of batches is read)."""
    since = london_day_start(london_today() - timedelta(days=days))
    base = (sa.select(AuditEvent.id, AuditEvent.object_id, AuditEvent.at)
            .join(Entry, Entry.id == AuditEvent.object_id)
            .where(AuditEvent.action == AuditAction.VIEW, unindexed(AuditEvent.object_type) == "entry",
                   AuditEvent.at >= since, Entry.marking == SecurityMarking.OFFICIAL_SENSITIVE)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(batch))
    seen: dict[int, datetime] = {}
    cursor = None
    for _ in range(batches):
        statement = base if cursor is None else base.where(
            (AuditEvent.at < cursor[1]) | ((AuditEvent.at == cursor[1]) & (AuditEvent.id < cursor[0])))
        rows = db.session.execute(statement).all()
        for _, object_id, at in rows:
            if object_id not in seen and len(seen) < limit:
                seen[object_id] = at
        if len(rows) < batch or len(seen) >= limit:
            break
        cursor = (rows[-1][0], rows[-1][2])
    metas = entry_meta(set(seen))
    return [RecentRecord(metas[i], at) for i, at in seen.items() if i in metas]


# --- showing an event's details -----------------------------------------------------------------------

SHOWN_APART = {"ids", "count", "digest", "records", "context", "reason", "note", "reason_event", "kind"}  # shown in their own columns
DETAIL_MAX = 120
PLURALS = {"entry": "entries", "person": "people", "held_submission": "held submissions"}


def _short(value) -> str:
    if isinstance(value, dict):
        text = ", ".join(f"{k}: {_short(v)}" for k, v in value.items())
    elif isinstance(value, list):
        text = ", ".join(_short(v) for v in value)
    else:
        text = str(value)
    return text if len(text) <= DETAIL_MAX else text[:DETAIL_MAX - 1] + "…"


def detail_items(details) -> list[tuple[str, str]]:
    """An event's details as short (name, text) pairs, without the ones the page shows in columns."""
    if not isinstance(details, dict):
        return []
    return [(name, _short(value)) for name, value in details.items() if name not in SHOWN_APART]


def _named_count(named) -> int:
    ids = named.get("ids") if isinstance(named, dict) else None
    count = named.get("count") if isinstance(named, dict) else None
    shown = len(ids) if isinstance(ids, list) else 0
    return count if isinstance(count, int) and count >= shown else shown


def listed_summary(details) -> str | None:
    """What a page that showed many records named ("in a list of 40", "shown with 12 entries, 3 persons"),
    or None for an event about one record."""
    if not isinstance(details, dict):
        return None
    if isinstance(details.get("ids"), list):
        return f"in a list of {_named_count(details)}"
    records = details.get("records")
    if not isinstance(records, dict):
        return None
    counts = {kind: _named_count(named) for kind, named in records.items()}
    if sum(counts.values()) <= 1:
        return None
    return "shown with " + ", ".join(f"{n} {kind.replace('_', ' ') if n == 1 else PLURALS.get(kind, kind + 's')}"
                                     for kind, n in counts.items() if n)
