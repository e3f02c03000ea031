"""The beat dashboard's figures, each counted over entries the user may see and never drafts.

Every figure is computed for a `Scope` (the chosen beats, a period of London dates, and today) and
comes with the arguments of the filtered list behind it (`lists.entries`), so the number on the page
is the length of the list its link opens. Definitions (also shown on the page, under "How these figures
are counted"; speed in docs/PERFORMANCE.md):

- entries by kind over time: entries whose `occurred_at` falls in the period, by London day (weeks for
  periods over 31 days, months over 190); grouped in SQL by UTC hour, the same on SQLite and
  PostgreSQL, and put on London days in Python (London's offset is a whole number of hours);
- ASB by NSIR category and type; patrol hours by beat and mode (ended patrols; open ones count no hours);
- hotspots: ASB incidents on a ~300 m grid, in the last 7 or 28 London days against the 28 days before;
- welfare: the latest welfare check per child (Person linked as subject) among the checks the user
  may see; overdue when its next visit is before today, due this week when it is today..today+6;
- victims (Person linked as victim to an ASB incident):
  * risk review due: the victim's latest incident (last 90 days) was assessed medium or high risk, and
    14 (high) or 28 (medium) days have passed since that incident or since a supervisor last decided on
    one of the victim's incidents, whichever is later;
  * repeat victim: 3 or more incidents of the same ASB type (the standard type, not the broad NSIR
    category, which puts nearly every incident with a victim under "personal") in the last 3 months;
  * ASB Case Review: 3 or more complaints in the last 6 months, each recorded within one calendar month
    of its incident (s.104 ASB, Crime and Policing Act 2014; the local threshold is never higher);
- review backlog: entries awaiting review (submitted), and those returned for correction.

Functions the shift briefing reuses: `hotspots()` and `welfare_due()`.
"""
from __future__ import annotations

import calendar
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

import sqlalchemy as sa
from flask import current_app, url_for
from sqlalchemy.orm import selectinload

from ..access import visible_entries
from ..extensions import db
from ..postcodes import DEFAULT_POSTCODES_PATH, load_postcode_book
from ..models import (
    AsbIncident, AsbType, Beat, Entry, EntryKind, EntryReview, EntryStatus, Link, LinkRole, NsirCategory, Patrol,
    PatrolMode, Person, RiskLevel, StreetCrime, User, WelfareCheck,
)
from ..timeutil import london_day_start, to_london

ENTRY = Entry.__table__
ASB = AsbIncident.__table__
PATROL = Patrol.__table__
WELFARE = WelfareCheck.__table__
LINK = Link.__table__

REVIEW_EVERY = {RiskLevel.HIGH: 14, RiskLevel.MEDIUM: 28}
RISK_CASE_DAYS = 90  # a victim's latest incident this recent keeps their risk case open
REPEAT_MONTHS, REPEAT_AT_LEAST = 3, 3
CASE_REVIEW_MONTHS, CASE_REVIEW_AT_LEAST = 6, 3
HOTSPOT_BEFORE_DAYS = 28
HOTSPOT_LAT_STEP, HOTSPOT_LON_STEP = 0.0027, 0.0045  # ~300 m x ~300 m at 53.4 N
HOTSPOT_MIN, HOTSPOT_LIMIT = 2, 12
STREET_CRIME_POINTS = 3000


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


def _beats(clause_column, beat_ids):
    return sa.true() if beat_ids is None else clause_column.in_(sorted(beat_ids))


def _base(user: User, beat_ids) -> sa.ColumnElement[bool]:
    """Entries the user may see, not drafts, on the beats."""
    return sa.and_(visible_entries(user), Entry.status != EntryStatus.DRAFT, _beats(Entry.beat_id, beat_ids))


def _every_beat() -> set[int]:
    """Every beat's id: "all beats" spelled out, so (kind, beat_id, occurred_at) indexes serve it too."""
    return set(db.session.scalars(sa.select(Beat.id)))


def _in_period(scope: Scope) -> sa.ColumnElement[bool]:
    return sa.and_(Entry.occurred_at >= scope.start, Entry.occurred_at < scope.end)


def _utc_hour(column):
    """'YYYY-MM-DD HH' of a UTC timestamp, the same text on both backends."""
    if db.engine.dialect.name == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return sa.func.strftime("%Y-%m-%d %H", column)


def _hours_between(start, end):
    if db.engine.dialect.name == "postgresql":
        return sa.extract("epoch", end - start) / 3600.0
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 24.0


def _grid(column, step: float):
    """The grid cell of a latitude or longitude: floor((x + 180) / step), always positive, on both backends."""
    shifted = (column + 180.0) / step
    if db.engine.dialect.name == "postgresql":
        return sa.cast(sa.func.floor(shifted), sa.Integer)
    return sa.cast(shifted, sa.Integer)  # SQLite truncates, and the value is positive


