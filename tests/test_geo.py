"""Tests for pcso.geo (point-in-beat, distances), pcso.postcodes, pcso.boundaries and pcso.geocoder."""

from __future__ import annotations

import csv
import json
import logging
import random
import socket
import time
from pathlib import Path

import pytest
from shapely.geometry import Point, Polygon
from shapely.ops import nearest_points

from pcso import geo
from pcso.boundaries import BeatShape, BoundaryError, parse_boundaries
from pcso.geo import BeatIndex, GeoError, bounding_box, distance_m
from pcso.geocoder import Geocoder
from pcso.postcodes import DEFAULT_POSTCODES_PATH, PostcodeBook, PostcodePoint, load_postcode_book, normalise_postcode

WARDS_PATH = geo.DATA_DIR / "trafford_ward_2023_generalised.geojson"
POSTCODES_PATH = geo.DATA_DIR / "trafford_postcodes.csv"

# Generalised ward polygons: two centroids sit just over a simplified edge (measured 0.8 m and
# 6.3 m from their own ward), so the golden test allows 2 misses within 10 m.
MAX_MISMATCHES = 2
MAX_MISMATCH_METRES = 10.0


@pytest.fixture(scope="module")
def wards() -> list[BeatShape]:
    return parse_boundaries(
        WARDS_PATH.read_bytes(), code_property="area_code", name_property="area_name"
    )


@pytest.fixture(scope="module")
def ward_index(wards: list[BeatShape]) -> BeatIndex:
    return BeatIndex((i, ward.geometry) for i, ward in enumerate(wards))


def _collection(*features: dict) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def _feature(coordinates: list, *, code: str = "B1", name: str = "Beat 1",
             kind: str = "Polygon") -> dict:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name},
        "geometry": {"type": kind, "coordinates": coordinates},
    }


SQUARE = [[[-2.30, 53.40], [-2.29, 53.40], [-2.29, 53.41], [-2.30, 53.41], [-2.30, 53.40]]]
OTHER_SQUARE = [[[-2.28, 53.40], [-2.27, 53.40], [-2.27, 53.41], [-2.28, 53.41], [-2.28, 53.40]]]


# --- Postcodes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("m154ab", "M15 4AB"),
        (" M15  4AB ", "M15 4AB"),
        ("M15 4AB", "M15 4AB"),
        ("wa14 2ue", "WA14 2UE"),
        ("SW1A1AA", "SW1A 1AA"),
        ("w1a 0ax", "W1A 0AX"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("B33 8TH", "B33 8TH"),
        ("gir 0aa", "GIR 0AA"),
        ("M1\t1AE", "M1 1AE"),
        ("", None),
        ("   ", None),
        ("M15", None),
        ("M15 4A", None),
        ("M15 4ABC", None),
        ("MZ154AB", None),  # Z is never the second letter
        ("Q1 1AA", None),  # Q never starts a postcode
        ("M1 1CA", None),  # C never appears in the inward code
        ("12345", None),
        ("M15-4AB", None),
        ("M15 4AB; DROP TABLE", None),
    ],
)
def test_normalise_postcode(text: str, expected: str | None) -> None:
    assert normalise_postcode(text) == expected


def test_every_postcode_in_the_file_is_already_canonical() -> None:
    with POSTCODES_PATH.open(newline="", encoding="utf-8") as handle:
        postcodes = [row["postcode"] for row in csv.DictReader(handle)]
    assert [normalise_postcode(p) for p in postcodes] == postcodes


def test_lookup_finds_a_real_postcode_typed_loosely() -> None:
    book = PostcodeBook.from_csv(POSTCODES_PATH)
    point = book.lookup("m15 4ab")
    assert point == PostcodePoint("M15 4AB", 53.465578, -2.26046, "E05015247")
    assert book.lookup("M15 9ZZ") is None  # valid shape, not in Trafford
    assert book.lookup("not a postcode") is None
    assert len(book) == 11_264
    assert book.skipped == 0
    assert sum(1 for _ in book) == len(book)


def test_from_csv_skips_rows_with_bad_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "postcodes.csv"
    path.write_text(
        "postcode,ward_code,ward_name,lon,lat\n"
        "M15 4AB,E1,A,-2.26046,53.465578\n"
        "M15 4AD,E1,A,,\n"
        "M15 4AE,E1,A,west,north\n"
        "M15 4AF,E1,A,nan,53.4\n"
        "M15 4AG,E1,A,-2.2,95\n"
        "NOTAPOSTCODE,E1,A,-2.2,53.4\n"
        "m154ah,E2,B,-2.25,53.46\n",
        encoding="utf-8",
    )
    book = PostcodeBook.from_csv(path)
    assert [p.postcode for p in book] == ["M15 4AB", "M15 4AH"]
    assert book.skipped == 5


