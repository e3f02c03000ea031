"""Dashboard counts: entries by kind over time, ASB by NSIR category and type, patrol hours, the review backlog.

- entries by kind over time: entries whose `occurred_at` falls in the period, by London day (weeks for
  periods over 31 days, months over 190); grouped in SQL by UTC hour, the same on SQLite and
  PostgreSQL, and put on London days in Python (London's offset is a whole number of hours);
- ASB by NSIR category and type; patrol hours by beat and mode (ended patrols; open ones count no hours);
- review backlog: entries awaiting review (submitted), and those returned for correction.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from ..extensions import db
from ..models import AsbType, Beat, Entry, EntryKind, EntryStatus, NsirCategory, PatrolMode, User
from ..timeutil import to_london
from .scope import (
    ASB, ENTRY, PATROL, Scope, add_months, aware, beats_by_name, counted, hours_between, in_period, list_url, utc_hour,
)


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
    hour = utc_hour(Entry.occurred_at).label("hour")
    rows = db.session.execute(
        sa.select(Entry.kind, hour, sa.func.count().label("n"))
        .where(counted(user, scope.beat_ids), in_period(scope))
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
        .where(counted(user, scope.beat_ids), in_period(scope))
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
    hours = sa.case((PATROL.c.ended_at.is_(None), 0.0), else_=hours_between(PATROL.c.started_at, PATROL.c.ended_at))
    rows = db.session.execute(
        sa.select(Entry.beat_id, PATROL.c.mode, sa.func.count().label("n"), sa.func.sum(hours).label("hours"))
        .select_from(ENTRY.join(PATROL, PATROL.c.id == ENTRY.c.id))
        .where(counted(user, scope.beat_ids), in_period(scope))
        .group_by(Entry.beat_id, PATROL.c.mode)
    ).all()
    common = dict(kind=EntryKind.PATROL.slug, **scope.period_args())
    cells: dict[int, dict[PatrolMode, PatrolCell]] = defaultdict(dict)
    for beat_id, mode, n, total in rows:
        mode = PatrolMode(mode)
        cells[beat_id][mode] = PatrolCell(float(total or 0), n, list_url(beat=beat_id, mode=mode.value, **common))
    beats = {beat.id: beat for beat in beats_by_name(cells)}
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
        capped = sa.select(Entry.id).where(counted(user, scope.beat_ids), Entry.status == status).limit(BACKLOG_CAP + 1)
        return db.session.scalar(sa.select(sa.func.count()).select_from(capped.subquery()))

    oldest = None
    beat_ids = scope.beat_ids if scope.beat_ids is not None else db.session.scalars(sa.select(Beat.id)).all()
    for beat_id in sorted(beat_ids):  # one ordered index probe per beat (status, beat_id, submitted_at)
        first = db.session.scalar(
            sa.select(Entry.submitted_at).where(counted(user, {beat_id}), Entry.status == EntryStatus.SUBMITTED)
            .order_by(Entry.submitted_at).limit(1))
        if first is not None and (oldest is None or aware(first) < oldest):
            oldest = aware(first)
    awaiting, returned = count(EntryStatus.SUBMITTED), count(EntryStatus.RETURNED)
    return Backlog(awaiting, oldest, returned,
                   list_url(**scope.beat_args(), status=EntryStatus.SUBMITTED.value),
                   list_url(**scope.beat_args(), status=EntryStatus.RETURNED.value))
