"""data.police.uk monthly street-level crime files: check, parse, import, and read back per beat.

A file is one force's `YYYY-MM-<force>-street.csv` from the monthly download. Its quirks, all in the
real files: anti-social behaviour rows have no Crime ID and no outcome; some rows have no coordinates
("No Location"); many rows lie outside the force's own area; locations are anonymised snap points
shared by many rows; a Crime ID now and then appears on two rows of one file (different snap points).

Rows are kept apart from the force's own entries, in `street_crime`, each on the beat its point falls
in. Rows outside every beat and rows without coordinates are counted, not stored. `row_key` makes an
import idempotent: the Crime ID where there is one, otherwise a digest of the row's content and its
occurrence number among identical rows in the file (two identical ASB rows at one snap point in one
month are two incidents). A Crime ID seen again in the same file is keyed by a digest of the ID and its
occurrence number, so both rows are kept and a re-import still adds nothing.

Nothing here commits: `import_street_crimes` flushes and audits, the caller commits once per file.
"""
from __future__ import annotations

import csv
import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TextIO

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .. import audit
from ..extensions import db
from ..geo import BeatIndex
from ..models import AuditAction, StreetCrime, User
from ..timeutil import utcnow

HEADER = ("Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
          "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context")
ATTRIBUTES = ("crime_id", "month", "reported_by", "falls_within", "lon", "lat", "location",
              "lsoa_code", "lsoa_name", "crime_type", "last_outcome", "context")
ASB = "Anti-social behaviour"
LAYER_LABEL = "data.police.uk street-level crime (public, monthly, approximate location)"
ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0 (data.police.uk)."
LATEST_MONTHS = 3  # the beat page shows this many of the newest months held for the beat
BATCH_SIZE = 1000

# The longest value each text column takes, from the model: a longer one makes the row malformed.
_LIMITS = {
    heading: StreetCrime.__table__.c[attribute].type.length
    for heading, attribute in zip(HEADER, ATTRIBUTES)
    if getattr(StreetCrime.__table__.c[attribute].type, "length", None)
}
_TABLE = StreetCrime.__table__  # Core inserts: the ORM's bulk path costs twice as much per row
_MONTH_RE = re.compile(r"(\d{4})-(\d{2})")
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class PoliceUkFileError(ValueError):
    """A whole file that cannot be imported (missing, not UTF-8 text, not this format). Fit to show."""


class MalformedRow(ValueError):
    """One row that cannot be used; str() is the reason, without the line number."""


@dataclass(frozen=True)
class StreetCrimeRow:
    """One checked row. Text fields are stripped; empty optional fields are None."""

    crime_id: str | None
    month: date
    reported_by: str
    falls_within: str
    lon: float | None
    lat: float | None
    location: str | None
    lsoa_code: str | None
    lsoa_name: str | None
    crime_type: str
    last_outcome: str | None
    context: str | None

    @property
    def has_location(self) -> bool:
        return self.lat is not None and self.lon is not None

    @property
    def is_asb(self) -> bool:
        return self.crime_type == ASB

    def normalised(self) -> str:
        """The row's content in one canonical string (coordinates to 6 places, as published)."""
        parts = []
        for name in ATTRIBUTES:
            value = getattr(self, name)
            if name in ("lat", "lon"):
                parts.append("" if value is None else f"{value:.6f}")
            elif name == "month":
                parts.append(f"{value:%Y-%m}")
            else:
                parts.append(value or "")
        return "\x1f".join(parts)


# --- checking and parsing ------------------------------------------------------------------------

def _short(value: str, limit: int = 30) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "…")


def check_header(fields: Sequence[str] | None) -> None:
    """Raise PoliceUkFileError unless ``fields`` is the street-level crime header."""
    if fields is None:
        raise PoliceUkFileError("the file is empty; expected a data.police.uk street-level crime CSV")
    got = [f.strip().lstrip("\ufeff") for f in fields]
    if got == list(HEADER):
        return
    missing = [h for h in HEADER if h not in got]
    extra = [h for h in got if h not in HEADER]
    if len(missing) == len(HEADER):
        why = "its first line is not the street-level crime header"
    elif missing:
        why = f"missing column(s) {', '.join(missing)}"
    elif extra:
        why = f"unexpected column(s) {', '.join(_short(e) for e in extra[:5])}"
    else:
        why = "the columns are in a different order"
    raise PoliceUkFileError(
        f"not a data.police.uk street-level crime file ({why}); the header must be: {','.join(HEADER)}"
    )


def parse_month(text: str) -> date:
    match = _MONTH_RE.fullmatch(text)
    if not match or not 1 <= int(match.group(2)) <= 12 or not 1970 <= int(match.group(1)) <= 2999:
        raise MalformedRow(f"Month {_short(text)} is not a month in the form YYYY-MM")
    return date(int(match.group(1)), int(match.group(2)), 1)