def test_from_csv_names_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "postcodes.csv"
    path.write_text("postcode,latitude,longitude\nM15 4AB,53.4,-2.2\n", encoding="utf-8")
    with pytest.raises(GeoError, match="missing the column.*lat, lon, ward_code"):
        PostcodeBook.from_csv(path)


def test_load_postcode_book_is_cached() -> None:
    assert load_postcode_book() is load_postcode_book()
    assert DEFAULT_POSTCODES_PATH.is_file()
    assert load_postcode_book().lookup("WA14 2UE") is not None


# --- Boundaries --------------------------------------------------------------------------------


def test_parse_trafford_wards(wards: list[BeatShape]) -> None:
    assert len(wards) == 21
    assert len({ward.code for ward in wards}) == 21
    altrincham = next(ward for ward in wards if ward.code == "E05015239")
    assert altrincham.name == "Altrincham"
    assert altrincham.geometry.geom_type == "Polygon"
    assert altrincham.geometry.covers(Point(-2.3487, 53.3876))  # the town centre, lon/lat
    stored = altrincham.geojson
    assert stored["type"] == "Polygon"
    assert json.loads(json.dumps(stored)) == stored  # plain JSON types, ready for a JSON column
    raw = json.loads(WARDS_PATH.read_text(encoding="utf-8"))["features"][0]["geometry"]
    assert stored["coordinates"] == raw["coordinates"]


def test_parse_single_feature_and_code_override() -> None:
    [shape] = parse_boundaries(json.dumps(_feature(SQUARE)))
    assert (shape.code, shape.name) == ("B1", "Beat 1")
    [renamed] = parse_boundaries(json.dumps(_feature(SQUARE)), code=" NB1 ", name="North 1")
    assert (renamed.code, renamed.name) == ("NB1", "North 1")


def test_parse_multipolygon() -> None:
    [shape] = parse_boundaries(
        _collection(_feature([SQUARE, OTHER_SQUARE], kind="MultiPolygon"))
    )
    assert shape.geometry.geom_type == "MultiPolygon"
    assert len(shape.geometry.geoms) == 2


def test_parse_police_uk_boundary(wards: list[BeatShape]) -> None:
    ward = next(w for w in wards if w.code == "E05015248")  # Hale
    ring = list(ward.geometry.exterior.coords)[:-1]  # police.uk rings are not closed
    points = [{"latitude": str(lat), "longitude": str(lon)} for lon, lat in ring]
    [shape] = parse_boundaries(json.dumps(points), code="GMP-HALE")
    assert (shape.code, shape.name) == ("GMP-HALE", "GMP-HALE")
    assert shape.geometry.equals(ward.geometry)
    # Numbers rather than strings are accepted too.
    numeric = [{"latitude": lat, "longitude": lon} for lon, lat in ring]
    [again] = parse_boundaries(json.dumps(numeric).encode(), code="GMP-HALE", name="Hale")
    assert again.name == "Hale"
    assert again.geometry.equals(ward.geometry)


BOW_TIE = [[[-2.30, 53.40], [-2.29, 53.41], [-2.29, 53.40], [-2.30, 53.41], [-2.30, 53.40]]]
THREE_POINTS = [[[-2.30, 53.40], [-2.29, 53.40], [-2.30, 53.40]]]
POLICE_UK_SQUARE = [
    {"latitude": "53.40", "longitude": "-2.30"},
    {"latitude": "53.40", "longitude": "-2.29"},
    {"latitude": "53.41", "longitude": "-2.29"},
]

