"""data.police.uk monthly street-level crime files: the format: check and parse a file.
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

Importing is in police_uk_import.py, reading back per beat (the map layer) in police_uk_layer.py.
"""
from __future__ import annotations

import csv
import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TextIO

from ..models import StreetCrime

HEADER = ("Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
          "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context")
ATTRIBUTES = ("crime_id", "month", "reported_by", "falls_within", "lon", "lat", "location",
              "lsoa_code", "lsoa_name", "crime_type", "last_outcome", "context")
ASB = "Anti-social behaviour"

# The longest value each text column takes, from the model: a longer one makes the row malformed.
_LIMITS = {
    heading: StreetCrime.__table__.c[attribute].type.length
    for heading, attribute in zip(HEADER, ATTRIBUTES)
    if getattr(StreetCrime.__table__.c[attribute].type, "length", None)
}
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
