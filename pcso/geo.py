"""Geo maths for Beatbook: point-in-beat lookup, distances, and the small helpers the geo modules share.

Coordinates are WGS84. Functions take ``(lat, lon)``; shapely geometries are ``x=lon, y=lat``.
Postcodes live in pcso.postcodes, boundary parsing in pcso.boundaries, the geocoder in pcso.geocoder.
This module has no Flask imports and never touches the network.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from geopy.distance import geodesic
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

__all__ = [
    "DATA_DIR",
    "BeatIndex",
    "GeoError",
    "bounding_box",
    "distance_m",
    "finite_number",
    "in_range",
    "short_repr",
]

DATA_DIR = Path(__file__).resolve().parent / "data"


class GeoError(ValueError):
    """A geo input problem; ``str(error)`` is a message fit to show the user."""


# --- Point in beat -----------------------------------------------------------------------------


class BeatIndex:
    """Finds the beat containing a point, using an STRtree over prepared beat geometries."""

    def __init__(self, beats: Iterable[tuple[int, BaseGeometry]]) -> None:
        pairs = sorted(beats, key=lambda pair: pair[0])
        self._ids = np.array([beat_id for beat_id, _ in pairs], dtype=np.int64)
        self._geometries = np.array([geometry for _, geometry in pairs], dtype=object)
        shapely.prepare(self._geometries)
        self._tree = shapely.STRtree(self._geometries)

    def __len__(self) -> int:
        return len(self._ids)

    def locate(self, lat: float, lon: float) -> int | None:
        """Return the id of the beat covering the point; on a shared edge the lowest id wins."""
        point = Point(lon, lat)
        # Geometries are sorted by id, so the first covering candidate has the lowest id.
        for i in np.sort(self._tree.query(point)):
            if self._geometries[i].covers(point):
                return int(self._ids[i])
        return None

    def locate_many(self, points: Iterable[tuple[float, float]]) -> list[int | None]:
        """Vectorised ``locate`` over ``(lat, lon)`` pairs."""
        coords = np.asarray(list(points), dtype=float).reshape(-1, 2)
        if not len(coords) or not len(self._ids):
            return [None] * len(coords)
        geoms = shapely.points(coords[:, 1], coords[:, 0])
        point_idx, beat_idx = self._tree.query(geoms)
        hit = shapely.covers(self._geometries[beat_idx], geoms[point_idx])
        best = np.full(len(coords), len(self._ids), dtype=np.int64)
        np.minimum.at(best, point_idx[hit], beat_idx[hit])
        return [None if b == len(self._ids) else int(self._ids[b]) for b in best]


# --- Distances ---------------------------------------------------------------------------------

# Shortest metres per degree on WGS84: a meridian degree at the equator, and a*cos(lat) along a
# parallel (the true parallel length is longer), so the box below errs on the large side.
_MIN_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 6_378_137.0 * math.pi / 180.0
_BOX_MARGIN = 1.01


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Geodesic (WGS84) distance in metres."""
    return geodesic((lat1, lon1), (lat2, lon2)).meters


def bounding_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """A box ``(min_lat, min_lon, max_lat, max_lon)`` holding every point within ``radius_m``.

    Conservative (slightly too large) so it can prefilter a SQL query before an exact distance.
    Near the poles or across the antimeridian the longitude range widens to -180..180.
    """
    if not radius_m >= 0 or not math.isfinite(radius_m):
        raise ValueError("radius_m must be a finite number of metres, at least 0")
    dlat = radius_m * _BOX_MARGIN / _MIN_M_PER_DEG_LAT
    min_lat, max_lat = max(lat - dlat, -90.0), min(lat + dlat, 90.0)
    cos_far = math.cos(math.radians(max(abs(min_lat), abs(max_lat))))
    if cos_far <= 1e-9:
        return min_lat, -180.0, max_lat, 180.0
    dlon = radius_m * _BOX_MARGIN / (_M_PER_DEG_LON_EQUATOR * cos_far)
    if dlon >= 180.0 or lon - dlon < -180.0 or lon + dlon > 180.0:
        return min_lat, -180.0, max_lat, 180.0
    return min_lat, lon - dlon, max_lat, lon + dlon



# --- Helpers -----------------------------------------------------------------------------------

_NUMBER_RE = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")


def finite_number(value: Any, *, allow_text: bool = True) -> float | None:
    """A finite float from a number (or, with ``allow_text``, a plain decimal string), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and allow_text:
        if not _NUMBER_RE.fullmatch(value):
            return None
    elif not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None



def in_range(lon: float, lat: float) -> bool:
    """True for a valid longitude/latitude pair."""
    return -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0


def short_repr(value: Any, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters, to quote user input in a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."