BAD_INPUTS = [
    pytest.param(b"", {}, "empty", id="empty-bytes"),
    pytest.param("   \n", {}, "empty", id="blank"),
    pytest.param("not json at all", {}, "not valid JSON.*line 1, column 1", id="not-json"),
    pytest.param('{"type": "FeatureCollection", "features": [', {}, "not valid JSON",
                 id="truncated-json"),
    pytest.param(b"\xff\xfe{\x00", {}, "not UTF-8", id="not-utf8"),
    pytest.param("[" * 100_000, {"code": "X"}, "not valid JSON", id="deeply-nested"),
    pytest.param("42", {}, "holds a number", id="number"),
    pytest.param("null", {}, "holds null", id="null"),
    pytest.param('{"hello": "world"}', {}, "no GeoJSON 'type'", id="dict-not-geojson"),
    pytest.param('{"type": "Topology"}', {}, "type 'Topology'", id="topojson"),
    pytest.param('{"type": "FeatureCollection"}', {}, "no 'features' list",
                 id="collection-without-features"),
    pytest.param('{"type": "FeatureCollection", "features": []}', {}, "no features",
                 id="collection-empty"),
    pytest.param(_collection({"type": "Feature"}), {},
                 r"features\[0\]: no property 'code'; its properties are: none",
                 id="feature-without-properties"),
    pytest.param(_collection("oops"), {}, r"features\[0\]: expected a GeoJSON Feature",
                 id="feature-is-a-string"),
    pytest.param(
        _collection({"type": "Feature", "properties": {"code": "B1", "name": "x"},
                     "geometry": {"type": "Point", "coordinates": [-2.3, 53.4]}}),
        {}, r"features\[0\] \(code 'B1'\): geometry type 'Point' is not supported", id="point",
    ),
    pytest.param('{"type": "Point", "coordinates": [-2.3, 53.4]}', {}, "Point geometry",
                 id="bare-point"),
    pytest.param(_collection({"type": "Feature", "properties": {"code": "B1", "name": "x"},
                              "geometry": None}), {}, "no geometry", id="null-geometry"),
    pytest.param(_collection(_feature(BOW_TIE)), {}, r"\(code 'B1'\).*Self-intersection",
                 id="bow-tie"),
    pytest.param(
        _collection({"type": "Feature", "properties": {"area_code": "E1", "area_name": "A"},
                     "geometry": {"type": "Polygon", "coordinates": SQUARE}}),
        {}, r"features\[0\]: no property 'code'; its properties are: 'area_code', 'area_name'",
        id="missing-property",
    ),
    pytest.param(_collection(_feature(SQUARE), _feature(OTHER_SQUARE, code="B1")), {},
                 r"features\[1\]: the code 'B1' is already used by features\[0\]",
                 id="duplicate-code"),
    pytest.param(_collection(_feature(SQUARE, code="  ")), {}, r"features\[0\].*'code' is empty",
                 id="empty-code"),
    pytest.param(_collection(_feature(SQUARE, code=None)), {}, "must be text, not null",
                 id="null-code"),
    pytest.param(_collection(_feature(THREE_POINTS)), {}, "outer ring has 3 point.*at least 4",
                 id="three-point-ring"),
    pytest.param(_collection(_feature([SQUARE[0][:-1]])), {}, "not closed", id="unclosed-ring"),
    pytest.param(_collection(_feature([[[-2.3, 53.4]] * 2 + [[200.0, 53.4]] + [[-2.3, 53.4]]])),
                 {}, r"point 2: longitude 200, latitude 53.4 is out of range", id="lon-range"),
    pytest.param(_collection(_feature([[[383000, 398000], [384000, 398000], [384000, 399000],
                                        [383000, 398000]]])),
                 {}, "British National Grid", id="projected-coordinates"),
    pytest.param(_collection(_feature([[[lat, lon] for lon, lat in SQUARE[0]]])), {},
                 r"look like \[latitude, longitude\]", id="geojson-swapped"),
    pytest.param(_collection(_feature([[["-2.3", "53.4"]] * 4])), {}, "finite numbers",
                 id="string-coordinates"),
    pytest.param(_collection(_feature([[[-2.3, 53.4]] * 4])), {}, "only 1 distinct point",
                 id="repeated-point"),
    pytest.param(_collection(_feature([[[-2.3, 53.4, 1, 2]] * 4])), {}, "expected .longitude",
                 id="four-number-position"),
    pytest.param(_collection(_feature([], kind="MultiPolygon")), {}, "no polygons",
                 id="empty-multipolygon"),
    pytest.param(_collection(_feature([[-2.3, 53.4]])), {},
                 r"outer ring, point 0: expected \[longitude, latitude\]",
                 id="polygon-one-level-short"),
    pytest.param(_collection(_feature([[[-2.30, 53.40], [-2.29, 53.40], [-2.28, 53.40],
                                        [-2.30, 53.40]]])),
                 {}, "not a valid polygon", id="collinear"),
    pytest.param(_collection(_feature(SQUARE), _feature(OTHER_SQUARE, code="B2")), {"code": "X"},
                 "only be given for a file holding one boundary", id="code-for-many"),
    pytest.param(_collection(_feature(SQUARE), _feature(OTHER_SQUARE, code="B2")), {"name": "X"},
                 "only be given for a file holding one boundary", id="name-for-many"),
    pytest.param("[]", {"code": "X"}, "empty: it has no points", id="police-uk-empty"),
    pytest.param(json.dumps(POLICE_UK_SQUARE), {}, "needs a beat code \\(--code\\)",
                 id="police-uk-without-code"),
    pytest.param(json.dumps(POLICE_UK_SQUARE), {"code": "  "}, "code given is empty",
                 id="police-uk-blank-code"),
    pytest.param(json.dumps(POLICE_UK_SQUARE[:2]), {"code": "X"}, "2 distinct point",
                 id="police-uk-two-points"),
    pytest.param(json.dumps([{"lat": 53.4, "lng": -2.3}] * 4), {"code": "X"},
                 "point 0: expected .*latitude", id="police-uk-wrong-keys"),
    pytest.param(json.dumps([[-2.3, 53.4]] * 4), {"code": "X"}, "point 0: expected",
                 id="list-of-positions"),
    pytest.param(json.dumps([{"latitude": "53.4", "longitude": "west"}] * 4), {"code": "X"},
                 "must be numbers", id="police-uk-not-a-number"),
    pytest.param(json.dumps([{"latitude": "NaN", "longitude": "1"}] * 4), {"code": "X"},
                 "must be numbers", id="police-uk-nan"),
    pytest.param(json.dumps([{"latitude": "1e400", "longitude": "1"}] * 4), {"code": "X"},
                 "must be numbers", id="police-uk-overflow"),
    pytest.param(json.dumps([{"latitude": "-95", "longitude": "100"}] * 4), {"code": "X"},
                 "point 0: longitude 100, latitude -95 is out of range", id="police-uk-lat-range"),
    pytest.param(json.dumps([{"latitude": p["longitude"], "longitude": p["latitude"]}
                             for p in POLICE_UK_SQUARE]), {"code": "X"}, "look swapped",
                 id="police-uk-swapped"),
    pytest.param(json.dumps([{"latitude": "153.4", "longitude": "-2.3"}] * 4), {"code": "X"},
                 "out of range.*may be swapped", id="police-uk-swapped-out-of-range"),
    pytest.param(json.dumps([{"latitude": "53.4", "longitude": "-2.3"}] * 4), {"code": "X"},
                 "1 distinct point", id="police-uk-one-point"),
    pytest.param(json.dumps([{"latitude": "53.40", "longitude": "-2.30"},
                             {"latitude": "53.41", "longitude": "-2.29"},
                             {"latitude": "53.40", "longitude": "-2.29"},
                             {"latitude": "53.41", "longitude": "-2.30"}]), {"code": "X"},
                 r"Beat 'X': the boundary is not a valid polygon \(Self-intersection",
                 id="police-uk-bow-tie"),
]


