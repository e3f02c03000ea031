"""CSV and GeoJSON exports of a filtered list, streamed row by row.

What leaves, and how:
- The rows are the list's rows: EntryFilter.clauses() carries access.visible_entries() and drops drafts.
  Restricted fields (access.RESTRICTED_FIELDS: an intelligence source's details) are never selected.
  Welfare checks (s.37, collect and share no more than needed) give only their risk level and next
  visit date: no child's name, words, observations or indicators. A single check's PDF has the rest.
- One flat SELECT (entry joined to beat and author, outer-joined to each kind's table): no N+1 and no
  ORM objects, read in batches (yield_per; a server-side cursor on PostgreSQL) and written out in chunks.
  Memory stays flat however many rows (bench/export_1m.py, docs/PERFORMANCE.md).
- export_summary() gives the count, the highest id and the marking with one aggregate query, before the
  view records the disclosure and commits; the stream then reads rows up to that id only, so new
  entries logged meanwhile are not in a file whose count was audited without them.
- SQLite: the POST that records the disclosure runs BEGIN IMMEDIATE (pcso/database.py), and any
  transaction the same request began later would take the write lock too, holding every other writer
  off for the whole download. So once the disclosure is committed the view calls
  database.read_only_from_here(), and the stream's transaction begins deferred.

CSV: UTF-8 with a byte-order mark (Excel reads it as UTF-8), comma-separated, CRLF. The first rows are
`# ` metadata rows, the marking first: `# OFFICIAL-SENSITIVE`, then `# exported_at,<ISO>`,
`# exported_by,<collar>`, `# purpose,…`, `# recipient,…`, `# filters,…`, `# rows,<n>`,
`# audit_event,<id>` (and for an export approved by a second person `# export_request,<id>` and
`# approved_by,<collar>`); when any row is an intelligence report with handling code C, a
`# handling_code_C,<what it means>` row and one `# conditions,<entry id>,<the conditions>` row per report
(up to CONDITIONS_LISTED, then a row saying how many more); then the header row and the data (each such
report's conditions in its `intel_handling_conditions` column too); the handling code C row again before
the last row, which is the marking again.
A spreadsheet shows them as rows above and below the table; pandas.read_csv(..., comment="#") and
Python's csv (skip rows whose first cell starts with "#") read the table alone. Text cells starting with
= + - @ (or a tab or carriage return) get a leading ' so a spreadsheet shows them instead of running them.

GeoJSON: a FeatureCollection with top-level "marking" and "metadata" (marking, exported_at, exported_by,
purpose, recipient, filters, filters_description, count, audit_event, columns; handling_conditions, a list
of {"id", "conditions"} for each handling code C report, and conditions_apply, their number), then
"features": one Point per entry ([lon, lat], or a null geometry for an entry without a location), id =
entry id, properties = the CSV columns less lat and lon (a C report's conditions in intel_handling_conditions).
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from ..entries.kinds.base import export_value
from ..entries.registry import KINDS
from ..extensions import db
from ..models import AuditEvent, Beat, Entry, EntryKind, HandlingCode, IntelligenceReport, SecurityMarking, User
from ..timeutil import to_london, utcnow

BATCH = 2_000  # rows fetched per round trip
CHUNK_ROWS = 500  # rows written per chunk sent
CONDITIONS_LISTED = 200  # handling code C reports whose conditions the file's header lists one by one


@dataclass(frozen=True)
class Format:
    mimetype: str
    extension: str


FORMATS = {
    "csv": Format("text/csv; charset=utf-8", "csv"),
    "geojson": Format("application/geo+json", "geojson"),
}


@dataclass(frozen=True)
class ExportSummary:
    count: int
    max_id: int | None
    marking: SecurityMarking
    conditions: tuple[tuple[int, str], ...] = ()  # (entry id, conditions) of handling code C reports, listed
    conditions_count: int = 0  # all of them (more than CONDITIONS_LISTED are in the column only)

    @property
    def needs_approval(self) -> bool:
        """An OFFICIAL-SENSITIVE bulk export needs a second person's approval before it streams."""
        return self.marking == SecurityMarking.OFFICIAL_SENSITIVE


