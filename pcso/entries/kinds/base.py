"""What every kind of entry declares. One module per kind (pcso/entries/kinds/<kind>.py) builds one `Kind`;
pcso/entries/registry.py collects them, and everything that loops over kinds reads the registry.

A kind declares:
- `form`: its WTForms class (an EntryForm), rendered with templates/entries/_fields_<kind>.html;
- `fields`: the dataclass of its own data, made by `from_form(form)` or by its marshmallow `schema` from JSON;
- `load_form(form, entry)`: what WTForms' obj= can't fill by itself when editing;
- `check(data)`: the cross-field rules, as {field: message} (one copy for forms, the API and sync);
- `apply(entry, data)`: the kind's columns from its data (links and places are the services' work);
- `links(data)`: the people and vehicles it names, as (PersonInput | VehicleInput, role, note);
- `search_text(entry)`, `detail_rows(entry)` (the page and the PDF alike), `export_columns`;
- `label` and `colour` (charts, tags); optionally `fallback_point`, `marking`, `people_heading`, `detail_partial`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa

from ...models import Entry, EntryKind, SecurityMarking
from ...timeutil import to_london


@dataclass(frozen=True)
class Section:
    """A heading over some of an entry's rows (the page wraps them in a <section> with this testid)."""

    heading: str
    testid: str | None = None


@dataclass(frozen=True)
class DetailRow:
    """One labelled value on an entry's page and in its PDF. `is_long` text keeps its line breaks."""

    label: str
    value: Any
    is_long: bool = False
    section: Section | None = None  # consecutive rows of one section are grouped under its heading
    testid: str | None = None
    record: Any = None  # a POLE record the page links to (its value is the record's name in a PDF)


def export_value(value):
    """A cell as written: an enum's value, a time in London (ISO 8601 with its offset), a date in ISO."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return to_london(value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class ExportColumn:
    """One column of the CSV/GeoJSON export: its name, and either the SQL it reads from the kind's table
    (`select`) or how it is worked out from the row's other raw values (`derive`)."""

    name: str
    select: Callable[[sa.Table], sa.ColumnElement] | None = None
    derive: Callable[[dict[str, Any]], Any] | None = None
    is_text: bool = False  # free text: guarded against spreadsheet formulas
    hidden: bool = False  # read for a derived column, not written out itself


@dataclass(frozen=True)
class Kind:
    kind: EntryKind
    model: type[Entry]
    form: type
    fields: type
    schema: type
    colour: str
    from_form: Callable[[Any], Any]
    load_form: Callable[[Any, Entry], None]
    check: Callable[[Any], dict[str, str]]
    apply: Callable[[Entry, Any], None]
    search_text: Callable[[Entry], Sequence[Any]]
    detail_rows: Callable[[Entry], list[DetailRow]]
    export_columns: tuple[ExportColumn, ...]
    hint: str = ""  # one line under its name where the officer chooses what to log
    links: Callable[[Any], list] = lambda data: []
    links_field: str = "people"  # the field a refused linked record is reported on
    born_on_field: str = "people"  # the field a picked record's date of birth is reported on (welfare: the child)
    # Extra outer joins the export needs (a school visit's school): (joined, kind_table) -> joined
    export_join: Callable[[Any, sa.Table], Any] | None = None
    # Where an entry logged without a location goes (a school visit: its school), as (lat, lon)
    fallback_point: Callable[[Entry], tuple[float, float] | None] = lambda entry: None
    # Its marking from the input and the entry it was raised from: OFFICIAL unless the officer chose higher
    marking: Callable[[Any, Entry | None], SecurityMarking] = (
        lambda data, raised_from: data.marking or SecurityMarking.OFFICIAL)
    # What its JSON schema reads that is not a column of the same name (linked people, lists): {name: value}
    json_view: Callable[[Entry], dict[str, Any]] = lambda entry: {}
    people_heading: str | None = None  # shows linked people and vehicles under this heading; None: none
    detail_partial: str | None = None  # an extra partial on the page for what rows can't say (restricted parts)

    @property
    def label(self) -> str:
        return self.kind.label

    def sections(self, entry: Entry) -> list[tuple[Section | None, list[DetailRow]]]:
        """The entry's rows with a value, in order, grouped by section."""
        grouped: list[tuple[Section | None, list[DetailRow]]] = []
        for row in self.detail_rows(entry):
            if row.value in (None, "", []):
                continue
            if grouped and grouped[-1][0] == row.section:
                grouped[-1][1].append(row)
            else:
                grouped.append((row.section, [row]))
        return grouped

    @property
    def slug(self) -> str:
        return self.kind.slug

    @property
    def fields_partial(self) -> str:
        return f"entries/_fields_{self.kind.value}.html"

    @property
    def table(self) -> sa.Table:
        return self.model.__table__


def text(value) -> str | None:
    """Stripped text, or None when blank."""
    value = (value or "").strip() if isinstance(value, str) or value is None else value
    return value or None


def label_of(value) -> str | None:
    return value.label if value is not None else None


def yes_no(value: bool) -> str:
    return "Yes" if value else "No"


def day(value) -> str | None:
    return value.strftime("%d %b %Y") if value else None
