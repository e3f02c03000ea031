"""The dashboard's measure of patrol suggestions: how much patrol time went to them, and what happened there.

For the dashboard's scope (beats, period), from the suggestions kept as shown (patrol_suggestion, every officer's):
- patrol time: patrols (the viewer may see, not drafts, in the period) started from a suggestion, against all
  patrol time on the beats in the period;
- per suggested place (one per place-and-window, its first day in the period): the ASB incidents within its
  radius in the AFTER_DAYS days after that day and the same number of days before, for places patrolled from
  a suggestion and for the others alike, so the two can be compared. A place suggested too recently for the
  days after to have passed is counted as "too soon", not as a fall.
This is a comparison of counts, not proof that patrols caused anything (docs/PATROL_SUGGESTIONS.md).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from ..dashboard.scope import ENTRY, PATROL, Scope, beats_clause, counted, hours_between, in_period
from ..extensions import db
from ..models import Entry, EntryKind, PatrolSuggestion, User
from ..timeutil import london_day_start
from .method import to_metres

AFTER_DAYS = 14
PLACES_LIMIT = 50  # the most recently suggested places measured (one query each)
LISTED = 10


@dataclass
class PlaceOutcome:
    key: str
    beat_id: int
    postcode: str | None
    lat: float
    lon: float
    reason: str
    first_on: date
    patrols: int
    before: int
    after: int | None  # None: too soon

    @property
    def place(self) -> str:
        return self.postcode or f"{self.lat:.4f}, {self.lon:.4f}"


@dataclass
class SuggestionMeasure:
    days: int
    places: list[PlaceOutcome] = field(default_factory=list)
    started: int = 0
    started_hours: float = 0.0
    patrol_hours: float = 0.0

    @property
    def share(self) -> float | None:
        return self.started_hours / self.patrol_hours if self.patrol_hours else None

    def totals(self, patrolled: bool) -> tuple[int, int, int]:
        """(places, reports before, reports after) of places measured (not too soon), patrolled or not."""
        done = [p for p in self.places if p.after is not None and (p.patrols > 0) == patrolled]
        return len(done), sum(p.before for p in done), sum(p.after for p in done)

    @property
    def too_soon(self) -> int:
        return sum(1 for p in self.places if p.after is None)

    @property
    def listed(self) -> list[PlaceOutcome]:
        return self.places[:LISTED]


def _hours(user: User, scope: Scope, *extra) -> tuple[int, float]:
    hours = sa.case((PATROL.c.ended_at.is_(None), 0.0), else_=hours_between(PATROL.c.started_at, PATROL.c.ended_at))
    n, total = db.session.execute(
        sa.select(sa.func.count(), sa.func.sum(hours)).select_from(ENTRY.join(PATROL, PATROL.c.id == ENTRY.c.id))
        .where(counted(user, scope.beat_ids), in_period(scope), *extra)).one()
    return int(n or 0), float(total or 0.0)


def _reports_near(user: User, scope: Scope, beat_id: int, lat: float, lon: float, radius_m: float, start, end) -> int:
    dlat, dlon = radius_m / 110_574, radius_m / (111_320 * math.cos(math.radians(lat)))
    rows = db.session.execute(
        sa.select(Entry.lat, Entry.lon).where(
            counted(user, {beat_id}), Entry.kind == EntryKind.ASB_INCIDENT, Entry.occurred_at >= start,
            Entry.occurred_at < end, Entry.lat.between(lat - dlat, lat + dlat), Entry.lon.between(lon - dlon, lon + dlon))
    ).all()
    centre = to_metres(lat, lon)
    return sum(1 for r_lat, r_lon in rows if math.dist(centre, to_metres(r_lat, r_lon)) <= radius_m)


def suggestion_measure(user: User, scope: Scope, *, days: int = AFTER_DAYS) -> SuggestionMeasure:
    measure = SuggestionMeasure(days=days)
    rows = db.session.scalars(
        sa.select(PatrolSuggestion).where(beats_clause(PatrolSuggestion.beat_id, scope.beat_ids),
                                          PatrolSuggestion.suggested_on >= scope.date_from,
                                          PatrolSuggestion.suggested_on <= scope.date_to)
        .order_by(PatrolSuggestion.suggested_on, PatrolSuggestion.id)).all()
    first: dict[str, PatrolSuggestion] = {}
    ids_by_key: dict[str, list[int]] = {}
    for row in rows:
        first.setdefault(row.key, row)
        ids_by_key.setdefault(row.key, []).append(row.id)
    measure.started, measure.started_hours = _hours(user, scope, PATROL.c.suggestion_id.is_not(None))
    _, measure.patrol_hours = _hours(user, scope)
    patrols_by_suggestion = dict(db.session.execute(
        sa.select(PATROL.c.suggestion_id, sa.func.count()).select_from(ENTRY.join(PATROL, PATROL.c.id == ENTRY.c.id))
        .where(counted(user, scope.beat_ids), PATROL.c.suggestion_id.in_([i for ids in ids_by_key.values() for i in ids]))
        .group_by(PATROL.c.suggestion_id)).all()) if rows else {}
    recent = sorted(first.values(), key=lambda r: (r.suggested_on, r.id), reverse=True)[:PLACES_LIMIT]
    for row in recent:
        day = london_day_start(row.suggested_on)
        complete = row.suggested_on + timedelta(days=days) <= scope.today
        near = dict(user=user, scope=scope, beat_id=row.beat_id, lat=row.lat, lon=row.lon, radius_m=row.radius_m)
        measure.places.append(PlaceOutcome(
            key=row.key, beat_id=row.beat_id, postcode=row.postcode, lat=row.lat, lon=row.lon, reason=row.reason,
            first_on=row.suggested_on, patrols=sum(patrols_by_suggestion.get(i, 0) for i in ids_by_key[row.key]),
            before=_reports_near(**near, start=day - timedelta(days=days), end=day),
            after=_reports_near(**near, start=day, end=day + timedelta(days=days)) if complete else None))
    return measure