def _coordinate(text: str, heading: str, limit: float) -> float:
    value = float(text) if _NUMBER_RE.fullmatch(text) else math.nan
    if not math.isfinite(value):
        raise MalformedRow(f"{heading} {_short(text)} is not a number")
    if not -limit <= value <= limit:
        raise MalformedRow(f"{heading} {text} is out of range (-{limit:g} to {limit:g})")
    return value


def parse_row(fields: Sequence[str]) -> StreetCrimeRow:
    """Check one data row (the CSV fields in header order); raise MalformedRow saying why not."""
    if len(fields) != len(HEADER):
        raise MalformedRow(f"expected {len(HEADER)} fields, found {len(fields)}")
    values = dict(zip(HEADER, (f.strip() for f in fields)))
    for heading, limit in _LIMITS.items():
        if len(values[heading]) > limit:
            raise MalformedRow(f"{heading} is longer than {limit} characters")
    if not values["Crime type"]:
        raise MalformedRow("no Crime type")
    month = parse_month(values["Month"])
    lon_text, lat_text = values["Longitude"], values["Latitude"]
    if bool(lon_text) != bool(lat_text):
        raise MalformedRow("only one of Longitude and Latitude is given")
    lon = _coordinate(lon_text, "Longitude", 180.0) if lon_text else None
    lat = _coordinate(lat_text, "Latitude", 90.0) if lat_text else None
    return StreetCrimeRow(
        crime_id=values["Crime ID"] or None, month=month, reported_by=values["Reported by"],
        falls_within=values["Falls within"], lon=lon, lat=lat, location=values["Location"] or None,
        lsoa_code=values["LSOA code"] or None, lsoa_name=values["LSOA name"] or None,
        crime_type=values["Crime type"], last_outcome=values["Last outcome category"] or None,
        context=values["Context"] or None,
    )


def row_key(row: StreetCrimeRow, occurrence: int = 1) -> str:
    """The idempotency key of the ``occurrence``-th (1-based) row like this one in its file."""
    if row.crime_id and occurrence == 1:
        return row.crime_id
    basis = f"crime-id\x1f{row.crime_id}" if row.crime_id else f"row\x1f{row.normalised()}"
    return hashlib.sha256(f"{basis}\x1f{occurrence}".encode()).hexdigest()


class RowKeys:
    """Keys for the rows of one file, in file order: counts repeats of a Crime ID or of a keyless row."""

    def __init__(self) -> None:
        self._seen: Counter[str] = Counter()

    def __call__(self, row: StreetCrimeRow) -> str:
        ident = row.crime_id or hashlib.sha256(row.normalised().encode()).hexdigest()
        self._seen[ident] += 1
        return row_key(row, self._seen[ident])


Parsed = StreetCrimeRow | MalformedRow | None


def read_rows(handle: TextIO) -> Iterator[tuple[int, int, Parsed]]:
    """Check the header, then yield ``(first line, last line, row)`` for every record.

    ``row`` is a StreetCrimeRow, a MalformedRow (the problem), or None for a blank line. Line
    numbers count the header as line 1 and follow quoted fields over several lines.
    Raises PoliceUkFileError for a file that is not this format or not UTF-8 text.
    """
    reader = csv.reader(handle)
    try:
        check_header(next(reader, None))
        previous = reader.line_num
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                if reader.line_num == previous:  # the reader cannot move on: stop rather than loop
                    raise PoliceUkFileError(f"line {previous + 1}: {error}") from None
                yield previous + 1, reader.line_num, MalformedRow(f"not valid CSV ({error})")
                previous = reader.line_num
                continue
            start, previous = previous + 1, reader.line_num
            if not any(f.strip() for f in fields):
                yield start, previous, None
                continue
            try:
                yield start, previous, parse_row(fields)
            except MalformedRow as problem:
                yield start, previous, problem
    except UnicodeDecodeError:
        raise PoliceUkFileError(f"not UTF-8 text (after line {reader.line_num})") from None
    except csv.Error as error:
        raise PoliceUkFileError(f"not a CSV file ({error})") from None


def check_file(handle: TextIO) -> int:
    """Check the header and that the whole file is UTF-8 text; return its number of lines.

    Reads the file once, writes nothing: the CLI checks every file before importing any.
    """
    reader = csv.reader(handle)
    try:
        check_header(next(reader, None))
    except csv.Error as error:
        raise PoliceUkFileError(f"not a CSV file ({error})") from None
    except UnicodeDecodeError:
        raise PoliceUkFileError("not UTF-8 text") from None
    lines = reader.line_num
    try:
        for lines, _ in enumerate(handle, start=lines + 1):
            pass
    except UnicodeDecodeError:
        raise PoliceUkFileError(f"not UTF-8 text (after line {lines})") from None
    return lines


