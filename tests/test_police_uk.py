"""data.police.uk street-level crime: `flask import police-uk`, the parser, and the beat page's context layer.

The real file covers the City of London, so these tests import two test beats over part of the City
(tests/data/city_of_london_beats.geojson) with `flask beats import`, and remove them afterwards. The
expected counts are worked out here independently: Python's csv module and shapely point-in-polygon.
"""
from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from shapely.geometry import Point, shape

from pcso.context import police_uk_layer
from pcso.context.police_uk import (
    HEADER, MalformedRow, PoliceUkFileError, StreetCrimeRow, check_header, parse_row, read_rows, row_key,
)
from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, Beat, Role, StreetCrime
from tests import factories
from tests.conftest import POLICE_UK_CSV

REAL = POLICE_UK_CSV
CITY_BEATS = Path(__file__).resolve().parent / "data" / "city_of_london_beats.geojson"
CITY_CODES = ("COL-W", "COL-E")
ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0 (data.police.uk)."
SUMMARY = re.compile(
    r"(?P<file>\S+): (?P<read>\d+) rows read: (?P<imported>\d+) imported, (?P<already_present>\d+) already present, "
    r"(?P<without_coordinates>\d+) without coordinates, (?P<outside_beats>\d+) outside every beat, "
    r"(?P<malformed>\d+) malformed; (?P<asb>\d+) anti-social behaviour rows\.")
ASB_ROW = ["", "2025-10", "City of London Police", "City of London Police", "-0.097291", "51.514626",
           "On or near Silk Street", "E01000001", "City of London 001A", "Anti-social behaviour", "", ""]


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=[str(a) for a in args])


def summaries(result) -> dict[str, dict[str, int]]:
    found = {m["file"]: {k: int(v) for k, v in m.groupdict().items() if k != "file"}
             for m in SUMMARY.finditer(result.stdout)}
    assert found, result.output
    return found


def import_files(app, *paths) -> dict[str, dict[str, int]]:
    result = invoke(app, "import", "police-uk", *paths)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return summaries(result)


def stored() -> int:
    return db.session.scalar(sa.select(sa.func.count(StreetCrime.id)))


def real_rows() -> list[dict[str, str]]:
    with open(REAL, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, rows, *, header=HEADER, bom: bool = False) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(("\ufeff" if bom else "") + buffer.getvalue(), encoding="utf-8")
    return path


def as_list(row: dict[str, str]) -> list[str]:
    return [row[h] for h in HEADER]


def expected(rows: list[dict[str, str]]) -> dict[str, int]:
    """The summary, worked out without the importer: csv rows and shapely point-in-polygon on the test beats."""
    polygons = {f["properties"]["code"]: shape(f["geometry"])
                for f in json.loads(CITY_BEATS.read_text())["features"]}
    located = [r for r in rows if r["Longitude"] and r["Latitude"]]
    inside = [r for r in located
              if any(p.covers(Point(float(r["Longitude"]), float(r["Latitude"]))) for p in polygons.values())]
    return {"read": len(rows), "imported": len(inside), "already_present": 0,
            "without_coordinates": sum(1 for r in rows if not r["Longitude"] and not r["Latitude"]),
            "outside_beats": len(located) - len(inside), "malformed": 0,
            "asb": sum(1 for r in rows if r["Crime type"] == "Anti-social behaviour")}


def expected_by_beat(rows: list[dict[str, str]]) -> Counter:
    polygons = {f["properties"]["code"]: shape(f["geometry"])
                for f in json.loads(CITY_BEATS.read_text())["features"]}
    found = Counter()
    for r in rows:
        if r["Longitude"]:
            point = Point(float(r["Longitude"]), float(r["Latitude"]))
            codes = [code for code, polygon in polygons.items() if polygon.covers(point)]
            if codes:
                found[codes[0]] += 1
    return found


@pytest.fixture
def city(app):
    """Two beats over part of the City of London, imported with the existing beats importer; removed after."""
    result = invoke(app, "beats", "import", CITY_BEATS, "--district", "City of London (test)")
    assert result.exit_code == 0, result.output
    yield {code: db.session.scalar(sa.select(Beat.id).where(Beat.code == code)) for code in CITY_CODES}
    db.session.rollback()
    db.session.execute(sa.delete(StreetCrime))
    db.session.execute(sa.delete(Beat).where(Beat.code.in_(CITY_CODES)))
    db.session.commit()


# --- the real file ---------------------------------------------------------------------------------------


