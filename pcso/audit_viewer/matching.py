"""Which audit events name a record: the one place that reads inside `audit_event.details` in SQL.

An event names a record in one of three ways:
- as its own object (`object_type`, `object_id`: an entry's page, a profile, a merge's survivor);
- in `details["ids"]` under the same `object_type` (`{"ids": [...], "count": N, "context": endpoint}`: a page
  that listed many records of its type; a merge's `ids: [survivor, merged]`);
- in `details["records"][<type>]["ids"]`, whatever the event's own object (`{"records": {"entry": {"ids": [...],
  "count": N, "digest": ...}, "person": {...}}}`: the one consultation event per request that the s62 helper's
  pcso/audit.py writes, naming every record a response showed).
All count: "who has viewed this child's record" includes everyone whose list or page showed it.

The JSON functions differ: SQLite has `json_each` over the stored text; PostgreSQL (where the column is `json`)
asks containment of its cast to `jsonb`, which migration 0017's GIN index answers (6.6 s -> 2 ms for one record
over 300,000 events). Both are guarded so ids that are not an array name nothing (and never raise).

The object part uses the (object_type, object_id) index; on SQLite the membership parts scan the events within
the dates the page asks for (2.4 s for all time over 300,000 events on a loaded 2-core machine).
"""
from __future__ import annotations


import sqlalchemy as sa

from ..audit import lists_any, names_records  # noqa: F401 (the one helper: pcso/audit.py)
from ..extensions import db
from ..models import AuditEvent


def dialect_name() -> str:
    return db.session.get_bind().dialect.name


def utc_hour(column, *, dialect: str | None = None):
    """The UTC hour an instant falls in, as text 'YYYY-MM-DD HH' (London hours are whole hours off UTC)."""
    dialect = dialect or dialect_name()
    if dialect == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return sa.func.strftime("%Y-%m-%d %H", column)


def unindexed(column):
    """The column as an expression no index serves (`column || ''`), for a filter that must not drive the plan.

    SQLite, without ANALYZE statistics, takes `object_type = 'entry'` on the (object_type, object_id) index
    as selective and walks every entry event, then sorts; the pages that read "the latest events" must drive
    from the `at` index instead (measured: 2.0 s -> ms on 300,000 events). PostgreSQL plans either way.
    """
    return column.concat("")