@pytest.mark.parametrize(("text", "kwargs", "message"), BAD_INPUTS)
def test_bad_boundaries_raise_a_helpful_boundary_error(text, kwargs, message) -> None:
    with pytest.raises(BoundaryError, match=message) as caught:
        parse_boundaries(text, **kwargs)
    assert isinstance(caught.value, GeoError)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value)[0].isupper() or str(caught.value).startswith(("features[", "point "))


_GARBAGE = [None, True, 0, -1, 1e308, 10**400, float("nan"), "", "x", "53.4", [], {}, [[]],
            [[[]]], {"type": "Polygon"}, [1, 2, 3], "Feature", "Polygon", -181.0, 91.0]


def _mutate(node, rng: random.Random):
    """Replace one randomly chosen node in a JSON tree with garbage."""
    if isinstance(node, (list, dict)) and node and rng.random() < 0.8:
        keys = list(range(len(node))) if isinstance(node, list) else list(node)
        key = rng.choice(keys)
        copy = list(node) if isinstance(node, list) else dict(node)
        copy[key] = _mutate(node[key], rng)
        return copy
    return rng.choice(_GARBAGE)


def test_fuzzed_boundaries_only_ever_raise_boundary_error() -> None:
    rng = random.Random(20231)
    valid = json.loads(_collection(_feature(SQUARE), _feature([SQUARE, OTHER_SQUARE], code="B2",
                                                               kind="MultiPolygon")))
    police = json.loads(json.dumps(POLICE_UK_SQUARE))
    outcomes = {"ok": 0, "error": 0}
    for _ in range(3000):
        document = _mutate(valid if rng.random() < 0.7 else police, rng)
        try:
            text = json.dumps(document)
        except ValueError:
            continue
        if rng.random() < 0.2:
            text = text[: rng.randrange(len(text) + 1)]
        try:
            parse_boundaries(text, code=rng.choice([None, "X"]))
        except BoundaryError:
            outcomes["error"] += 1
        else:
            outcomes["ok"] += 1
    assert outcomes["error"] > 1000