def test_the_real_file_has_its_documented_quirks():
    rows = real_rows()
    assert len(rows) == 781
    assert sum(1 for r in rows if not r["Longitude"]) == 69  # 8.8 %, "No Location"
    asb = [r for r in rows if r["Crime type"] == "Anti-social behaviour"]
    assert asb and all(r["Crime ID"] == "" and r["Last outcome category"] == "" for r in asb)
    assert any("'" in r["Location"] for r in rows)
    assert max(Counter((r["Longitude"], r["Latitude"]) for r in rows if r["Longitude"]).values()) > 10
    assert [n for n in Counter(r["Crime ID"] for r in rows if r["Crime ID"]).values() if n > 1] == [2, 2]


def test_import_of_the_real_file_matches_an_independent_count(app, city):
    rows = real_rows()
    want = expected(rows)
    assert want["outside_beats"] > 0 and want["imported"] > 500  # the test beats cover part of what is there

    result = invoke(app, "import", "police-uk", REAL)
    assert result.exit_code == 0, result.output
    assert summaries(result) == {REAL.name: want}
    assert "Total:" not in result.stdout  # one file, one summary
    assert REAL.name in result.stderr  # the progress bar's label

    db.session.expire_all()
    assert stored() == want["imported"]
    by_beat = dict(db.session.execute(
        sa.select(Beat.code, sa.func.count(StreetCrime.id)).join(Beat).group_by(Beat.code)).all())
    assert by_beat == dict(expected_by_beat(rows))
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.object_type == "street_crime")).one()
    assert event.action == AuditAction.IMPORT and event.actor_id is None
    assert event.details == {"file": REAL.name, **want}


def test_rows_are_stored_as_published(app, city):
    import_files(app, REAL)
    row = db.session.scalars(sa.select(StreetCrime).where(StreetCrime.location == "On or near St Martin'S Le Grand")
                             .order_by(StreetCrime.id)).first()
    assert row.month == date(2025, 10, 1) and row.reported_by == "City of London Police"
    assert row.beat_id == city["COL-W"] and row.source_file == REAL.name and row.crime_id == row.row_key
    assert (row.lat, row.lon) == (51.515387, -0.097245)
    asb = db.session.scalars(sa.select(StreetCrime).where(StreetCrime.crime_type == "Anti-social behaviour")).all()
    assert asb and all(r.crime_id is None and r.last_outcome is None and r.is_asb for r in asb)
    assert all(re.fullmatch(r"[0-9a-f]{64}", r.row_key) for r in asb)
    # A Crime ID on two rows of the file (two snap points): both rows are kept, under different keys.
    twice = "389d31383155631b3931cf2b966e1d2cbd862e4ce5e896b8fc22e9e6bf0122af"
    kept = db.session.scalars(sa.select(StreetCrime).where(StreetCrime.crime_id == twice)).all()
    assert len(kept) == 2 and {r.location for r in kept} == {"On or near Little Somerset Street", "On or near Minories"}


def test_importing_the_same_file_again_adds_nothing(app, city):
    first = import_files(app, REAL)[REAL.name]
    again = import_files(app, REAL)[REAL.name]
    assert again == {**first, "imported": 0, "already_present": first["imported"]}
    assert stored() == first["imported"]


def test_the_same_file_twice_in_one_command_adds_it_once_and_totals(app, city):
    result = invoke(app, "import", "police-uk", REAL, REAL)
    assert result.exit_code == 0, result.output
    total = re.search(r"Total: (\d+) rows read: (\d+) imported, (\d+) already present", result.stdout)
    want = expected(real_rows())
    assert total and tuple(map(int, total.groups())) == (2 * want["read"], want["imported"], want["imported"])
    assert stored() == want["imported"]


def test_an_overlapping_file_adds_only_the_new_rows(app, city, tmp_path):
    rows = real_rows()
    first_half = write_csv(tmp_path / "first-half.csv", [as_list(r) for r in rows[:400]])
    imported_first = import_files(app, first_half)["first-half.csv"]["imported"]
    whole = import_files(app, REAL)[REAL.name]
    assert whole["already_present"] == imported_first
    assert whole["imported"] == expected(rows)["imported"] - imported_first
    assert stored() == expected(rows)["imported"]


def test_identical_asb_rows_are_separate_incidents_and_stay_idempotent(app, city, tmp_path):
    two = write_csv(tmp_path / "two.csv", [ASB_ROW, ASB_ROW])
    assert import_files(app, two)["two.csv"]["imported"] == 2
    assert import_files(app, two)["two.csv"]["imported"] == 0
    three = write_csv(tmp_path / "three.csv", [ASB_ROW, ASB_ROW, ASB_ROW])
    assert import_files(app, three)["three.csv"] == {
        "read": 3, "imported": 1, "already_present": 2, "without_coordinates": 0, "outside_beats": 0,
        "malformed": 0, "asb": 3}
    assert stored() == 3


