"""The beat dashboard's figures: what they share (the Scope, the list links, the SQL pieces).

Every figure is computed for a `Scope` (the chosen beats, a period of London dates, and today) and
comes with the arguments of the filtered list behind it (`lists.entries`), so the number on the page
is the length of the list its link opens. Every figure counts entries the user may see, never drafts.
The figures, each defined in its module (also shown on the page, under "How these figures are
counted"; speed in docs/PERFORMANCE.md):

- counts.py: entries by kind over time, ASB by NSIR category and type, patrol hours, the review backlog;
- hotspots.py: ASB hotspots on a ~300 m grid, and the data.police.uk street-crime layer;
- welfare.py: welfare visits overdue or due this week;
- victims.py: risk reviews due, repeat victims, ASB Case Review.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import defer

from ..access import visible_entries
from ..extensions import db
from ..models import AsbIncident, Beat, Entry, EntryStatus, Link, Patrol, User, WelfareCheck
from ..timeutil import london_day_start, to_london

ENTRY = Entry.__table__
ASB = AsbIncident.__table__
PATROL = Patrol.__table__
WELFARE = WelfareCheck.__table__
LINK = Link.__table__


# --- dates --------------------------------------------------------------------------------------------

def add_months(moment, months: int):
    """The same day `months` later (or earlier), clamped to the month's end: 31 Jan + 1 month = 28/29 Feb."""
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def within_a_month(occurred_at: datetime, recorded_at: datetime) -> bool:
    """Recorded no later than one calendar month after it happened (London wall clock)."""
    late = recorded_at - occurred_at
    if late <= timedelta(days=27):  # shorter than any month, whatever the clocks did: no calendar needed
        return True
    if late > timedelta(days=32):
        return False
    return to_london(recorded_at) <= add_months(to_london(occurred_at), 1)


@dataclass(frozen=True)
class Scope:
    """What a dashboard shows: beats (None = every beat, a supervisor's "all"), London dates, today."""

    beat_ids: frozenset[int] | None
    date_from: date
    date_to: date
    today: date
    clock: datetime | None = None  # now (UTC); None: the real time

    @property
    def start(self) -> datetime:
        return london_day_start(self.date_from)

    @property
    def end(self) -> datetime:
        return london_day_start(self.date_to + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    @property
    def last_day(self) -> date:
        """The day hotspots count back from: today, or the period's last day if that is earlier."""
        return min(self.date_to, self.today)

    @property
    def now(self) -> datetime:
        """The moment hotspots count back from: now, or the end of the period if it ended before today."""
        return min(self.clock or datetime.now(timezone.utc), self.end - timedelta(microseconds=1))

    def beat_args(self) -> dict:
        return {} if self.beat_ids is None else {"beat": sorted(self.beat_ids)}

    def period_args(self, date_from: date | None = None, date_to: date | None = None) -> dict:
        return {"from": (date_from or self.date_from).isoformat(), "to": (date_to or self.date_to).isoformat()}


def list_url(**args) -> str:
    """The filtered list of entries behind a figure (lists.entries); None values are left out."""
    return url_for("lists.entries", **{name: value for name, value in args.items() if value is not None})


def beats_clause(clause_column, beat_ids):
    return sa.true() if beat_ids is None else clause_column.in_(sorted(beat_ids))


def counted(user: User, beat_ids) -> sa.ColumnElement[bool]:
    """Entries the user may see, not drafts, on the beats."""
    return sa.and_(visible_entries(user), Entry.status != EntryStatus.DRAFT, beats_clause(Entry.beat_id, beat_ids))


def beats_by_name(beat_ids=None) -> list[Beat]:
    """Beats without their boundary: the dashboard names beats, and decoding 21 GeoJSON outlines (46 KB) on
    every load of them cost ~10 ms a query on PostgreSQL. The map fetches the outlines itself (beats.outlines)."""
    query = sa.select(Beat).options(defer(Beat.boundary)).order_by(Beat.name)
    return list(db.session.scalars(query if beat_ids is None else query.where(Beat.id.in_(sorted(beat_ids)))))


def every_beat() -> set[int]:
    """Every beat's id: "all beats" spelled out, so (kind, beat_id, occurred_at) indexes serve it too."""
    return set(db.session.scalars(sa.select(Beat.id)))


def in_period(scope: Scope) -> sa.ColumnElement[bool]:
    return sa.and_(Entry.occurred_at >= scope.start, Entry.occurred_at < scope.end)


def utc_hour(column):
    """'YYYY-MM-DD HH' of a UTC timestamp, the same text on both backends."""
    if db.engine.dialect.name == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return sa.func.strftime("%Y-%m-%d %H", column)


def hours_between(start, end):
    if db.engine.dialect.name == "postgresql":
        return sa.extract("epoch", end - start) / 3600.0
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 24.0


def grid_cell(column, step: float):
    """The grid cell of a latitude or longitude: floor((x + 180) / step), always positive, on both backends."""
    shifted = (column + 180.0) / step
    if db.engine.dialect.name == "postgresql":
        return sa.cast(sa.func.floor(shifted), sa.Integer)
    return sa.cast(shifted, sa.Integer)  # SQLite truncates, and the value is positive


def aware(value) -> datetime:
    """A UTC-aware datetime from a column value (raw ISO text or a datetime; naive ones are UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
