"""Beat boundary files: parse and validate GeoJSON or data.police.uk boundaries into BeatShapes.

Coordinates are WGS84; shapely geometries are ``x=lon, y=lat``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from .geo import GeoError, finite_number, short_repr

__all__ = ["BeatShape", "BoundaryError", "parse_boundaries"]


class BoundaryError(GeoError):
    """A beat boundary file that cannot be used."""


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
# Great Britain and Northern Ireland, generously.
_UK_LAT = (49.0, 61.5)
_UK_LON = (-9.0, 2.5)


MAX_CODE_LENGTH = 32  # Beat.code
MAX_NAME_LENGTH = 120  # Beat.name


def _check_lengths(shape: BeatShape, where: str) -> BeatShape:
    if len(shape.code) > MAX_CODE_LENGTH:
        raise BoundaryError(f"{where}: the code {short_repr(shape.code)} is longer than {MAX_CODE_LENGTH} characters.")
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
        _check_geometry(geometry, f"Beat {short_repr(code)}")
        return [_check_lengths(BeatShape(code, name or code, geometry), f"Beat {short_repr(code)}")]

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
            f"but the JSON object has type {short_repr(kind)}."
        )

    shapes: list[BeatShape] = []
    seen: dict[str, int] = {}
    for index, feature in enumerate(features):
        shape = _check_lengths(_parse_feature(feature, index, code_property, name_property, code, name),
                               f"features[{index}]")
        if shape.code in seen:
            raise BoundaryError(
                f"features[{index}]: the code {short_repr(shape.code)} is already used by "
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
    where = f"{where} (code {short_repr(code)})"
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
        shown = short_repr(kind) if isinstance(kind, str) else "missing"
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
        names = [short_repr(k) for k in list(properties)[:12]]
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
    lon, lat = (finite_number(v, allow_text=False) for v in value[:2])
    if lon is None or lat is None:
        raise BoundaryError(
            f"{where}: coordinates must be finite numbers, found {short_repr(value[:2])}."
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
        lat, lon = finite_number(point["latitude"]), finite_number(point["longitude"])
        if lat is None or lon is None:
            raise BoundaryError(
                f"{where}: latitude and longitude must be numbers, found "
                f"{short_repr(point['latitude'])} and {short_repr(point['longitude'])}."
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