def export_summary(clauses, max_id: int | None = None) -> ExportSummary:
    """Count, highest id and marking of the rows an export will hold (one aggregate query, no rows loaded), and
    the handling code C conditions that must travel with it. `max_id` bounds the rows (a frozen request)."""
    if max_id is not None:
        clauses = [*clauses, Entry.id <= max_id]
    sensitive = sa.func.max(sa.case((Entry.marking == SecurityMarking.OFFICIAL_SENSITIVE, 1), else_=0))
    count, top, any_sensitive = db.session.execute(
        sa.select(sa.func.count(Entry.id), sa.func.max(Entry.id), sensitive).where(*clauses)).one()
    marking = SecurityMarking.OFFICIAL_SENSITIVE if any_sensitive else SecurityMarking.OFFICIAL
    conditions, conditions_count = (), 0
    if count:
        intel = IntelligenceReport.__table__.alias("conditions_intel")
        where = [*clauses, Entry.kind == EntryKind.INTELLIGENCE_REPORT,
                 sa.exists().where(intel.c.id == Entry.id, intel.c.handling_code == HandlingCode.CONDITIONS)]
        conditions_count = db.session.scalar(sa.select(sa.func.count(Entry.id)).where(*where))
        if conditions_count:
            listed = sa.select(Entry.id).where(*where).order_by(Entry.id).limit(CONDITIONS_LISTED).subquery()
            conditions = tuple(db.session.execute(
                sa.select(intel.c.id, intel.c.handling_conditions).join(listed, listed.c.id == intel.c.id)
                .order_by(intel.c.id)).tuples())
    return ExportSummary(count=count, max_id=top, marking=marking, conditions=conditions,
                         conditions_count=conditions_count)


def conditions_notice(count: int) -> str:
    return (f"{count} intelligence report{'s' if count != 1 else ''} in this file {'are' if count != 1 else 'is'} "
            "handling code C: lawful sharing only on the conditions recorded with each (listed here and in the "
            "intel_handling_conditions column). The conditions travel with the data.")


def export_filename(fmt: str, today: date) -> str:
    return f"beatbook-entries-{today.isoformat()}.{FORMATS[fmt].extension}"


# --- the rows -------------------------------------------------------------------------------------

COMMON_COLUMNS = (
    "id", "kind", "status", "occurred_at", "beat_code", "beat_name", "summary", "lat", "lon", "location_text",
    "marking", "author_collar",
)
COMMON_TEXT = frozenset({"beat_name", "summary", "location_text", "author_collar", "beat_code"})
# Then each kind's columns, from the registry (pcso/entries/kinds/): welfare checks give no more than their risk
# level and next visit (s.37), intelligence never who the source is.
KIND_COLUMNS = tuple(column for spec in KINDS.values() for column in spec.export_columns)
COLUMNS = COMMON_COLUMNS + tuple(column.name for column in KIND_COLUMNS if not column.hidden)
TEXT_COLUMNS = COMMON_TEXT | {column.name for column in KIND_COLUMNS if column.is_text}
SELECTED = COMMON_COLUMNS + tuple(column.name for column in KIND_COLUMNS if column.select is not None)


def export_query(clauses, max_id: int | None) -> sa.Select:
    """One flat SELECT: the entry, its beat and author, outer-joined to each kind's table."""
    e, beat, author = Entry.__table__, Beat.__table__, User.__table__
    joined = e.join(beat, beat.c.id == e.c.beat_id).join(author, author.c.id == e.c.author_id)
    selected = []
    for spec in KINDS.values():
        table = spec.table
        joined = joined.outerjoin(table, table.c.id == e.c.id)
        if spec.export_join is not None:
            joined = spec.export_join(joined, table)
        selected += [column.select(table).label(column.name) for column in spec.export_columns if column.select]
    query = (sa.select(
        e.c.id, e.c.kind, e.c.status, e.c.occurred_at, beat.c.code, beat.c.name, e.c.summary, e.c.lat, e.c.lon,
        e.c.location_text, e.c.marking, author.c.collar_number, *selected,
    ).select_from(joined).where(*clauses).order_by(e.c.occurred_at.desc(), e.c.id.desc()))
    if max_id is not None:
        query = query.where(e.c.id <= max_id)
    return query


def row_values(row) -> dict:
    raw = dict(zip(SELECTED, row, strict=True))
    for column in KIND_COLUMNS:
        if column.derive is not None:
            raw[column.name] = column.derive(raw)
    return {name: export_value(raw[name]) for name in COLUMNS}


# --- reading ---------------------------------------------------------------------------------------


def read_rows(query: sa.Select) -> Iterator:
    """The query's rows in batches, on a connection of its own (a server-side cursor on PostgreSQL).

    The view calls database.read_only_from_here() once the disclosure is committed, so on SQLite this
    read takes no write lock for the length of the download (each SELECT reads one snapshot under WAL).
    """
    with db.engine.connect() as connection:
        result = connection.execution_options(yield_per=BATCH).execute(query)
        for partition in result.partitions():
            yield from partition