def test_a_utf8_bom_and_crlf_line_ends_are_read(app, city, tmp_path):
    path = tmp_path / "bom.csv"
    body = ",".join(HEADER) + "\r\n" + ",".join(ASB_ROW) + "\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    assert import_files(app, path)["bom.csv"]["imported"] == 1


# --- malformed rows and bad files ------------------------------------------------------------------------


def test_malformed_rows_are_reported_by_line_and_the_rest_imported(app, city, tmp_path):
    good = [as_list(r) for r in real_rows() if r["Location"] == "On or near St Martin'S Le Grand"][:3]
    quoted = list(ASB_ROW)
    quoted[11] = "a context note\nover two lines"  # a quoted field with a newline: lines 3-4
    bad_month, bad_lon, far_lat, no_type, short = (list(good[0]) for _ in range(5))
    bad_month[0], bad_month[1] = "", "2025-13"
    bad_lon[0], bad_lon[4] = "", "abc"
    far_lat[0], far_lat[5] = "", "91.5"
    no_type[0], no_type[9] = "", " "
    one_coordinate = list(ASB_ROW)
    one_coordinate[5] = ""
    rows = [good[0], quoted, bad_month, good[1], bad_lon, far_lat, no_type, short[:11], one_coordinate, good[2]]
    path = write_csv(tmp_path / "mixed.csv", rows)

    result = invoke(app, "import", "police-uk", path)
    assert result.exit_code == 0, result.output
    assert summaries(result)["mixed.csv"] == {"read": 10, "imported": 4, "already_present": 0, "without_coordinates": 0,
                                              "outside_beats": 0, "malformed": 6, "asb": 1}
    problems = [line for line in result.stderr.splitlines() if " line " in line]
    assert problems == [
        f"{path} line 5: Month '2025-13' is not a month in the form YYYY-MM",
        f"{path} line 7: Longitude 'abc' is not a number",
        f"{path} line 8: Latitude 91.5 is out of range (-90 to 90)",
        f"{path} line 9: no Crime type",
        f"{path} line 10: expected 12 fields, found 11",
        f"{path} line 11: only one of Longitude and Latitude is given",
    ]
    assert stored() == 4
    assert db.session.scalar(sa.select(StreetCrime.context).where(StreetCrime.crime_id.is_(None))) == \
        "a context note\nover two lines"


def test_a_value_longer_than_its_column_is_a_malformed_row(app, city, tmp_path):
    long_location = list(ASB_ROW)
    long_location[6] = "On or near " + "x" * 200
    result = invoke(app, "import", "police-uk", write_csv(tmp_path / "long.csv", [long_location, ASB_ROW]))
    assert result.exit_code == 0, result.output
    assert "line 2: Location is longer than 200 characters" in result.stderr
    assert stored() == 1


@pytest.mark.parametrize("case, message", [
    ("header", "not a data.police.uk street-level crime file (missing column(s) Crime type)"),
    ("order", "the columns are in a different order"),
    ("empty", "the file is empty"),
    ("binary", "not UTF-8 text"),
    ("missing", "cannot read"),
    ("geojson", "not a data.police.uk street-level crime file"),
])
def test_a_bad_file_stops_the_command_before_anything_is_written(app, city, tmp_path, case, message):
    bad = tmp_path / f"{case}.csv"
    if case == "header":
        write_csv(bad, [ASB_ROW[:9] + ASB_ROW[10:]], header=[h for h in HEADER if h != "Crime type"])
    elif case == "order":
        write_csv(bad, [ASB_ROW], header=HEADER[1:] + HEADER[:1])
    elif case == "empty":
        bad.write_text("")
    elif case == "binary":
        bad.write_bytes(",".join(HEADER).encode() + b"\n" + bytes(range(128, 256)) * 40)
    elif case == "geojson":
        bad.write_text(CITY_BEATS.read_text())
    # a good file first: the bad one is found before either is imported
    result = invoke(app, "import", "police-uk", REAL, bad)
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
    assert str(bad) in result.output
    assert stored() == 0
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))
                             .where(AuditEvent.object_type == "street_crime")) == 0


def test_the_command_needs_a_file(app):
    result = invoke(app, "import", "police-uk")
    assert result.exit_code == 2 and "Missing argument" in result.output


# --- the parser on its own ---------------------------------------------------------------------------------