# --- entries by kind over time ------------------------------------------------------------------------

@dataclass
class Bucket:
    label: str
    date_from: date
    date_to: date
    counts: dict[EntryKind, int] = field(default_factory=dict)
    urls: dict[EntryKind, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class KindSeries:
    unit: str  # day, week, month
    buckets: list[Bucket]
    totals: dict[EntryKind, int]
    total_urls: dict[EntryKind, str]
    all_url: str

    @property
    def total(self) -> int:
        return sum(self.totals.values())


def _bucket_starts(scope: Scope) -> tuple[str, list[tuple[date, date]]]:
    if scope.days <= 31:
        unit, step = "day", lambda d: d + timedelta(days=1)
        first = scope.date_from
    elif scope.days <= 190:
        unit, step = "week", lambda d: d + timedelta(days=7)
        first = scope.date_from - timedelta(days=scope.date_from.weekday())
    else:
        unit = "month"
        step = lambda d: add_months(d, 1)  # noqa: E731
        first = scope.date_from.replace(day=1)
    ranges, start = [], first
    while start <= scope.date_to:
        nxt = step(start)
        ranges.append((max(start, scope.date_from), min(nxt - timedelta(days=1), scope.date_to)))
        start = nxt
    return unit, ranges


def _bucket_label(unit: str, start: date, end: date) -> str:
    if unit == "day":
        return start.strftime("%a %d %b")
    if unit == "week":
        return f"{start:%d %b}–{end:%d %b}" if start != end else f"{start:%d %b}"
    return start.strftime("%b %Y")


def entries_by_kind(user: User, scope: Scope) -> KindSeries:
    hour = _utc_hour(Entry.occurred_at).label("hour")
    rows = db.session.execute(
        sa.select(Entry.kind, hour, sa.func.count().label("n"))
        .where(_base(user, scope.beat_ids), _in_period(scope))
        .group_by(Entry.kind, hour)
    ).all()
    unit, ranges = _bucket_starts(scope)
    buckets = [Bucket(_bucket_label(unit, a, b), a, b) for a, b in ranges]
    starts = [b.date_from for b in buckets]
    totals = {kind: 0 for kind in EntryKind}
    for kind, text, n in rows:
        day = to_london(datetime.strptime(text, "%Y-%m-%d %H").replace(tzinfo=timezone.utc)).date()
        index = max(i for i, start in enumerate(starts) if start <= day)
        bucket = buckets[index]
        bucket.counts[kind] = bucket.counts.get(kind, 0) + n
        totals[kind] += n
    for bucket in buckets:
        for kind, n in bucket.counts.items():
            bucket.urls[kind] = list_url(**scope.beat_args(), kind=kind.slug,
                                         **scope.period_args(bucket.date_from, bucket.date_to))
    total_urls = {kind: list_url(**scope.beat_args(), kind=kind.slug, **scope.period_args()) for kind in EntryKind}
    return KindSeries(unit, buckets, totals, total_urls, list_url(**scope.beat_args(), **scope.period_args()))


# --- ASB by NSIR category and type --------------------------------------------------------------------

@dataclass
class AsbBreakdown:
    by_category: dict[NsirCategory, int]
    by_type: list[tuple[AsbType, int, str]]  # (type, count, list url), largest first
    by_pair: dict[tuple[NsirCategory, AsbType], int]
    category_urls: dict[NsirCategory, str]
    total: int
    all_url: str


def asb_breakdown(user: User, scope: Scope) -> AsbBreakdown:
    rows = db.session.execute(
        sa.select(ASB.c.nsir_category, ASB.c.asb_type, sa.func.count().label("n"))
        .select_from(ENTRY.join(ASB, ASB.c.id == ENTRY.c.id))
        .where(_base(user, scope.beat_ids), _in_period(scope))
        .group_by(ASB.c.nsir_category, ASB.c.asb_type)
    ).all()
    by_category = {category: 0 for category in NsirCategory}
    by_type: dict[AsbType, int] = defaultdict(int)
    by_pair = {}
    for category, asb_type, n in rows:
        category, asb_type = NsirCategory(category), AsbType(asb_type)
        by_category[category] += n
        by_type[asb_type] += n
        by_pair[(category, asb_type)] = n
    common = dict(**scope.beat_args(), kind=EntryKind.ASB_INCIDENT.slug, **scope.period_args())
    ordered = sorted(by_type.items(), key=lambda item: (-item[1], item[0].label))
    return AsbBreakdown(
        by_category=by_category,
        by_type=[(t, n, list_url(**common, asb_type=t.value)) for t, n in ordered],
        by_pair=by_pair,
        category_urls={c: list_url(**common, nsir=c.value) for c in NsirCategory},
        total=sum(by_category.values()),
        all_url=list_url(**common),
    )


# --- patrol hours by beat and mode --------------------------------------------------------------------

@dataclass
class PatrolCell:
    hours: float
    patrols: int
    url: str


@dataclass
class PatrolHours:
    beats: list  # [(Beat, {PatrolMode: PatrolCell}, total hours, total patrols, url)]
    mode_totals: dict[PatrolMode, PatrolCell]
    hours: float
    patrols: int
    url: str


def patrol_hours(user: User, scope: Scope) -> PatrolHours:
    hours = sa.case((PATROL.c.ended_at.is_(None), 0.0), else_=_hours_between(PATROL.c.started_at, PATROL.c.ended_at))
    rows = db.session.execute(
        sa.select(Entry.beat_id, PATROL.c.mode, sa.func.count().label("n"), sa.func.sum(hours).label("hours"))
        .select_from(ENTRY.join(PATROL, PATROL.c.id == ENTRY.c.id))
        .where(_base(user, scope.beat_ids), _in_period(scope))
        .group_by(Entry.beat_id, PATROL.c.mode)
    ).all()
    common = dict(kind=EntryKind.PATROL.slug, **scope.period_args())
    cells: dict[int, dict[PatrolMode, PatrolCell]] = defaultdict(dict)
    for beat_id, mode, n, total in rows:
        mode = PatrolMode(mode)
        cells[beat_id][mode] = PatrolCell(float(total or 0), n, list_url(beat=beat_id, mode=mode.value, **common))
    beats = {beat.id: beat for beat in db.session.scalars(sa.select(Beat).where(Beat.id.in_(list(cells))))}
    table = []
    for beat_id, by_mode in cells.items():
        table.append((beats[beat_id], by_mode, sum(c.hours for c in by_mode.values()),
                      sum(c.patrols for c in by_mode.values()), list_url(beat=beat_id, **common)))
    table.sort(key=lambda row: (-row[2], row[0].name))
    mode_totals = {}
    for mode in PatrolMode:
        in_mode = [by_mode[mode] for by_mode in cells.values() if mode in by_mode]
        mode_totals[mode] = PatrolCell(sum(c.hours for c in in_mode), sum(c.patrols for c in in_mode),
                                       list_url(**scope.beat_args(), mode=mode.value, **common))
    return PatrolHours(table, mode_totals, sum(r[2] for r in table), sum(r[3] for r in table),
                       list_url(**scope.beat_args(), **common))


# --- hotspots -----------------------------------------------------------------------------------------

@dataclass
class Hotspot:
    """A ~300 m square where ASB incidents clustered: its centre, counts, and the list of its incidents."""

    lat: float
    lon: float
    count: int  # in the window
    before: int  # in the 28 days before the window
    days: int
    bbox: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat of the window's incidents
    url: str
    postcode: str | None = None  # the nearest postcode to its centre

    @property
    def expected(self) -> float:
        """The count the 28 days before would give, scaled to the window's length."""
        return self.before * self.days / HOTSPOT_BEFORE_DAYS

    @property
    def trend(self) -> str:
        if self.before == 0:
            return "new"
        if self.count >= 1.5 * self.expected:
            return "rising"
        if self.count <= self.expected / 1.5:
            return "falling"
        return "steady"


def hotspots(user: User, beat_ids: set[int] | None, *, now: datetime, days: int) -> list[Hotspot]:
    """Where ASB incidents clustered in the last `days` London days up to `now`, against the 28 days before.

    Incidents (visible to `user`, not drafts, with a location, on `beat_ids`; None = every beat) are put
    on a grid of ~300 m squares. A hotspot is a square with at least 2 incidents in the window; at most
    12, busiest first. `bbox` is the smallest box around the square's incidents in the window, so the list
    at `url` (kind, beats, the window's dates, bbox) holds exactly `count` incidents.
    """
    today = to_london(now).date()
    first = today - timedelta(days=days - 1)
    window_start = london_day_start(first)
    before_start = london_day_start(first - timedelta(days=HOTSPOT_BEFORE_DAYS))
    end = london_day_start(today + timedelta(days=1))
    in_window = Entry.occurred_at >= window_start
    cell_lat, cell_lon = _grid(Entry.lat, HOTSPOT_LAT_STEP).label("cell_lat"), _grid(Entry.lon, HOTSPOT_LON_STEP).label("cell_lon")

    def window(fn, column):
        return fn(sa.case((in_window, column), else_=None))

    count = sa.func.sum(sa.case((in_window, 1), else_=0))
    rows = db.session.execute(
        sa.select(cell_lat, cell_lon, count.label("n"), sa.func.sum(sa.case((in_window, 0), else_=1)).label("before"),
                  window(sa.func.avg, Entry.lat), window(sa.func.avg, Entry.lon),
                  window(sa.func.min, Entry.lat), window(sa.func.min, Entry.lon),
                  window(sa.func.max, Entry.lat), window(sa.func.max, Entry.lon))
        .where(_base(user, beat_ids), Entry.kind == EntryKind.ASB_INCIDENT, Entry.lat.is_not(None),
               Entry.lon.is_not(None), Entry.occurred_at >= before_start, Entry.occurred_at < end)
        .group_by(cell_lat, cell_lon)
        .having(count >= HOTSPOT_MIN)
        .order_by(count.desc(), cell_lat, cell_lon)
        .limit(HOTSPOT_LIMIT)
    ).all()
    beat_args = {} if beat_ids is None else {"beat": sorted(beat_ids)}
    spots = []
    for _, _, n, before, lat, lon, min_lat, min_lon, max_lat, max_lon in rows:
        bbox = (min_lon, min_lat, max_lon, max_lat)
        url = list_url(**beat_args, kind=EntryKind.ASB_INCIDENT.slug, **{"from": first.isoformat(), "to": today.isoformat()},
                       bbox=",".join(repr(float(v)) for v in bbox))
        spots.append(Hotspot(float(lat), float(lon), int(n), int(before), days, bbox, url,
                             nearest_postcode(float(lat), float(lon))))
    return spots


@lru_cache(maxsize=2)
def _postcode_grid(path: str) -> dict[tuple[int, int], list]:
    grid: dict[tuple[int, int], list] = defaultdict(list)
    for point in load_postcode_book(path):
        grid[(int(point.lat * 100), int(point.lon * 100))].append(point)
    return grid


def nearest_postcode(lat: float, lon: float) -> str | None:
    """The postcode whose centroid is nearest (within ~1 km), to name a hotspot; None far from any."""
    grid = _postcode_grid(str(current_app.config.get("POSTCODES_PATH") or DEFAULT_POSTCODES_PATH))
    row, col = int(lat * 100), int(lon * 100)
    near = [p for dr in (-1, 0, 1) for dc in (-1, 0, 1) for p in grid.get((row + dr, col + dc), ())]
    if not near:
        return None
    scale = math.cos(math.radians(lat))
    return min(near, key=lambda p: (p.lat - lat) ** 2 + ((p.lon - lon) * scale) ** 2).postcode


def street_crime_points(beat_ids, scope: Scope) -> tuple[list[dict], int]:
    """data.police.uk rows on the beats for the months the period touches, one point per map location."""
    first_month = scope.date_from.replace(day=1)
    rows = db.session.execute(
        sa.select(StreetCrime.lat, StreetCrime.lon, StreetCrime.crime_type, sa.func.count().label("n"))
        .where(_beats(StreetCrime.beat_id, beat_ids), StreetCrime.month >= first_month,
               StreetCrime.month <= scope.date_to)
        .group_by(StreetCrime.lat, StreetCrime.lon, StreetCrime.crime_type)
    ).all()
    points: dict[tuple[float, float], dict] = {}
    total = 0
    for lat, lon, crime_type, n in rows:
        total += n
        point = points.setdefault((lat, lon), {"lat": lat, "lon": lon, "n": 0, "types": {}})
        point["n"] += n
        point["types"][crime_type] = point["types"].get(crime_type, 0) + n
    ordered = sorted(points.values(), key=lambda p: -p["n"])[:STREET_CRIME_POINTS]
    for point in ordered:
        point["label"] = "; ".join(f"{t} {n}" for t, n in sorted(point.pop("types").items(), key=lambda i: -i[1]))
    return ordered, total


# --- welfare visits -----------------------------------------------------------------------------------

@dataclass
class WelfareDue:
    child: Person
    check: WelfareCheck
    next_visit_on: date
    overdue: bool


def _latest_checks(user: User, beat_ids, only_children: list[int] | None = None):
    """(check id, child id, next visit, beat id) of the latest visible check per child, as a subquery.

    With beats given, only children with a check on those beats are ranked (the latest may be elsewhere).
    """
    latest_first = (Entry.occurred_at.desc(), Entry.id.desc())
    children = LINK.c.role == LinkRole.SUBJECT.value
    query = (sa.select(Entry.id.label("check_id"), LINK.c.person_id.label("child_id"),
                       WELFARE.c.next_visit_on, Entry.beat_id,
                       sa.func.row_number().over(partition_by=LINK.c.person_id, order_by=latest_first).label("rank"))
             .select_from(ENTRY.join(WELFARE, WELFARE.c.id == ENTRY.c.id).join(LINK, LINK.c.entry_id == ENTRY.c.id))
             .where(children, LINK.c.person_id.is_not(None), _base(user, None)))
    if beat_ids is not None:
        on_beats = (sa.select(LINK.c.person_id)
                    .select_from(ENTRY.join(LINK, LINK.c.entry_id == ENTRY.c.id))
                    .where(Entry.kind == EntryKind.WELFARE_CHECK, children, _base(user, beat_ids)))
        # the children first, as a list: as a subquery PostgreSQL ran it once per check (23 s at 1M entries)
        query = query.where(LINK.c.person_id.in_(sorted(set(db.session.scalars(on_beats)))))
    if only_children is not None:
        query = query.where(LINK.c.person_id.in_(only_children))
    return query.subquery("ranked")


def _due_checks(user: User, beat_ids, today: date):
    ranked = _latest_checks(user, beat_ids)
    return (sa.select(ranked.c.check_id, ranked.c.child_id, ranked.c.next_visit_on)
            .where(ranked.c.rank == 1, ranked.c.next_visit_on <= today + timedelta(days=6),
                   _beats(ranked.c.beat_id, beat_ids)))


class _DueRow(NamedTuple):
    check_id: int
    child_id: int
    next_visit_on: date


def _due_rows_every_beat(user: User, today: date) -> list[_DueRow]:
    """The rows of _due_checks(user, None, today), faster on SQLite: each child's latest check from indexes.

    SQLite takes a bare column from the row that holds max() (its documented GROUP BY rule), so one pass over
    the covering indexes entry (kind, beat_id, occurred_at) and link (entry_id, role, person_id) finds every
    child's latest check without reading 80,000 rows (ranking them all took 250 ms at a million entries).
    That check is then held to the access rule; a child whose latest check the user may not see (a draft,
    or a PCSO who is not the SPOC) goes through the exact ranked query instead.
    """
    # CROSS JOIN is SQLite's way to fix the join order: left alone, the planner walked link by person_id to
    # save the GROUP BY's sort, reading every link in the database (900 ms instead of 116).
    latest = db.session.execute(sa.text(
        "SELECT link.person_id, entry.id, max(entry.occurred_at) FROM entry CROSS JOIN link ON link.entry_id = entry.id"
        " WHERE entry.kind = :kind AND entry.beat_id IN :beats AND link.role = :role AND link.person_id IS NOT NULL"
        " GROUP BY link.person_id").bindparams(sa.bindparam("beats", expanding=True)),
        {"kind": EntryKind.WELFARE_CHECK.value, "role": LinkRole.SUBJECT.value, "beats": sorted(_every_beat())}).all()
    child_of = {check_id: child_id for child_id, check_id, _ in latest}
    ids, seen = sorted(child_of), {}
    for start in range(0, len(ids), 5000):
        seen.update(db.session.execute(
            sa.select(Entry.id, WELFARE.c.next_visit_on).select_from(ENTRY.join(WELFARE, WELFARE.c.id == ENTRY.c.id))
            .where(Entry.id.in_(ids[start:start + 5000]), _base(user, None))).tuples().all())
    last_day = today + timedelta(days=6)
    rows = [_DueRow(check_id, child_of[check_id], next_visit_on) for check_id, next_visit_on in seen.items()
            if next_visit_on is not None and next_visit_on <= last_day]
    hidden = sorted(child_of[check_id] for check_id in child_of if check_id not in seen)
    if hidden:
        ranked = _latest_checks(user, None, only_children=hidden)
        rows += [_DueRow(*row) for row in db.session.execute(
            sa.select(ranked.c.check_id, ranked.c.child_id, ranked.c.next_visit_on)
            .where(ranked.c.rank == 1, ranked.c.next_visit_on <= last_day))]
    return rows


def welfare_due(user: User, beat_ids: set[int] | None, *, today: date, limit: int | None = None) -> list[WelfareDue]:
    """The latest welfare check per child that is overdue or due this week, soonest first.

    Only checks `user` may open count (their own, as SPOC, or every one for supervisors and safeguarding),
    drafts never. A child belongs to the beats of their latest check. Overdue: next visit before `today`
    (a London date); due this week: `today` to `today` + 6. `limit`: the first so many only.
    """
    return welfare_summary(user, beat_ids, today=today, limit=limit)[0]


def welfare_summary(user: User, beat_ids: set[int] | None, *, today: date,
                    limit: int | None = None) -> tuple[list[WelfareDue], tuple[int, int]]:
    """welfare_due(), and the counts (overdue, due this week) of the whole list, from one query."""
    if beat_ids is None and db.engine.dialect.name == "sqlite":  # PostgreSQL's DISTINCT ON was no faster
        found = _due_rows_every_beat(user, today)
    else:
        found = db.session.execute(_due_checks(user, beat_ids, today)).all()
    rows = sorted(found, key=lambda r: (r.next_visit_on, r.check_id))
    counts = (sum(r.next_visit_on < today for r in rows), sum(r.next_visit_on >= today for r in rows))
    rows = rows[:limit]
    checks = {c.id: c for c in db.session.scalars(
        sa.select(WelfareCheck).where(WelfareCheck.id.in_([r.check_id for r in rows]))
        .options(selectinload(WelfareCheck.spoc), selectinload(WelfareCheck.beat)))}
    people = {p.id: p for p in db.session.scalars(sa.select(Person).where(Person.id.in_([r.child_id for r in rows])))}
    due = [WelfareDue(people[r.child_id], checks[r.check_id], r.next_visit_on, r.next_visit_on < today) for r in rows]
    return due, counts


def welfare_check_ids(user: User, today: date, *, overdue: bool) -> sa.Select:
    """Ids of the latest checks overdue (or due this week), every beat: for the lists' `set`."""
    query = _due_checks(user, None, today).subquery("due")
    wanted = query.c.next_visit_on < today if overdue else query.c.next_visit_on >= today
    return sa.select(query.c.check_id).where(wanted)


# --- victims: risk reviews, repeat victims, ASB Case Review --------------------------------------------

@dataclass
class VictimIncident:
    entry_id: int
    beat_id: int
    occurred_at: datetime
    recorded_at: datetime
    asb_type: AsbType
    risk: RiskLevel | None


@dataclass
class Victim:
    person_id: int
    incidents: list[VictimIncident]  # the ones behind the figure, oldest first, every beat
    detail: dict = field(default_factory=dict)
    person: Person | None = None
    on_beats: int = 0  # how many of `incidents` are on the chosen beats
    url: str = ""


def _asb_details(ids) -> dict[int, tuple[str, str | None]]:
    """(ASB type, victim risk) of the given incidents, by id, in chunks of bound parameters."""
    ids, details = sorted(ids), {}
    for start in range(0, len(ids), 5000):
        details.update((entry_id, (asb_type, risk)) for entry_id, asb_type, risk in db.session.execute(
            sa.select(ASB.c.id, ASB.c.asb_type, ASB.c.victim_risk).where(ASB.c.id.in_(ids[start:start + 5000]))))
    return details


def _victim_rows(user: User, beat_ids, since: datetime, risk_since: datetime | None = None
                 ) -> dict[int, list[VictimIncident]]:
    """Visible, submitted ASB incidents since `since`, by victim. With beats: victims seen on them.

    With `risk_since`, only victims who could meet a rule: 3 or more incidents (repeat victims and the
    Case Review both need three), or a latest incident since `risk_since` at medium or high risk (a
    risk review). Most victims have one incident, so this keeps a few hundred of the 11,600 victims of
    six months at a million entries, and the ASB columns are read for those alone.

    Steps: the victims' incidents (entry and link, from indexes alone), their access rule and times, then the
    ASB columns of just the incidents needed. Joined in one statement, SQLite probed asb_incident for every
    incident in the window.
    """
    victims = sa.and_(LINK.c.role == LinkRole.VICTIM.value, LINK.c.person_id.is_not(None))
    joined = ENTRY.join(LINK, LINK.c.entry_id == ENTRY.c.id)
    in_window = (Entry.kind == EntryKind.ASB_INCIDENT, Entry.occurred_at >= since, Entry.beat_id.in_(_every_beat()))
    # First the (victim, incident) pairs from two covering indexes alone, (kind, beat_id, occurred_at) and
    # link (entry_id, role, person_id): six months of ASB incidents are 67,000 rows at a million entries and
    # only 12,000 have a victim, so reading every incident's row for the access rule cost 150 ms more.
    pairs = sa.select(LINK.c.person_id, Entry.id).select_from(joined).where(victims, *in_window)
    if beat_ids is not None:
        seen_on_beats = (sa.select(LINK.c.person_id).select_from(joined)
                         .where(victims, Entry.kind == EntryKind.ASB_INCIDENT, Entry.occurred_at >= since,
                                _base(user, beat_ids)))
        pairs = pairs.where(LINK.c.person_id.in_(sorted(set(db.session.scalars(seen_on_beats)))))  # a list: see above
    grouped: dict[int, dict[int, tuple]] = defaultdict(dict)
    details: dict[int, tuple[str, str | None]] = {}
    if db.engine.dialect.name == "postgresql":
        # PostgreSQL hash-joins the lot in one statement (120 ms at a million entries); the SQLite steps
        # below, with their lists of 5,000 ids, took 350 ms there.
        for person_id, entry_id, beat_id, occurred_at, recorded_at, asb_type, risk in db.session.execute(
                pairs.join_from(ENTRY, ASB, ASB.c.id == ENTRY.c.id)
                .with_only_columns(LINK.c.person_id, Entry.id, Entry.beat_id, sa.type_coerce(Entry.occurred_at, sa.String),
                                   sa.type_coerce(Entry.recorded_at, sa.String), ASB.c.asb_type, ASB.c.victim_risk)
                .where(_base(user, _every_beat()))):
            grouped[person_id][entry_id] = (beat_id, _aware(occurred_at), _aware(recorded_at))
            details[entry_id] = (asb_type, risk)
    else:
        people_of: dict[int, list[int]] = defaultdict(list)
        for person_id, entry_id in db.session.execute(pairs):
            people_of[entry_id].append(person_id)
        # Then the access rule and the times for just those incidents (every beat: a victim's incidents
        # elsewhere count too). The two times raw and parsed by _aware(): the column type's own parsing cost
        # 100 ms for the 24,000 values of six months.
        ids = sorted(people_of)
        for start in range(0, len(ids), 5000):
            for entry_id, beat_id, occurred_at, recorded_at in db.session.execute(
                    sa.select(Entry.id, Entry.beat_id, sa.type_coerce(Entry.occurred_at, sa.String),
                              sa.type_coerce(Entry.recorded_at, sa.String))
                    .where(Entry.id.in_(ids[start:start + 5000]), _base(user, _every_beat()))):
                for person_id in people_of[entry_id]:
                    grouped[person_id][entry_id] = (beat_id, _aware(occurred_at), _aware(recorded_at))
    if risk_since is not None:
        latest = {person: max(rows.items(), key=lambda item: (item[1][1], item[0]))[0]
                  for person, rows in grouped.items()}
        recent = {person: entry_id for person, entry_id in latest.items() if grouped[person][entry_id][1] >= risk_since}
        details.update(_asb_details(set(recent.values()) - set(details)))
        at_risk = {person for person, entry_id in recent.items() if details[entry_id][1] in REVIEW_EVERY}
        grouped = {person: rows for person, rows in grouped.items()
                   if len(rows) >= min(REPEAT_AT_LEAST, CASE_REVIEW_AT_LEAST) or person in at_risk}
    details.update(_asb_details({entry_id for rows in grouped.values() for entry_id in rows} - set(details)))
    found: dict[int, list[VictimIncident]] = {}
    for person_id, rows in grouped.items():
        incidents = [VictimIncident(entry_id, beat_id, occurred_at, recorded_at, AsbType(details[entry_id][0]),
                                    RiskLevel(details[entry_id][1]) if details[entry_id][1] else None)
                     for entry_id, (beat_id, occurred_at, recorded_at) in rows.items()]
        found[person_id] = sorted(incidents, key=lambda r: (r.occurred_at, r.entry_id))
    return found


def _aware(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def repeat_victims(rows: dict[int, list[VictimIncident]], today: date) -> list[Victim]:
    since = london_day_start(add_months(today, -REPEAT_MONTHS))
    found = []
    for person_id, incidents in rows.items():
        by_type: dict[AsbType, list[VictimIncident]] = defaultdict(list)
        for incident in incidents:
            if incident.occurred_at >= since:
                by_type[incident.asb_type].append(incident)
        repeated = {t: items for t, items in by_type.items() if len(items) >= REPEAT_AT_LEAST}
        if repeated:
            chosen = sorted({i.entry_id: i for items in repeated.values() for i in items}.values(),
                            key=lambda i: (i.occurred_at, i.entry_id))
            found.append(Victim(person_id, chosen, {"types": {t: len(items) for t, items in repeated.items()}}))
    return found


def case_review_victims(rows: dict[int, list[VictimIncident]], today: date) -> list[Victim]:
    since = london_day_start(add_months(today, -CASE_REVIEW_MONTHS))
    found = []
    for person_id, incidents in rows.items():
        complaints = [i for i in incidents if i.occurred_at >= since and within_a_month(i.occurred_at, i.recorded_at)]
        if len(complaints) >= CASE_REVIEW_AT_LEAST:
            # qualified once the third complaint was recorded
            third = sorted(complaints, key=lambda i: i.recorded_at)[CASE_REVIEW_AT_LEAST - 1]
            found.append(Victim(person_id, complaints, {"qualified_on": to_london(third.recorded_at).date(),
                                                        "late": len([i for i in incidents if i.occurred_at >= since])
                                                        - len(complaints)}))
    return found


def risk_reviews_due(rows: dict[int, list[VictimIncident]], today: date) -> list[Victim]:
    since = london_day_start(today - timedelta(days=RISK_CASE_DAYS))
    latest = {person: incidents[-1] for person, incidents in rows.items()
              if incidents and incidents[-1].occurred_at >= since and incidents[-1].risk in REVIEW_EVERY}
    entry_ids = {i.entry_id for person in latest for i in rows[person]}
    reviewed: dict[int, datetime] = {}
    if entry_ids:
        for entry_id, at in db.session.execute(
                sa.select(EntryReview.entry_id, sa.func.max(EntryReview.at))
                .where(EntryReview.entry_id.in_(sorted(entry_ids))).group_by(EntryReview.entry_id)):
            reviewed[entry_id] = _aware(at)
    found = []
    for person, incident in latest.items():
        reviews = [reviewed[i.entry_id] for i in rows[person] if i.entry_id in reviewed]
        last_review = max(reviews) if reviews else None
        since_when = max([incident.occurred_at] + ([last_review] if last_review else []))
        due_on = to_london(since_when).date() + timedelta(days=REVIEW_EVERY[incident.risk])
        if due_on <= today:
            found.append(Victim(person, [incident], {"risk": incident.risk, "due_on": due_on,
                                                     "last_review": last_review}))
    return found


VICTIM_RULES = {"risk-review-due": risk_reviews_due, "repeat-victims": repeat_victims,
                "case-review": case_review_victims}
VICTIM_MONTHS = max(REPEAT_MONTHS, CASE_REVIEW_MONTHS)


def victim_rows(user: User, beat_ids, today: date) -> dict[int, list[VictimIncident]]:
    """The incidents of every victim who could meet a rule, since the longest look-back of the three."""
    risk_since = london_day_start(today - timedelta(days=RISK_CASE_DAYS))
    since = min(london_day_start(add_months(today, -VICTIM_MONTHS)), risk_since)
    return _victim_rows(user, beat_ids, since, risk_since)


def victim_entry_ids(user: User, today: date, rule: str) -> list[int]:
    """Every beat: the incidents behind a victim figure, for the lists' `set`."""
    found = VICTIM_RULES[rule](victim_rows(user, None, today), today)
    return sorted({i.entry_id for victim in found for i in victim.incidents})


@dataclass
class VictimFigure:
    name: str
    victims: list[Victim]
    incidents: int  # on the chosen beats: the length of the list at url
    url: str


def victim_figures(user: User, scope: Scope, *, listed: int | None = None) -> dict[str, VictimFigure]:
    """The three victim figures for the scope; the first `listed` victims of each have their Person loaded."""
    rows = victim_rows(user, scope.beat_ids, scope.today)
    figures = {}
    for name, rule in VICTIM_RULES.items():
        chosen = []
        for victim in rule(rows, scope.today):
            on_beats = [i for i in victim.incidents if scope.beat_ids is None or i.beat_id in scope.beat_ids]
            if not on_beats:
                continue
            victim.on_beats = len(on_beats)
            chosen.append(victim)
        incidents = {i.entry_id for v in chosen for i in v.incidents
                     if scope.beat_ids is None or i.beat_id in scope.beat_ids}
        figures[name] = VictimFigure(name, chosen, len(incidents), list_url(**scope.beat_args(), set=name))
    for figure in figures.values():
        figure.victims.sort(key=lambda v: (v.detail.get("due_on") or date.min, -len(v.incidents), v.person_id))
    named = {v.person_id for figure in figures.values() for v in figure.victims[:listed]}
    people = {p.id: p for p in db.session.scalars(sa.select(Person).where(Person.id.in_(sorted(named))))}
    for name, figure in figures.items():
        for victim in figure.victims[:listed]:  # only the victims named on the page need their person and link
            victim.person = people[victim.person_id]
            victim.url = list_url(**scope.beat_args(), set=name, person=victim.person_id)
    return figures


# --- the review backlog -------------------------------------------------------------------------------

@dataclass
class Backlog:
    awaiting: int
    oldest_submitted_at: datetime | None
    returned: int
    awaiting_url: str
    returned_url: str


BACKLOG_CAP = 1000


def review_backlog(user: User, scope: Scope) -> Backlog:
    """Entries awaiting review and returned for correction, each counted up to 1,000 (shown as "1,000+")."""
    def count(status: EntryStatus) -> int:
        capped = sa.select(Entry.id).where(_base(user, scope.beat_ids), Entry.status == status).limit(BACKLOG_CAP + 1)
        return db.session.scalar(sa.select(sa.func.count()).select_from(capped.subquery()))

    oldest = None
    beat_ids = scope.beat_ids if scope.beat_ids is not None else db.session.scalars(sa.select(Beat.id)).all()
    for beat_id in sorted(beat_ids):  # one ordered index probe per beat (status, beat_id, submitted_at)
        first = db.session.scalar(
            sa.select(Entry.submitted_at).where(_base(user, {beat_id}), Entry.status == EntryStatus.SUBMITTED)
            .order_by(Entry.submitted_at).limit(1))
        if first is not None and (oldest is None or _aware(first) < oldest):
            oldest = _aware(first)
    awaiting, returned = count(EntryStatus.SUBMITTED), count(EntryStatus.RETURNED)
    return Backlog(awaiting, oldest, returned,
                   list_url(**scope.beat_args(), status=EntryStatus.SUBMITTED.value),
                   list_url(**scope.beat_args(), status=EntryStatus.RETURNED.value))
