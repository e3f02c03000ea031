"""The street-crime context layer read back per beat: counts by type and month, and points for the map."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..models import StreetCrime

LAYER_LABEL = "data.police.uk street-level crime (public, monthly, approximate location)"
ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0 (data.police.uk)."
LATEST_MONTHS = 3  # the beat page shows this many of the newest months held for the beat


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


def street_crime_points(beat_ids: Iterable[int] | None = None, months: Iterable[date] | None = None, *,
                        since: date | None = None, until: date | None = None) -> list[dict[str, Any]]:
    """Street-level crimes aggregated by snap point, most first: one dict per point.

    ``{"lat", "lon", "count", "location", "beat_id", "month" (newest, "YYYY-MM"), "months" (all,
    newest first), "crime_types" ([type, count] pairs, most first)}``. ``beat_ids`` None means every
    beat; ``months`` None means every month held; ``since``/``until`` bound the months held (a month is
    the 1st of it). For the beat page and the dashboard map.
    """
    query = sa.select(StreetCrime.lat, StreetCrime.lon, StreetCrime.location, StreetCrime.beat_id,
                      StreetCrime.month, StreetCrime.crime_type, sa.func.count()).group_by(
        StreetCrime.lat, StreetCrime.lon, StreetCrime.location, StreetCrime.beat_id, StreetCrime.month,
        StreetCrime.crime_type)
    query = _beat_filter(query, beat_ids)
    if months is not None:
        query = query.where(StreetCrime.month.in_(list(months)))
    if since is not None:
        query = query.where(StreetCrime.month >= since)
    if until is not None:
        query = query.where(StreetCrime.month <= until)
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