def test_parse_row_reads_an_asb_row_without_a_crime_id():
    row = parse_row(ASB_ROW)
    assert row == StreetCrimeRow(crime_id=None, month=date(2025, 10, 1), reported_by="City of London Police",
                                 falls_within="City of London Police", lon=-0.097291, lat=51.514626,
                                 location="On or near Silk Street", lsoa_code="E01000001",
                                 lsoa_name="City of London 001A", crime_type="Anti-social behaviour",
                                 last_outcome=None, context=None)
    assert row.is_asb and row.has_location


@pytest.mark.parametrize("change, reason", [
    ({1: "2025-1"}, "Month '2025-1' is not a month"),
    ({1: "2025-00"}, "Month '2025-00' is not a month"),
    ({1: "October"}, "Month 'October' is not a month"),
    ({4: "nan"}, "Longitude 'nan' is not a number"),
    ({4: "1e999"}, "Longitude '1e999' is not a number"),
    ({4: "-181"}, "Longitude -181 is out of range"),
    ({4: ""}, "only one of Longitude and Latitude"),
    ({9: ""}, "no Crime type"),
    ({0: "x" * 65}, "Crime ID is longer than 64 characters"),
])
def test_parse_row_refuses(change, reason):
    fields = list(ASB_ROW)
    for index, value in change.items():
        fields[index] = value
    with pytest.raises(MalformedRow, match=re.escape(reason)):
        parse_row(fields)


def test_a_row_without_coordinates_parses_without_a_location():
    fields = list(ASB_ROW)
    fields[4:7] = ["", "", "No Location"]
    row = parse_row(fields)
    assert not row.has_location and row.location == "No Location"


def test_row_keys_are_the_crime_id_or_a_digest_with_the_occurrence():
    asb = parse_row(ASB_ROW)
    assert row_key(asb, 1) != row_key(asb, 2)
    assert row_key(asb, 1) == row_key(parse_row([f" {f} " for f in ASB_ROW]), 1)  # whitespace does not matter
    assert row_key(asb, 1) == row_key(parse_row(ASB_ROW[:4] + ["-0.0972910", "51.5146260"] + ASB_ROW[6:]), 1)
    crime = parse_row(["abc123"] + ASB_ROW[1:9] + ["Burglary"] + ASB_ROW[10:])
    assert row_key(crime, 1) == "abc123" and re.fullmatch(r"[0-9a-f]{64}", row_key(crime, 2))


def test_check_header_explains_what_is_wrong():
    check_header(list(HEADER))
    check_header(["\ufeffCrime ID"] + list(HEADER[1:]))
    with pytest.raises(PoliceUkFileError, match="unexpected column"):
        check_header(list(HEADER) + ["Extra"])
    with pytest.raises(PoliceUkFileError, match=r"missing column\(s\) Context"):
        check_header(list(HEADER[:-1]))
    with pytest.raises(PoliceUkFileError, match="its first line is not the street-level crime header"):
        check_header(["name", "lat", "lon"])


def test_read_rows_counts_lines_from_the_header_through_quoted_newlines():
    text = ",".join(HEADER) + "\n" + ",".join(ASB_ROW[:11]) + ',"two\nlines"\n\n' + ",".join(ASB_ROW[:3]) + "\n"
    lines = [(first, last, type(row).__name__) for first, last, row in read_rows(io.StringIO(text, newline=""))]
    assert lines == [(2, 3, "StreetCrimeRow"), (4, 4, "NoneType"), (5, 5, "MalformedRow")]


# --- reading back: the helper, the beat page and its GeoJSON ------------------------------------------------


def test_street_crime_points_aggregate_by_snap_point(app, city):
    import_files(app, REAL)
    points = police_uk_layer.street_crime_points({city["COL-W"]})
    assert sum(p["count"] for p in points) == expected_by_beat(real_rows())["COL-W"]
    assert len({(p["lat"], p["lon"]) for p in points}) == len(points)
    top = points[0]
    assert top["count"] > 10 and top["month"] == "2025-10" and top["months"] == ["2025-10"]
    assert sum(n for _, n in top["crime_types"]) == top["count"] and top["beat_id"] == city["COL-W"]
    everywhere = police_uk_layer.street_crime_points(None)
    assert sum(p["count"] for p in everywhere) == stored()
    assert police_uk_layer.street_crime_points(None, [date(2025, 9, 1)]) == []
    assert police_uk_layer.street_crime_points(set()) == []


