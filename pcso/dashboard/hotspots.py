"""Dashboard hotspots and the street-crime layer.

- hotspots: ASB incidents on a ~300 m grid, in the last 7 or 28 London days against the 28 days before;
- street crime: data.police.uk rows on the beats for the months the period touches (the map layer).

The shift briefing reuses `hotspots()`.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from flask import current_app

from ..context.police_uk_layer import street_crime_points
from ..extensions import db
from ..models import Entry, EntryKind, User
from ..postcodes import DEFAULT_POSTCODES_PATH, load_postcode_book
from ..timeutil import london_day_start, to_london
from .scope import Scope, counted, grid_cell, list_url

HOTSPOT_BEFORE_DAYS = 28
HOTSPOT_LAT_STEP, HOTSPOT_LON_STEP = 0.0027, 0.0045  # ~300 m x ~300 m at 53.4 N
HOTSPOT_MIN, HOTSPOT_LIMIT = 2, 12
STREET_CRIME_POINTS = 3000


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
    cell_lat, cell_lon = grid_cell(Entry.lat, HOTSPOT_LAT_STEP).label("cell_lat"), grid_cell(Entry.lon, HOTSPOT_LON_STEP).label("cell_lon")

    def window(fn, column):
        return fn(sa.case((in_window, column), else_=None))

    count = sa.func.sum(sa.case((in_window, 1), else_=0))
    rows = db.session.execute(
        sa.select(cell_lat, cell_lon, count.label("n"), sa.func.sum(sa.case((in_window, 0), else_=1)).label("before"),
                  window(sa.func.avg, Entry.lat), window(sa.func.avg, Entry.lon),
                  window(sa.func.min, Entry.lat), window(sa.func.min, Entry.lon),
                  window(sa.func.max, Entry.lat), window(sa.func.max, Entry.lon))
        .where(counted(user, beat_ids), Entry.kind == EntryKind.ASB_INCIDENT, Entry.lat.is_not(None),
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


def street_crime_map(beat_ids, scope: Scope) -> tuple[list[dict], int]:
    """data.police.uk crimes on the beats in the months the period touches: the busiest map points
    (``{"lat", "lon", "n", "label"}``) and the number of crimes."""
    points = street_crime_points(beat_ids, since=scope.date_from.replace(day=1), until=scope.date_to)
    shown = [{"lat": p["lat"], "lon": p["lon"], "n": p["count"],
              "label": "; ".join(f"{t} {n}" for t, n in p["crime_types"])} for p in points[:STREET_CRIME_POINTS]]
    return shown, sum(p["count"] for p in points)