# --- importing -----------------------------------------------------------------------------------

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
    from ..beats.services import beat_index  # here, not at the top: pcso.beats' views import this module

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


# --- reading back --------------------------------------------------------------------------------

def _beat_filter(query: sa.Select, beat_ids: Iterable[int] | None) -> sa.Select:
    return query if beat_ids is None else query.where(StreetCrime.beat_id.in_(list(beat_ids)))


def latest_months(beat_ids: Iterable[int] | None = None, *, limit: int = LATEST_MONTHS) -> list[date]:
    """The newest ``limit`` months held for these beats (all beats for None), newest first."""
    query = _beat_filter(sa.select(StreetCrime.month).distinct(), beat_ids)
    return list(db.session.scalars(query.order_by(StreetCrime.month.desc()).limit(limit)))


def month_label(months: Sequence[date]) -> str:
    """"October 2025", or "August – October 2025" for a run of months."""
    if not months:
        return ""
    first, last = min(months), max(months)
    if first == last:
        return f"{last:%B %Y}"
    start = f"{first:%B}" if first.year == last.year else f"{first:%B %Y}"
    return f"{start} – {last:%B %Y}"


@dataclass
class CrimeCounts:
    """Counts by crime type (rows) and month (columns, newest first) for the beat page."""

    months: list[date]
    rows: list[tuple[str, list[int], int]]  # crime type, count per month, total
    month_totals: list[int]
    total: int

    @property
    def label(self) -> str:
        return month_label(self.months)


def street_crime_counts(beat_ids: Iterable[int] | None, months: Sequence[date]) -> CrimeCounts:
    """Street-level crimes by type and month on these beats (all beats for None)."""
    months = sorted(months, reverse=True)
    if not months:
        return CrimeCounts([], [], [], 0)
    query = _beat_filter(
        sa.select(StreetCrime.crime_type, StreetCrime.month, sa.func.count())
        .where(StreetCrime.month.in_(months))
        .group_by(StreetCrime.crime_type, StreetCrime.month), beat_ids)
    by_type: dict[str, list[int]] = defaultdict(lambda: [0] * len(months))
    for crime_type, month, count in db.session.execute(query):
        by_type[crime_type][months.index(month)] = count
    rows = sorted(((t, c, sum(c)) for t, c in by_type.items()), key=lambda r: (-r[2], r[0]))
    totals = [sum(r[1][i] for r in rows) for i in range(len(months))]
    return CrimeCounts(months, rows, totals, sum(totals))


def street_crime_points(beat_ids: Iterable[int] | None = None, months: Iterable[date] | None = None
                        ) -> list[dict[str, Any]]:
    """Street-level crimes aggregated by snap point, most first: one dict per point.

    ``{"lat", "lon", "count", "location", "beat_id", "month" (newest, "YYYY-MM"), "months" (all,
    newest first), "crime_types" ([type, count] pairs, most first)}``. ``beat_ids`` None means every
    beat; ``months`` None means every month held. For the beat page and the dashboard map.
    """
    query = sa.select(StreetCrime.lat, StreetCrime.lon, StreetCrime.location, StreetCrime.beat_id,
                      StreetCrime.month, StreetCrime.crime_type, sa.func.count()).group_by(
        StreetCrime.lat, StreetCrime.lon, StreetCrime.location, StreetCrime.beat_id, StreetCrime.month,
        StreetCrime.crime_type)
    query = _beat_filter(query, beat_ids)
    if months is not None:
        query = query.where(StreetCrime.month.in_(list(months)))
    points: dict[tuple[float, float], dict[str, Any]] = {}
    for lat, lon, location, beat_id, month, crime_type, count in db.session.execute(query):
        point = points.setdefault((lat, lon), {"lat": lat, "lon": lon, "count": 0, "location": location,
                                               "beat_id": beat_id, "months": set(), "types": Counter()})
        point["count"] += count
        point["months"].add(month)
        point["types"][crime_type] += count
    result = []
    for point in points.values():
        months_held = sorted(point.pop("months"), reverse=True)
        types = point.pop("types")
        point["month"] = f"{months_held[0]:%Y-%m}"
        point["months"] = [f"{m:%Y-%m}" for m in months_held]
        point["crime_types"] = sorted(types.items(), key=lambda item: (-item[1], item[0]))
        result.append(point)
    return sorted(result, key=lambda p: (-p["count"], p["lat"], p["lon"]))


def points_geojson(points: list[dict[str, Any]], months: Sequence[date]) -> dict[str, Any]:
    """A FeatureCollection of the points, labelled and attributed, for the map."""
    return {
        "type": "FeatureCollection",
        "label": LAYER_LABEL,
        "attribution": ATTRIBUTION,
        "months": month_label(months),
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [p["lon"], p["lat"]]},
             "properties": {key: value for key, value in p.items() if key not in ("lat", "lon")}}
            for p in points
        ],
    }