def test_counts_cover_the_latest_three_months(app, city, tmp_path):
    rows = []
    for month in ("2025-07", "2025-08", "2025-09", "2025-10"):
        row = list(ASB_ROW)
        row[1] = month
        rows += [row] * (int(month[-2:]) - 6)  # 1, 2, 3, 4 rows
    import_files(app, write_csv(tmp_path / "months.csv", rows))
    months = police_uk_layer.latest_months({city["COL-W"]})
    assert months == [date(2025, 10, 1), date(2025, 9, 1), date(2025, 8, 1)]
    counts = police_uk_layer.street_crime_counts({city["COL-W"]}, months)
    assert counts.rows == [("Anti-social behaviour", [4, 3, 2], 9)] and counts.total == 9
    assert counts.label == "August – October 2025"


@pytest.fixture
def reader(app, memoised_hashing):
    person = factories.user(Role.PCSO)
    db.session.commit()
    browser = app.test_client()
    assert factories.login(browser, person).location == "/"
    return browser


def test_a_reader_sees_the_counts_on_the_beat_page(app, city, reader):
    import_files(app, REAL)
    page = BeautifulSoup(reader.get(f"/beats/{city['COL-E']}").get_data(as_text=True), "html.parser")
    section = page.select_one("[data-testid=street-crime]")
    assert section.select_one("h2").get_text(strip=True) == "Street-level crime (data.police.uk)"
    assert [th.get_text(strip=True) for th in section.select("thead th")] == ["Crime type", "Oct 2025"]
    counts = {tr.th.get_text(strip=True): int(tr.td.get_text()) for tr in section.select("tbody tr")}
    east = [r for r in real_rows() if r["Longitude"] and shape(json.loads(CITY_BEATS.read_text())["features"][1]
                                                                ["geometry"]).covers(
        Point(float(r["Longitude"]), float(r["Latitude"])))]
    assert sum(counts.values()) == len(east) == expected_by_beat(real_rows())["COL-E"]
    assert counts["Shoplifting"] == sum(1 for r in east if r["Crime type"] == "Shoplifting")
    assert section.select_one("tfoot td").get_text(strip=True) == str(len(east))
    assert ATTRIBUTION in section.get_text(" ", strip=True)
    key = page.select_one("[data-testid=street-crime-key]")
    assert key["data-street-crime-url"] == f"/beats/{city['COL-E']}/street-crime.geojson"
    assert "data.police.uk street-level crime (public, monthly, approximate location)" in key.get_text()
    assert "October 2025" in key.get_text() and ATTRIBUTION in key.get_text(" ", strip=True)
    assert page.select_one("script[src^='/static/js/context.']") is not None
    assert page.select_one("h1").get_text(strip=True) == "City East (test)"  # the page's own content is kept
    assert page.select_one("[data-map]") is not None


def test_a_beat_without_context_rows_says_so_and_loads_no_layer(app, city, reader):
    page = BeautifulSoup(reader.get(f"/beats/{city['COL-W']}").get_data(as_text=True), "html.parser")
    assert "No data.police.uk street-level crime has been imported" in page.select_one(
        "[data-testid=street-crime]").get_text()
    assert page.select_one("[data-testid=street-crime-key]") is None
    assert page.select_one("script[src^='/static/js/context.']") is None


def test_the_geojson_has_one_feature_per_snap_point(app, city, reader):
    import_files(app, REAL)
    response = reader.get(f"/beats/{city['COL-W']}/street-crime.geojson")
    assert response.status_code == 200 and response.mimetype == "application/json"
    data = response.get_json()
    assert data["type"] == "FeatureCollection" and data["attribution"] == ATTRIBUTION
    assert data["label"] == "data.police.uk street-level crime (public, monthly, approximate location)"
    assert data["months"] == "October 2025"
    west = [r for r in real_rows() if r["Longitude"] and shape(json.loads(CITY_BEATS.read_text())["features"][0]
                                                                ["geometry"]).covers(
        Point(float(r["Longitude"]), float(r["Latitude"])))]
    assert sum(f["properties"]["count"] for f in data["features"]) == len(west)
    assert len(data["features"]) == len({(r["Longitude"], r["Latitude"]) for r in west})
    silk = Counter((r["Longitude"], r["Latitude"]) for r in west).most_common(1)[0]
    lon, lat = map(float, silk[0])
    feature = next(f for f in data["features"] if f["geometry"]["coordinates"] == [lon, lat])
    assert feature["properties"]["count"] == silk[1]


def test_the_geojson_of_a_missing_beat_is_404(app, reader):
    assert reader.get("/beats/999999/street-crime.geojson").status_code == 404


def test_the_data_sources_page_explains_the_layer(app, reader):
    text = BeautifulSoup(reader.get("/data-sources").get_data(as_text=True), "html.parser").get_text(" ", strip=True)
    assert "flask import police-uk" in text and "approximate locations" in text and ATTRIBUTION in text
