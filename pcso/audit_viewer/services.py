"""The auditor's own trail: each audit page is a VIEW of 'audit', each export a DISCLOSE, and the CSV itself.

Watching the watchers: an auditor's searches of the log are in the log, with what they asked for and how
many events came back; an export records its purpose and recipient before a byte leaves (s.62).

The CSV: UTF-8 with a byte-order mark, CRLF. `# OFFICIAL-SENSITIVE` first and last (who looked at a child's
record is itself sensitive), then `# exported_at`, `# exported_by`, `# purpose`, `# recipient`, `# filters`,
`# rows`, `# audit_event` rows, the header and one row per event, newest first, read in batches on a
connection of its own (memory stays flat). Every text cell goes through lists.exports.safe_cell: a display
name or a search term starting = + - @ is shown, never run, by a spreadsheet.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import sqlalchemy as sa

from .. import audit
from ..lists.exports import read_rows, safe_cell
from ..models import AuditAction, AuditEvent, Beat, Entry, SecurityMarking, User
from ..timeutil import to_london, utcnow
from .queries import AuditQuery

AUDIT = "audit"  # object_type of the auditor's own events
EXPORT_MARKING = SecurityMarking.OFFICIAL_SENSITIVE
CSV_COLUMNS = ("event_id", "at", "actor_collar", "actor_name", "action", "object_type", "object_id",
               "entry_kind", "entry_beat", "entry_marking", "details")
CHUNK_ROWS = 500


def record_audit_view(page: str, query: AuditQuery | None, *, actor: User, results: int | None = None,
                      **details) -> AuditEvent:
    terms = query.audit_terms() if query is not None else {}
    return audit.record(AuditAction.VIEW, actor=actor, object_type=AUDIT, page=page, terms=terms,
                        **({"results": results} if results is not None else {}), **details)


def record_audit_export(query: AuditQuery, *, rows: int, up_to: int | None, purpose: str, recipient: str,
                        actor: User) -> AuditEvent:
    return audit.record(AuditAction.DISCLOSE, actor=actor, object_type=AUDIT, format="csv", purpose=purpose,
                        recipient=recipient, filters=query.audit_terms(), rows=rows, up_to_event=up_to,
                        marking=EXPORT_MARKING.value)


def export_query(query: AuditQuery, up_to: int | None) -> sa.Select:
    """One flat SELECT: the events, their actor, and for an entry its kind, beat and marking (no content)."""
    e, user, entry, beat = AuditEvent.__table__, User.__table__, Entry.__table__, Beat.__table__
    joined = (e.outerjoin(user, user.c.id == e.c.actor_id)
              .outerjoin(entry, (e.c.object_type == "entry") & (entry.c.id == e.c.object_id))
              .outerjoin(beat, beat.c.id == entry.c.beat_id))
    statement = (sa.select(e.c.id, e.c.at, user.c.collar_number, user.c.display_name, e.c.action, e.c.object_type,
                           e.c.object_id, entry.c.kind, beat.c.code, entry.c.marking, e.c.details)
                 .select_from(joined).where(*query.clauses()).order_by(e.c.at.desc(), e.c.id.desc()))
    return statement.where(e.c.id <= up_to) if up_to is not None else statement.where(sa.false())


def _csv(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    elif hasattr(value, "isoformat"):
        value = to_london(value).isoformat(timespec="seconds")
    elif not isinstance(value, (int, float)):
        value = str(getattr(value, "value", value))
    return safe_cell(value)


def export_stream(query: AuditQuery, *, event: AuditEvent, rows: int, up_to: int | None, actor: User,
                  purpose: str, recipient: str) -> Iterator[bytes]:
    """The file as chunks. Everything it needs is read now: the generator runs after the view has committed."""
    marking = f"# {EXPORT_MARKING.value}"
    head = [[marking], ["# exported_at", to_london(event.at or utcnow()).isoformat(timespec="seconds")],
            ["# exported_by", safe_cell(actor.collar_number)], ["# purpose", safe_cell(purpose)],
            ["# recipient", safe_cell(recipient)],
            ["# filters", safe_cell(json.dumps(query.audit_terms(), ensure_ascii=False, sort_keys=True))],
            ["# rows", rows], ["# audit_event", event.id], list(CSV_COLUMNS)]
    statement = export_query(query, up_to)

    def generate() -> Iterator[bytes]:
        yield "\ufeff".encode("utf-8") + _csv(head)
        chunk: list[list] = []
        for row in read_rows(statement):
            chunk.append([_cell(value) for value in row])
            if len(chunk) >= CHUNK_ROWS:
                yield _csv(chunk)
                chunk = []
        chunk.append([marking])
        yield _csv(chunk)

    return generate()
