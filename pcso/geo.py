"""Geo maths for Beatbook: postcodes, beat boundaries, point-in-beat lookup, distances, geocoding.

Coordinates are WGS84. Functions take ``(lat, lon)``; shapely geometries are ``x=lon, y=lat``.
This module has no Flask imports and never touches the network unless a geocoder is configured.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from geopy.adapters import URLLibAdapter
from geopy.distance import geodesic
from geopy.exc import GeopyError
from geopy.geocoders import Nominatim
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

__all__ = [
    "DATA_DIR",
    "DEFAULT_POSTCODES_PATH",
    "BeatIndex",
    "BeatShape",
    "BoundaryError",
    "GeoError",
    "Geocoder",
    "PostcodeBook",
    "PostcodePoint",
    "bounding_box",
    "distance_m",
    "load_postcode_book",
    "normalise_postcode",
    "parse_boundaries",
]

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_POSTCODES_PATH = DATA_DIR / "trafford_postcodes.csv"


class GeoError(ValueError):
    """A geo input problem; ``str(error)`` is a message fit to show the user."""


class BoundaryError(GeoError):
    """A beat boundary file that cannot be used."""


# --- Postcodes ---------------------------------------------------------------------------------

# BS 7666 shape: outward code A9, A99, AA9, AA99, A9A or AA9A; inward code 9AA without C I K M O V.
_POSTCODE_RE = re.compile(
    r"(?:[A-PR-UWYZ][0-9][0-9]?"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
    r"[0-9][ABD-HJLNP-UW-Z]{2}"
    r"|GIR0AA"
)


def normalise_postcode(text: str) -> str | None:
    """Return ``text`` as a UK postcode in canonical form ("M15 4AB"), or None if it is not one."""
    if not isinstance(text, str):
        return None
    compact = "".join(text.split()).upper()
    if len(compact) > 7 or not _POSTCODE_RE.fullmatch(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"


@dataclass(frozen=True)
class PostcodePoint:
    """A postcode centroid and the ward it lies in."""

    postcode: str
    lat: float
    lon: float
    ward_code: str


class PostcodeBook:
    """An offline postcode -> centroid lookup."""

    def __init__(self, points: Iterable[PostcodePoint], *, skipped: int = 0) -> None:
        self._points: dict[str, PostcodePoint] = {}
        for point in points:
            self._points.setdefault(point.postcode, point)
        self.skipped = skipped

    @classmethod
    def from_csv(cls, path: str | Path) -> PostcodeBook:
        """Load an ONS-style CSV with ``postcode``, ``ward_code``, ``lon`` and ``lat`` columns.

        Rows with an invalid postcode or missing, non-numeric or out-of-range coordinates are
        skipped and counted in ``skipped``.
        """
        points: list[PostcodePoint] = []
        skipped = 0
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = {"postcode", "ward_code", "lon", "lat"} - set(reader.fieldnames or ())
            if missing:
                raise GeoError(
                    f"{Path(path).name} is missing the column(s) {', '.join(sorted(missing))}; "
                    f"it has: {', '.join(reader.fieldnames or ()) or 'no header'}"
                )
            for row in reader:
                postcode = normalise_postcode(row["postcode"] or "")
                lat, lon = _number(row["lat"]), _number(row["lon"])
                if postcode is None or lat is None or lon is None or not _in_range(lon, lat):
                    skipped += 1
                    continue
                points.append(PostcodePoint(postcode, lat, lon, (row["ward_code"] or "").strip()))
        return cls(points, skipped=skipped)

    def lookup(self, text: str) -> PostcodePoint | None:
        """Return the point for a postcode typed in any spacing or case, or None."""
        postcode = normalise_postcode(text)
        return None if postcode is None else self._points.get(postcode)

    def __len__(self) -> int:
        return len(self._points)

    def __iter__(self) -> Iterator[PostcodePoint]:
        return iter(self._points.values())


@lru_cache(maxsize=4)
def load_postcode_book(path: str | Path = DEFAULT_POSTCODES_PATH) -> PostcodeBook:
    """Load a postcode book once per path and keep it for the life of the process."""
    return PostcodeBook.from_csv(path)


# --- Beat boundaries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BeatShape:
    """A validated beat boundary: ``geometry`` is a Polygon or MultiPolygon in lon/lat."""

    code: str
    name: str
    geometry: BaseGeometry

    @property
    def geojson(self) -> dict[str, Any]:
        """The geometry as a GeoJSON geometry dict (lists, not tuples), ready to store."""
        return json.loads(shapely.to_geojson(self.geometry))


_UNSUPPORTED_GEOMETRIES = {
    "Point", "MultiPoint", "LineString", "MultiLineString", "GeometryCollection",
}
_POLYGON_TYPES = {"Polygon", "MultiPolygon"}
_NUMBER_RE = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")
# Great Britain and Northern Ireland, generously.
_UK_LAT = (49.0, 61.5)
_UK_LON = (-9.0, 2.5)


MAX_CODE_LENGTH = 32  # Beat.code
MAX_NAME_LENGTH = 120  # Beat.name


def _check_lengths(shape: BeatShape, where: str) -> BeatShape:
    if len(shape.code) > MAX_CODE_LENGTH:
        raise BoundaryError(f"{where}: the code {_short(shape.code)} is longer than {MAX_CODE_LENGTH} characters.")
    if len(shape.name) > MAX_NAME_LENGTH:
        raise BoundaryError(f"{where}: the name is longer than {MAX_NAME_LENGTH} characters.")
    return shape


def parse_boundaries(
    text: str | bytes,
    *,
    code_property: str = "code",
    name_property: str = "name",
    code: str | None = None,
    name: str | None = None,
) -> list[BeatShape]:
    """Parse and validate beat boundaries; raise BoundaryError naming the first problem found.

    Accepts a GeoJSON FeatureCollection or Feature of Polygon/MultiPolygon geometries (code
    and name read from ``code_property`` and ``name_property``), a bare Polygon/MultiPolygon,
    or a data.police.uk boundary (a list of ``{"latitude": .., "longitude": ..}`` points).
    ``code`` and ``name`` name a file holding a single boundary, overriding its properties.
    Points that lie in the UK only with x and y exchanged are rejected as swapped.
    """
    data = _load_json(text)
    if code is not None:
        code = code.strip()
        if not code:
            raise BoundaryError("The beat code given is empty.")
    if name is not None:
        name = name.strip() or None

    if isinstance(data, list):
        if code is None:
            raise BoundaryError(
                "A data.police.uk boundary has no properties, so it needs a beat code (--code)."
            )
        ring = _police_uk_ring(data)
        geometry = Polygon(ring)
        _check_geometry(geometry, f"Beat {_short(code)}")
        return [_check_lengths(BeatShape(code, name or code, geometry), f"Beat {_short(code)}")]

    if not isinstance(data, dict):
        raise BoundaryError(
            f"Expected a GeoJSON FeatureCollection or a data.police.uk boundary list, "
            f"but the file holds {_describe(data)}."
        )

    kind = data.get("type")
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise BoundaryError("The FeatureCollection has no 'features' list.")
        if not features:
            raise BoundaryError("The FeatureCollection has no features.")
        if (code is not None or name is not None) and len(features) > 1:
            raise BoundaryError(
                "A beat code or name (--code, --name) can only be given for a file holding one "
                f"boundary; this one holds {len(features)} features."
            )
    elif kind == "Feature":
        features = [data]
    elif not isinstance(kind, str):
        raise BoundaryError(
            "Expected a GeoJSON FeatureCollection or Feature, "
            "but the JSON object has no GeoJSON 'type'."
        )
    elif kind in _POLYGON_TYPES:
        if code is None:
            raise BoundaryError(
                f"A bare GeoJSON {kind} has no properties, so it needs a beat code (--code)."
            )
        features = [{"type": "Feature", "properties": {}, "geometry": data}]
    elif kind in _UNSUPPORTED_GEOMETRIES:
        raise BoundaryError(
            f"The file holds a {kind} geometry; a beat boundary must be a Polygon or MultiPolygon."
        )
    else:
        raise BoundaryError(
            "Expected a GeoJSON FeatureCollection or Feature, "
            f"but the JSON object has type {_short(kind)}."
        )

    shapes: list[BeatShape] = []
    seen: dict[str, int] = {}
    for index, feature in enumerate(features):
        shape = _check_lengths(_parse_feature(feature, index, code_property, name_property, code, name),
                               f"features[{index}]")
        if shape.code in seen:
            raise BoundaryError(
                f"features[{index}]: the code {_short(shape.code)} is already used by "
                f"features[{seen[shape.code]}]; each beat needs its own code."
            )
        seen[shape.code] = index
        shapes.append(shape)
    return shapes


def _load_json(text: str | bytes) -> Any:
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BoundaryError(
                f"The file is not UTF-8 text (bad byte at position {exc.start}); "
                "save it as UTF-8 GeoJSON."
            ) from None
    if not isinstance(text, str):
        raise BoundaryError("The boundary must be given as text or bytes.")
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise BoundaryError("The file is empty.")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BoundaryError(
            f"The file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from None
    except (ValueError, RecursionError):
        raise BoundaryError("The file is not valid JSON (nested too deeply or too big).") from None


def _parse_feature(
    feature: Any,
    index: int,
    code_property: str,
    name_property: str,
    code: str | None,
    name: str | None,
) -> BeatShape:
    where = f"features[{index}]"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise BoundaryError(f"{where}: expected a GeoJSON Feature, found {_describe(feature)}.")
    properties = feature.get("properties")
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        raise BoundaryError(f"{where}: 'properties' must be a JSON object.")

    from_properties = code is None
    if code is None:
        code = _text_property(properties, code_property, where, required=True)
        if not code:
            raise BoundaryError(f"{where}: the code property {code_property!r} is empty.")
    where = f"{where} (code {_short(code)})"
    if name is None:
        name = _text_property(properties, name_property, where, required=from_properties) or code

    geometry = feature.get("geometry")
    if not isinstance(geometry, dict):
        raise BoundaryError(f"{where}: the feature has no geometry.")
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if kind == "Polygon":
        shape: BaseGeometry = _polygon(coordinates, where)
    elif kind == "MultiPolygon":
        if not isinstance(coordinates, list) or not coordinates:
            raise BoundaryError(f"{where}: the MultiPolygon has no polygons.")
        shape = MultiPolygon(
            [_polygon(part, f"{where}, polygon {i}") for i, part in enumerate(coordinates)]
        )
    else:
        shown = _short(kind) if isinstance(kind, str) else "missing"
        raise BoundaryError(
            f"{where}: geometry type {shown} is not supported; "
            "a beat boundary must be a Polygon or MultiPolygon."
        )
    _check_geometry(shape, where)
    _check_not_swapped(shape, where)
    return BeatShape(code, name, shape)


def _text_property(properties: dict[str, Any], key: str, where: str, *, required: bool) -> str:
    if key not in properties:
        if not required:
            return ""
        names = [_short(k) for k in list(properties)[:12]]
        existing = ", ".join(names + ["..."] * (len(properties) > 12)) or "none"
        raise BoundaryError(f"{where}: no property {key!r}; its properties are: {existing}.")
    value = properties[key]
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if value is None and not required:
        return ""
    raise BoundaryError(f"{where}: property {key!r} must be text, not {_describe(value)}.")


def _polygon(coordinates: Any, where: str) -> Polygon:
    if not isinstance(coordinates, list) or not coordinates:
        raise BoundaryError(f"{where}: the Polygon has no rings.")
    rings = []
    for r, ring in enumerate(coordinates):
        label = "outer ring" if r == 0 else f"hole {r}"
        if not isinstance(ring, list):
            raise BoundaryError(f"{where}: the {label} must be a list of positions.")
        points = [_position(p, f"{where}, {label}, point {i}") for i, p in enumerate(ring)]
        if len(points) < 4:
            raise BoundaryError(
                f"{where}: the {label} has {len(points)} point(s); a ring needs at least 4 "
                "(3 corners and the first repeated at the end)."
            )
        if points[0] != points[-1]:
            raise BoundaryError(
                f"{where}: the {label} is not closed (its last point must repeat the first)."
            )
        if len(set(points)) < 3:
            raise BoundaryError(
                f"{where}: the {label} has only {len(set(points))} distinct point(s); "
                "it needs at least 3."
            )
        rings.append(points)
    return Polygon(rings[0], rings[1:])


def _position(value: Any, where: str) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise BoundaryError(f"{where}: expected [longitude, latitude], found {_describe(value)}.")
    lon, lat = (_number(v, allow_text=False) for v in value[:2])
    if lon is None or lat is None:
        raise BoundaryError(
            f"{where}: coordinates must be finite numbers, found {_short(value[:2])}."
        )
    _check_range(lon, lat, where)
    return lon, lat


def _police_uk_ring(points: list[Any]) -> list[tuple[float, float]]:
    if not points:
        raise BoundaryError("The data.police.uk boundary is empty: it has no points.")
    ring: list[tuple[float, float]] = []
    for i, point in enumerate(points):
        where = f"point {i}"
        if not isinstance(point, dict) or "latitude" not in point or "longitude" not in point:
            raise BoundaryError(
                f"{where}: expected {{\"latitude\": ..., \"longitude\": ...}} "
                f"(the data.police.uk boundary format), found {_describe(point)}."
            )
        lat, lon = _number(point["latitude"]), _number(point["longitude"])
        if lat is None or lon is None:
            raise BoundaryError(
                f"{where}: latitude and longitude must be numbers, found "
                f"{_short(point['latitude'])} and {_short(point['longitude'])}."
            )
        _check_range(lon, lat, where)
        ring.append((lon, lat))
    distinct = len(set(ring))
    if distinct < 3:
        raise BoundaryError(
            f"The data.police.uk boundary has {distinct} distinct point(s); it needs at least 3."
        )
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    lons = [x for x, _ in ring]
    lats = [y for _, y in ring]
    if _looks_swapped(min(lons), min(lats), max(lons), max(lats)):
        raise BoundaryError(
            "The latitude and longitude values look swapped (latitudes near 0, longitudes "
            "near 50-60); check the file."
        )
    return ring


def _number(value: Any, *, allow_text: bool = True) -> float | None:
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


def _check_range(lon: float, lat: float, where: str) -> None:
    if -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0:
        return
    if abs(lon) > 180.0 or abs(lat) > 180.0:
        hint = (
            " These look like projected coordinates (such as British National Grid metres); "
            "export the boundary as WGS84 longitude/latitude (EPSG:4326)."
        )
    elif -90.0 <= lon <= 90.0:
        hint = " Latitude and longitude may be swapped."
    else:
        hint = ""
    raise BoundaryError(
        f"{where}: longitude {lon:g}, latitude {lat:g} is out of range "
        f"(longitude -180 to 180, latitude -90 to 90).{hint}"
    )


def _looks_swapped(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> bool:
    """True when every point lies in the UK only if x and y trade places."""
    return (
        _UK_LAT[0] <= min_lon and max_lon <= _UK_LAT[1]
        and _UK_LON[0] <= min_lat and max_lat <= _UK_LON[1]
    )


def _check_geometry(geometry: BaseGeometry, where: str) -> None:
    if not shapely.is_valid(geometry):
        reason = shapely.is_valid_reason(geometry)
        raise BoundaryError(
            f"{where}: the boundary is not a valid polygon ({reason}); look for an outline that "
            "crosses itself or rings that overlap."
        )
    if geometry.is_empty or geometry.area <= 0:
        raise BoundaryError(f"{where}: the boundary encloses no area.")


def _check_not_swapped(geometry: BaseGeometry, where: str) -> None:
    if _looks_swapped(*geometry.bounds):
        raise BoundaryError(
            f"{where}: the coordinates look like [latitude, longitude]; "
            "GeoJSON positions are [longitude, latitude]."
        )


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a true/false value"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a JSON object"
    return type(value).__name__


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


# --- Optional online geocoder ------------------------------------------------------------------


class Geocoder:
    """Wraps a geopy geocoder: one attempt, short timeout, None on any failure.

    Queries are addresses and therefore sensitive: they are never logged here. (geopy itself
    logs request URLs at DEBUG on the "geopy" logger; keep that logger above DEBUG.)
    """

    def __init__(self, backend: Any, **query_options: Any) -> None:
        self._backend = backend
        self._query_options = query_options

    @classmethod
    def from_config(
        cls,
        name: str | None,
        *,
        user_agent: str,
        timeout: float = 3.0,
        domain: str | None = None,
        scheme: str = "https",
    ) -> Geocoder | None:
        """Build the configured geocoder; None when ``name`` is empty or "none"."""
        key = (name or "").strip().lower()
        if key in ("", "none"):
            return None
        if key != "nominatim":
            raise GeoError(f"Unknown geocoder {_short(name)}; use 'none' or 'nominatim'.")
        if not user_agent or not user_agent.strip():
            raise GeoError("The Nominatim geocoder needs a user agent naming this application.")
        options: dict[str, Any] = {
            "user_agent": user_agent,
            "timeout": timeout,
            "scheme": scheme,
            # urllib makes exactly one attempt; geopy's requests adapter would retry.
            "adapter_factory": URLLibAdapter,
        }
        if domain:
            options["domain"] = domain
        return cls(Nominatim(**options), country_codes="gb")

    def geocode(self, query: str) -> tuple[float, float] | None:
        """Return ``(lat, lon)`` for an address, or None if not found or the service fails."""
        if not query or not query.strip():
            return None
        try:
            location = self._backend.geocode(query, exactly_one=True, **self._query_options)
        except (GeopyError, OSError, ValueError) as exc:
            # The exception text can include the request URL, and so the address: log the type only.
            log.warning("Geocoder %s failed: %s", type(self._backend).__name__, type(exc).__name__)
            return None
        if location is None:
            return None
        lat, lon = _number(location.latitude), _number(location.longitude)
        if lat is None or lon is None or not _in_range(lon, lat):
            return None
        return lat, lon


# --- Helpers -----------------------------------------------------------------------------------


def _in_range(lon: float, lat: float) -> bool:
    return -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0