# --- the files --------------------------------------------------------------------------------------

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A cell a spreadsheet shows rather than runs (CSV injection): text starting = + - @ gets a leading '."""
    if isinstance(value, str) and value.startswith(DANGEROUS_START):
        return "'" + value
    return value


def _csv_text(rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(rows)
    return buffer.getvalue()


def metadata(summary: ExportSummary, *, event: AuditEvent, actor: User, purpose: str, recipient: str, filters,
             description: str, approval=None) -> dict:
    meta = {
        "marking": summary.marking.value,
        "exported_at": to_london(event.at or utcnow()).isoformat(timespec="seconds"),
        "exported_by": actor.collar_number,
        "purpose": purpose,
        "recipient": recipient,
        "filters": filters.to_args(),
        "filters_description": description,
        "count": summary.count,
        "audit_event": event.id,
    }
    if approval is not None:
        meta["export_request"] = approval.id
        meta["approved_by"] = approval.decided_by.collar_number
    meta["handling_conditions"] = [{"id": entry_id, "conditions": text} for entry_id, text in summary.conditions]
    meta["conditions_apply"] = summary.conditions_count
    return meta


def csv_stream(query: sa.Select, meta: dict) -> Iterator[bytes]:
    marking = f"# {meta['marking']}"
    head = [[marking]] + [[f"# {name}", safe_cell(str(meta[name]))] for name in
                          ("exported_at", "exported_by", "purpose", "recipient")]
    head += [["# filters", safe_cell(meta["filters_description"])], ["# rows", meta["count"]],
             ["# audit_event", meta["audit_event"]]]
    head += [[f"# {name}", meta[name]] for name in ("export_request", "approved_by") if name in meta]
    conditions = []
    if meta["conditions_apply"]:
        conditions = [["# handling_code_C", conditions_notice(meta["conditions_apply"])]]
        head += conditions + [["# conditions", item["id"], safe_cell(item["conditions"])]
                              for item in meta["handling_conditions"]]
        if meta["conditions_apply"] > len(meta["handling_conditions"]):
            more = meta["conditions_apply"] - len(meta["handling_conditions"])
            head.append(["# conditions", "", f"and {more} more: see the intel_handling_conditions column"])
    head.append(list(COLUMNS))
    yield ("\ufeff" + _csv_text(head)).encode("utf-8")
    chunk: list[list] = []
    for row in read_rows(query):
        values = row_values(row)
        chunk.append([safe_cell(values[name]) if name in TEXT_COLUMNS else values[name] for name in COLUMNS])
        if len(chunk) >= CHUNK_ROWS:
            yield _csv_text(chunk).encode("utf-8")
            chunk = []
    chunk += conditions + [[marking]]
    yield _csv_text(chunk).encode("utf-8")


def geojson_stream(query: sa.Select, meta: dict) -> Iterator[bytes]:
    head = {"type": "FeatureCollection", "marking": meta["marking"],
            "metadata": {**meta, "columns": [c for c in COLUMNS if c not in ("lat", "lon")]}}
    opening = json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n'
    yield opening.encode("utf-8")
    parts: list[str] = []
    first = True
    for row in read_rows(query):
        values = row_values(row)
        lat, lon = values.pop("lat"), values.pop("lon")
        geometry = {"type": "Point", "coordinates": [lon, lat]} if lat is not None and lon is not None else None
        feature = json.dumps({"type": "Feature", "id": values["id"], "geometry": geometry, "properties": values},
                             ensure_ascii=False)
        parts.append(feature if first else ",\n" + feature)
        first = False
        if len(parts) >= CHUNK_ROWS:
            yield "".join(parts).encode("utf-8")
            parts = []
    parts.append("\n]}\n")
    yield "".join(parts).encode("utf-8")


def export_stream(fmt: str, clauses, summary: ExportSummary, *, event: AuditEvent, actor: User, purpose: str,
                  recipient: str, filters, description: str, approval=None) -> Iterator[bytes]:
    """The file as chunks of bytes. Everything it needs is read now, not in the generator, which runs after
    the view has committed and returned."""
    meta = metadata(summary, event=event, actor=actor, purpose=purpose, recipient=recipient, filters=filters,
                    description=description, approval=approval)
    query = export_query(clauses, summary.max_id)
    if summary.count == 0:
        query = query.where(sa.false())
    return csv_stream(query, meta) if fmt == "csv" else geojson_stream(query, meta)