# --- Point in beat -----------------------------------------------------------------------------


def test_golden_every_postcode_lands_in_its_ward(wards, ward_index) -> None:
    with POSTCODES_PATH.open(newline="", encoding="utf-8") as handle:
        rows = [(r["postcode"], float(r["lat"]), float(r["lon"]), r["ward_code"])
                for r in csv.DictReader(handle)]
    codes = [ward.code for ward in wards]
    by_code = {ward.code: ward for ward in wards}

    started = time.perf_counter()
    found = [ward_index.locate(lat, lon) for _, lat, lon, _ in rows]
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    found_many = ward_index.locate_many((lat, lon) for _, lat, lon, _ in rows)
    elapsed_many = time.perf_counter() - started

    assert found_many == found
    mismatches = []
    for (postcode, lat, lon, expected), beat_id in zip(rows, found):
        if beat_id is not None and codes[beat_id] == expected:
            continue
        edge = nearest_points(by_code[expected].geometry.boundary, Point(lon, lat))[0]
        mismatches.append((postcode, expected, beat_id, distance_m(lat, lon, edge.y, edge.x)))

    print(f"\n{len(rows)} postcodes, {len(mismatches)} mismatches: {mismatches}")
    print(f"locate: {elapsed * 1000:.0f} ms ({elapsed / len(rows) * 1e6:.1f} us each); "
          f"locate_many: {elapsed_many * 1000:.0f} ms")
    assert len(rows) == 11_264
    assert len(mismatches) <= MAX_MISMATCHES
    for postcode, expected, _, metres in mismatches:
        assert metres <= MAX_MISMATCH_METRES, f"{postcode} is {metres:.1f} m inside another ward"


def test_swapped_coordinates_land_nowhere(ward_index) -> None:
    assert ward_index.locate(53.465578, -2.26046) is not None  # M15 4AB
    assert ward_index.locate(-2.26046, 53.465578) is None


def test_shared_edge_goes_to_lowest_id() -> None:
    left = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
    right = Polygon([(1, 0), (2, 0), (2, 1), (1, 1)])
    index = BeatIndex([(7, right), (3, left)])
    assert len(index) == 2
    assert index.locate(0.5, 1.0) == 3  # on the shared edge
    assert index.locate(0.5, 1.5) == 7
    assert index.locate(0.0, 2.0) == 7  # a corner of one beat only
    assert index.locate(0.5, 2.5) is None
    assert index.locate(float("nan"), 0.5) is None
    assert index.locate_many([(0.5, 1.0), (0.5, 1.5), (5.0, 5.0)]) == [3, 7, None]
    assert index.locate_many([]) == []


def test_empty_index() -> None:
    index = BeatIndex([])
    assert len(index) == 0
    assert index.locate(53.4, -2.3) is None
    assert index.locate_many([(53.4, -2.3)]) == [None]


# --- Distances ---------------------------------------------------------------------------------

MANCHESTER_TOWN_HALL = (53.4794, -2.2453)
ALTRINCHAM_INTERCHANGE = (53.3874, -2.3480)


def _haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    from math import asin, cos, radians, sin, sqrt

    dlat, dlon = radians(lat2 - lat1), radians(lon2 - lon1)
    a = sin(dlat / 2) ** 2 + cos(radians(lat1)) * cos(radians(lat2)) * sin(dlon / 2) ** 2
    return 2 * 6_371_008.8 * asin(sqrt(a))


def test_distance_manchester_to_altrincham() -> None:
    metres = distance_m(*MANCHESTER_TOWN_HALL, *ALTRINCHAM_INTERCHANGE)
    assert metres == pytest.approx(_haversine_m(*MANCHESTER_TOWN_HALL, *ALTRINCHAM_INTERCHANGE),
                                   rel=0.01)
    assert 11_500 < metres < 12_500  # about 12 km as the crow flies
    assert distance_m(*ALTRINCHAM_INTERCHANGE, *MANCHESTER_TOWN_HALL) == pytest.approx(metres)
    assert distance_m(*MANCHESTER_TOWN_HALL, *MANCHESTER_TOWN_HALL) == 0


