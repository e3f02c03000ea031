"""Which audit events name a record: the one place that reads inside `audit_event.details` in SQL.

An event names a record in one of two ways: its own object (`object_type`, `object_id`), or, for a page
that showed many records at once (a list, a beat page, a profile's timeline, the review queue), by listing
their ids in `details["ids"]` under the same `object_type` (`{"ids": [...], "count": N, "context": endpoint}`,
written by the consultation helper in pcso/audit.py). Both count: "who has viewed this child's record"
includes everyone whose list showed it.

The JSON functions differ: SQLite has `json_each` over the stored text, PostgreSQL (where the column is
`json`) `jsonb_array_elements_text` over its cast to `jsonb`. Both are guarded so a `details["ids"]` that is
not an array names nothing (and never raises). Everything else here is plain SQL on both.

The object part uses the (object_type, object_id) index; the membership part scans the events of that
type within the date window the page asks for (docs: an index on `details` would be the auditlog helper's
table; at this scale the window suffices).
"""
from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from ..extensions import db
from ..models import AuditEvent


def dialect_name() -> str:
    return db.session.get_bind().dialect.name


def _listed_ids(dialect: str):
    """A table of the text of each element of details.ids (empty unless it is an array)."""
    if dialect == "postgresql":
        ids = sa.cast(AuditEvent.details, JSONB)["ids"]
        array = sa.case((sa.func.jsonb_typeof(ids) == "array", ids), else_=sa.cast(sa.literal("[]"), JSONB))
        return sa.func.jsonb_array_elements_text(array).table_valued("value").alias("listed")
    path = sa.case((sa.func.json_type(AuditEvent.details, "$.ids") == "array", "$.ids"), else_="$.no_such_key")
    return sa.func.json_each(AuditEvent.details, path).table_valued("value").alias("listed")


def lists_any(ids: Iterable[int], *, dialect: str | None = None) -> sa.ColumnElement[bool]:
    """True for an event whose details.ids holds any of `ids`."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return sa.false()
    dialect = dialect or dialect_name()
    listed = _listed_ids(dialect)
    if dialect == "postgresql":  # elements as text: '123'
        match = listed.c.value.in_([str(i) for i in wanted])
    else:  # json_each gives integers as integers
        match = listed.c.value.in_(wanted)
    return sa.exists(sa.select(sa.literal(1)).select_from(listed).where(match))


def names_records(object_type: str, ids: Iterable[int], *, dialect: str | None = None) -> sa.ColumnElement[bool]:
    """Events naming any of the records `ids` of `object_type`: as their object, or in their details.ids."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return sa.false()
    return (AuditEvent.object_type == object_type) & (
        AuditEvent.object_id.in_(wanted) | lists_any(wanted, dialect=dialect))


def utc_hour(column, *, dialect: str | None = None):
    """The UTC hour an instant falls in, as text 'YYYY-MM-DD HH' (London hours are whole hours off UTC)."""
    dialect = dialect or dialect_name()
    if dialect == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return sa.func.strftime("%Y-%m-%d %H", column)
