"""Importing a data.police.uk street-level crime file into `street_crime`, each row on the beat its point falls in.

Rows outside every beat and rows without coordinates are counted, not stored; `row_key` makes an import
idempotent. Nothing here commits: `import_street_crimes` flushes and audits, the caller commits once per file.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .. import audit
from ..beats.services import beat_index
from ..extensions import db
from ..geo import BeatIndex
from ..models import AuditAction, StreetCrime, User
from ..timeutil import utcnow
from .police_uk import ATTRIBUTES, MalformedRow, RowKeys, StreetCrimeRow, read_rows

BATCH_SIZE = 1000
_TABLE = StreetCrime.__table__  # Core inserts: the ORM's bulk path costs twice as much per row


@dataclass
class ImportSummary:
    """What one import did. ``read`` = imported + already_present + without_coordinates +
    outside_beats + malformed; ``asb`` counts the anti-social behaviour rows among the good ones."""

    file: str = ""
    read: int = 0
    imported: int = 0
    already_present: int = 0
    without_coordinates: int = 0
    outside_beats: int = 0
    malformed: int = 0
    asb: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)

    COUNTS = ("read", "imported", "already_present", "without_coordinates", "outside_beats", "malformed", "asb")

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.COUNTS}

    def add(self, other: ImportSummary) -> None:
        for name in self.COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def describe(self) -> str:
        return (f"{self.read} rows read: {self.imported} imported, {self.already_present} already present, "
                f"{self.without_coordinates} without coordinates, {self.outside_beats} outside every beat, "
                f"{self.malformed} malformed; {self.asb} anti-social behaviour rows.")


def _insert_ignoring_duplicates():
    """INSERT ... ON CONFLICT (row_key) DO NOTHING, in each dialect's own words.

    The keys are checked first, so a conflict only happens when another import of the same
    rows commits meanwhile (PostgreSQL; SQLite holds the write lock for the whole file).
    """
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(_TABLE).on_conflict_do_nothing(index_elements=["row_key"])
    if dialect == "sqlite":
        return sqlite.insert(_TABLE).on_conflict_do_nothing(index_elements=["row_key"])
    return sa.insert(_TABLE)


def _store(batch: list[tuple[str, StreetCrimeRow]], index: BeatIndex, summary: ImportSummary,
           source_file: str) -> None:
    beat_ids = index.locate_many((row.lat, row.lon) for _, row in batch)
    inside = [(key, row, beat_id) for (key, row), beat_id in zip(batch, beat_ids) if beat_id is not None]
    summary.outside_beats += len(batch) - len(inside)
    if not inside:
        return
    existing = set(db.session.scalars(
        sa.select(StreetCrime.row_key).where(StreetCrime.row_key.in_([key for key, _, _ in inside]))))
    new = [(key, row, beat_id) for key, row, beat_id in inside if key not in existing]
    summary.already_present += len(inside) - len(new)
    if not new:
        return
    now = utcnow()
    db.session.execute(_insert_ignoring_duplicates(), [
        {**{name: getattr(row, name) for name in ATTRIBUTES}, "row_key": key, "beat_id": beat_id,
         "source_file": source_file, "imported_at": now}
        for key, row, beat_id in new
    ])
    summary.imported += len(new)


def import_street_crimes(handle: TextIO, *, source_file: str, actor: User | None = None,
                         progress: Callable[[int], None] | None = None) -> ImportSummary:
    """Import one street-level crime file from an open text handle (``newline=""``, UTF-8).

    Malformed rows are counted and listed in ``problems`` with their line numbers; the rest go
    on. ``progress`` is called with the number of lines read since its last call. Raises
    PoliceUkFileError for a file that is not this format. Flushes and audits; never commits.
    """
    source_file = source_file[:200]
    summary = ImportSummary(file=source_file)
    index = beat_index()
    keys = RowKeys()
    batch: list[tuple[str, StreetCrimeRow]] = []
    done = 1
    for first, last, row in read_rows(handle):
        if progress is not None:
            progress(last - done)
            done = last
        if row is None:
            continue
        summary.read += 1
        if isinstance(row, MalformedRow):
            summary.malformed += 1
            summary.problems.append((first, str(row)))
            continue
        key = keys(row)
        summary.asb += row.is_asb
        if not row.has_location:
            summary.without_coordinates += 1
            continue
        batch.append((key, row))
        if len(batch) >= BATCH_SIZE:
            _store(batch, index, summary, source_file)
            batch = []
    if batch:
        _store(batch, index, summary, source_file)
    audit.record(AuditAction.IMPORT, actor=actor, object_type="street_crime", file=source_file,
                 **summary.counts())
    return summary