@pytest.mark.parametrize(
    ("lat", "lon", "radius"),
    [(53.4, -2.3, 500.0), (53.4, -2.3, 25_000.0), (0.0, 0.0, 10_000.0), (-70.0, 100.0, 50_000.0),
     (60.8, -0.8, 1.0)],
)
def test_bounding_box_holds_the_circle(lat: float, lon: float, radius: float) -> None:
    from geopy.distance import geodesic

    min_lat, min_lon, max_lat, max_lon = bounding_box(lat, lon, radius)
    assert min_lat < lat < max_lat and min_lon < lon < max_lon
    for bearing in range(0, 360, 5):
        edge = geodesic(meters=radius).destination((lat, lon), bearing)
        assert min_lat <= edge.latitude <= max_lat
        assert min_lon <= edge.longitude <= max_lon
    # Conservative but not wasteful: no more than a few percent too tall.
    tall = distance_m(min_lat, lon, max_lat, lon)
    assert tall <= 2 * radius * 1.03


def test_bounding_box_edge_cases() -> None:
    assert bounding_box(53.4, -2.3, 0) == (53.4, -2.3, 53.4, -2.3)
    assert bounding_box(89.99, 10.0, 5_000)[1::2] == (-180.0, 180.0)
    assert bounding_box(0.0, 179.99, 5_000)[1::2] == (-180.0, 180.0)
    with pytest.raises(ValueError):
        bounding_box(53.4, -2.3, -1)
    with pytest.raises(ValueError):
        bounding_box(53.4, -2.3, float("nan"))


# --- Geocoder (never the network) --------------------------------------------------------------


@pytest.mark.parametrize("name", [None, "", "  ", "none", "None"])
def test_geocoder_disabled_by_config(name: str | None) -> None:
    assert Geocoder.from_config(name, user_agent="beatbook-tests") is None


def test_geocoder_rejects_unknown_name_and_missing_user_agent() -> None:
    with pytest.raises(GeoError, match="Unknown geocoder"):
        Geocoder.from_config("google", user_agent="beatbook-tests")
    with pytest.raises(GeoError, match="user agent"):
        Geocoder.from_config("nominatim", user_agent=" ")


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)


def test_geocoder_connection_refused_returns_none_quietly(no_proxy_env, caplog) -> None:
    with socket.socket() as probe:  # find a local port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    geocoder = Geocoder.from_config("nominatim", user_agent="beatbook-tests", timeout=0.5,
                                    domain=f"127.0.0.1:{port}", scheme="http")
    assert geocoder is not None
    address = "10 Secret Lane, Sale"
    caplog.set_level(logging.WARNING, logger="pcso.geocoder")
    started = time.perf_counter()
    assert geocoder.geocode(address) is None
    assert time.perf_counter() - started < 2.0
    assert "failed" in caplog.text
    assert "Secret" not in caplog.text


def test_geocoder_timeout_returns_none(no_proxy_env, caplog) -> None:
    with socket.socket() as server:  # accepts the connection, never answers
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        geocoder = Geocoder.from_config("nominatim", user_agent="beatbook-tests", timeout=0.2,
                                        domain=f"127.0.0.1:{port}", scheme="http")
        started = time.perf_counter()
        assert geocoder.geocode("10 Secret Lane, Sale") is None
        assert time.perf_counter() - started < 2.0
    assert "GeocoderTimedOut" in caplog.text
    assert "Secret" not in caplog.text


class _FakeLocation:
    def __init__(self, latitude: float, longitude: float) -> None:
        self.latitude, self.longitude = latitude, longitude


class _FakeBackend:
    def __init__(self, result) -> None:
        self.result = result
        self.calls: list[tuple[str, dict]] = []

    def geocode(self, query: str, **options):
        self.calls.append((query, options))
        return self.result


def test_geocoder_returns_lat_lon_from_backend() -> None:
    backend = _FakeBackend(_FakeLocation(53.3876, -2.3487))
    geocoder = Geocoder(backend, country_codes="gb")
    assert geocoder.geocode("Altrincham") == (53.3876, -2.3487)
    assert backend.calls == [("Altrincham", {"exactly_one": True, "country_codes": "gb"})]
    assert geocoder.geocode("   ") is None
    assert len(backend.calls) == 1
    assert Geocoder(_FakeBackend(None)).geocode("Nowhere") is None
    assert Geocoder(_FakeBackend(_FakeLocation(float("nan"), 0.0))).geocode("x") is None
