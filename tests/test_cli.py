"""Operator commands: flask beats import|locate, flask schools import, flask users create|assign.

Import tests run on `fresh_app` (an empty, migrated SQLite database) so beats start empty;
read-only tests (locate, the golden postcode check) use the shared `runner` on every backend.
"""
from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from shapely.geometry import mapping, shape

from pcso.beats.services import locate_beat
from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, Beat, Role, School, User
from tests import factories
from tests.conftest import POSTCODES, SCHOOLS, WARDS

WARD_ARGS = ["--code-property", "area_code", "--name-property", "area_name"]
OLD_TRAFFORD = "E05015253"
M15_4AD = ("53.464903", "-2.260757")  # a postcode centroid in Old Trafford
LONDON = ("51.5074", "-0.1278")
SUMMARY = re.compile(r"(\d+) beats read: (\d+) created, (\d+) updated, (\d+) unchanged\.")
BOUNDARY_POSTCODES = {"M16 9BT", "WA14 2UE"}  # centroids on a generalised ward edge


def invoke(app, *args, **kwargs):
    return app.test_cli_runner().invoke(args=[str(a) for a in args], **kwargs)


def counts(result) -> tuple[int, int, int, int]:
    match = SUMMARY.search(result.output)
    assert match, result.output
    return tuple(int(n) for n in match.groups())


def beat_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Beat.id)))


def beat_state() -> dict[str, tuple]:
    """Everything an import could change, by code, read fresh from the database."""
    db.session.expire_all()
    return {b.code: (b.name, b.district, b.boundary, b.min_lat, b.min_lon, b.max_lat, b.max_lon, b.updated_at)
            for b in db.session.scalars(sa.select(Beat))}


def wards_geojson() -> dict:
    return json.loads(WARDS.read_text())


def write_json(path, data) -> str:
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def police_uk_points(ring) -> list[dict]:
    """A data.police.uk boundary: a list of {"latitude", "longitude"} strings."""
    return [{"latitude": str(lat), "longitude": str(lon)} for lon, lat in ring]


def square(lat: float, lon: float, half: float = 0.01) -> list[tuple[float, float]]:
    return [(lon - half, lat - half), (lon + half, lat - half), (lon + half, lat + half),
            (lon - half, lat + half), (lon - half, lat - half)]


def test_create_app_can_be_called_twice():
    """Regression: `from .db import configure_engine` once rebound `pcso.db` (the SQLAlchemy instance)
    to the pcso.db module, so a second create_app() failed. A subprocess starts with a clean import."""
    code = ("from pcso import create_app\n"
            "config = {'TESTING': True, 'SQLALCHEMY_DATABASE_URI': 'sqlite://', 'SECRET_KEY': 'x' * 40}\n"
            "create_app(config)\n"
            "create_app(config)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.fixture
def wards_app(fresh_app):
    """fresh_app with the 21 Trafford wards imported through the CLI."""
    result = invoke(fresh_app, "beats", "import", WARDS, *WARD_ARGS, "--district", "Trafford")
    assert result.exit_code == 0, result.output
    return fresh_app


# --- beats import ------------------------------------------------------------------------------


def test_beats_import_creates_21_then_reimport_is_unchanged(fresh_app):
    assert beat_count() == 0
    first = invoke(fresh_app, "beats", "import", WARDS, *WARD_ARGS, "--district", "Trafford")
    assert first.exit_code == 0, first.output
    assert counts(first) == (21, 21, 0, 0)
    assert beat_count() == 21
    before = beat_state()
    assert before[OLD_TRAFFORD][0] == "Old Trafford"

    second = invoke(fresh_app, "beats", "import", WARDS, *WARD_ARGS, "--district", "Trafford")
    assert second.exit_code == 0, second.output
    assert counts(second) == (21, 0, 0, 21)
    assert beat_count() == 21
    assert beat_state() == before  # not even updated_at moved


def test_beats_reimport_is_unchanged_on_every_backend(runner):
    """The shared database holds the same wards (loaded by conftest): nothing to do, on SQLite and PostgreSQL."""
    before = beat_state()
    result = runner.invoke(args=["beats", "import", str(WARDS), *WARD_ARGS, "--district", "Trafford"])
    assert result.exit_code == 0, result.output
    assert counts(result) == (21, 0, 0, 21)
    assert beat_state() == before


def test_beats_import_of_a_changed_polygon_updates_one(wards_app, tmp_path):
    data = wards_geojson()
    feature = next(f for f in data["features"] if f["properties"]["area_code"] == OLD_TRAFFORD)
    simpler = shape(feature["geometry"]).simplify(0.002)
    assert simpler.is_valid and len(simpler.exterior.coords) < len(feature["geometry"]["coordinates"][0])
    feature["geometry"] = mapping(simpler)
    before = beat_state()

    result = invoke(wards_app, "beats", "import", write_json(tmp_path / "changed.geojson", data), *WARD_ARGS)
    assert result.exit_code == 0, result.output
    assert counts(result) == (21, 0, 1, 20)
    after = beat_state()
    assert beat_count() == 21
    changed = {code for code in after if after[code] != before[code]}
    assert changed == {OLD_TRAFFORD}
    assert after[OLD_TRAFFORD][2] == json.loads(json.dumps(mapping(simpler)))
    assert after[OLD_TRAFFORD][7] > before[OLD_TRAFFORD][7]  # updated_at moved on
    assert after[OLD_TRAFFORD][1] == "Trafford"  # no --district given: the district is kept


def test_beats_import_of_a_police_uk_boundary_needs_a_code(fresh_app, tmp_path):
    ward = wards_geojson()["features"][0]
    path = write_json(tmp_path / "neighbourhood.json", police_uk_points(ward["geometry"]["coordinates"][0]))

    missing = invoke(fresh_app, "beats", "import", path)
    assert missing.exit_code != 0
    assert "--code" in missing.output and "data.police.uk" in missing.output
    assert "Traceback" not in missing.output
    assert beat_count() == 0

    result = invoke(fresh_app, "beats", "import", path, "--code", "X", "--name", "Test beat")
    assert result.exit_code == 0, result.output
    assert counts(result) == (1, 1, 0, 0)
    beat = db.session.scalar(sa.select(Beat))
    assert (beat.code, beat.name) == ("X", "Test beat")
    assert shape(beat.boundary).equals(shape(ward["geometry"]))
    lon, lat = shape(ward["geometry"]).representative_point().coords[0]
    assert locate_beat(lat, lon).code == "X"


def _bow_tie_collection() -> dict:
    features = wards_geojson()["features"]
    renamed = dict(features[0], properties={**features[0]["properties"], "area_name": "Renamed"})
    new = dict(features[1], properties={**features[1]["properties"], "area_code": "NEW2"})
    bow_tie = {"type": "Feature", "properties": {"area_code": "BOW", "area_name": "Bow tie"},
               "geometry": {"type": "Polygon", "coordinates": [[
                   [-2.30, 53.45], [-2.28, 53.47], [-2.28, 53.45], [-2.30, 53.47], [-2.30, 53.45]]]}}
    return {"type": "FeatureCollection", "features": [renamed, new, bow_tie]}


def _point_feature() -> dict:
    return {"type": "Feature", "properties": {"area_code": "PT", "area_name": "Point"},
            "geometry": {"type": "Point", "coordinates": [-2.3, 53.45]}}


def _missing_name() -> dict:
    data = wards_geojson()
    del data["features"][4]["properties"]["area_name"]
    return data


def _latin1(path) -> str:
    text = WARDS.read_text().replace("Bowdon", "Bowdon \u00e9t\u00e9")
    path.write_bytes(text.encode("latin-1"))
    return str(path)


BROKEN = {
    "not-json": (lambda p: (p.write_text("{ this is not json", encoding="utf-8"), str(p))[1],
                 "not valid JSON"),
    "bow-tie": (lambda p: write_json(p, _bow_tie_collection()), "features[2]"),
    "point": (lambda p: write_json(p, _point_feature()), "'Point' is not supported"),
    "missing-property": (lambda p: write_json(p, _missing_name()), "no property 'area_name'"),
    "missing-file": (lambda p: str(p.with_name("no-such-file.geojson")), "cannot read"),
    "not-utf8": (_latin1, "not UTF-8"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_beats_import_of_a_broken_file_writes_nothing(wards_app, tmp_path, case):
    make, message = BROKEN[case]
    path = make(tmp_path / f"{case}.geojson")
    before = beat_state()
    imports_before = db.session.scalar(sa.select(sa.func.count(AuditEvent.id))
                                       .where(AuditEvent.action == AuditAction.IMPORT))

    result = invoke(wards_app, "beats", "import", path, *WARD_ARGS)
    assert result.exit_code != 0
    assert message in result.output
    assert "Error:" in result.output and "Traceback" not in result.output
    db.session.rollback()
    assert beat_count() == 21
    assert beat_state() == before
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))
                             .where(AuditEvent.action == AuditAction.IMPORT)) == imports_before


def test_bow_tie_message_says_why(wards_app, tmp_path):
    result = invoke(wards_app, "beats", "import", write_json(tmp_path / "b.geojson", _bow_tie_collection()),
                    *WARD_ARGS)
    assert result.exit_code != 0
    assert "not a valid polygon" in result.output and "Self-intersection" in result.output
    assert db.session.scalar(sa.select(Beat).where(Beat.code == "NEW2")) is None


def test_beats_import_refuses_a_code_longer_than_the_column(fresh_app, tmp_path):
    path = write_json(tmp_path / "b.json", police_uk_points(square(53.45, -2.3)))
    result = invoke(fresh_app, "beats", "import", path, "--code", "C" * 40, "--name", "N" * 200)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert beat_count() == 0


# --- beats locate ------------------------------------------------------------------------------


def test_beats_locate_prints_the_beat_code(runner):
    result = runner.invoke(args=["beats", "locate", *M15_4AD])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == OLD_TRAFFORD


def test_beats_locate_outside_every_beat_exits_1(runner):
    result = runner.invoke(args=["beats", "locate", *LONDON])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "No beat contains 51.5074, -0.1278" in result.stderr


@pytest.mark.parametrize("lat, lon", [("91", "-2.26"), ("-90.5", "-2.26"), ("53.46", "180.01"),
                                      ("53.46", "-181"), ("nan", "-2.26"), ("53.46", "inf")])
def test_beats_locate_rejects_out_of_range_values(runner, lat, lon):
    result = runner.invoke(args=["beats", "locate", lat, lon])
    assert result.exit_code == 2
    assert "latitude must be -90..90 and longitude -180..180" in result.output
    assert "Traceback" not in result.output


def test_beats_locate_rejects_text(runner):
    result = runner.invoke(args=["beats", "locate", "north", "-2.26"])
    assert result.exit_code == 2
    assert "is not a valid float" in result.output


def test_beats_locate_handles_negative_longitudes_and_latitudes(runner):
    # a negative number must be read as a value, not an unknown option
    result = runner.invoke(args=["beats", "locate", "53.385798", "-2.338499"])  # WA13 0FS, Altrincham
    assert (result.exit_code, result.output.strip()) == (0, "E05015239")
    south = runner.invoke(args=["beats", "locate", "-33.86", "-70.65"])
    assert south.exit_code == 1 and "No beat contains -33.86, -70.65" in south.stderr


def test_golden_postcodes_locate_to_their_ward(runner):
    with open(POSTCODES, newline="", encoding="utf-8-sig") as handle:
        sample = list(csv.DictReader(handle))[::56][:200]
    assert len(sample) == 200
    wrong = {}
    for row in sample:
        result = runner.invoke(args=["beats", "locate", row["lat"], row["lon"]])
        if result.output.strip() != row["ward_code"]:
            wrong[row["postcode"]] = (row["ward_code"], result.exit_code, result.output.strip())
    assert set(wrong) <= BOUNDARY_POSTCODES, wrong


# --- the beat index sees CLI imports -----------------------------------------------------------


def test_locate_beat_sees_beats_imported_by_the_cli_in_the_same_app(fresh_app, tmp_path):
    lat, lon = (float(v) for v in M15_4AD)
    assert locate_beat(lat, lon) is None  # index built over no beats and cached

    assert invoke(fresh_app, "beats", "import", WARDS, *WARD_ARGS).exit_code == 0
    assert locate_beat(lat, lon).code == OLD_TRAFFORD
    assert locate_beat(51.5074, -0.1278) is None

    path = write_json(tmp_path / "london.json", police_uk_points(square(51.5074, -0.1278)))
    assert invoke(fresh_app, "beats", "import", path, "--code", "LDN", "--name", "London").exit_code == 0
    assert locate_beat(51.5074, -0.1278).code == "LDN"

    # an update keeps the count the same: only updated_at can tell the index to rebuild
    path = write_json(tmp_path / "london2.json", police_uk_points(square(51.60, -0.20)))
    result = invoke(fresh_app, "beats", "import", path, "--code", "LDN", "--name", "London")
    assert counts(result) == (1, 0, 1, 0)
    assert locate_beat(51.5074, -0.1278) is None
    assert locate_beat(51.60, -0.20).code == "LDN"
    assert locate_beat(lat, lon).code == OLD_TRAFFORD


def test_cli_locate_sees_a_beat_imported_by_the_cli(fresh_app, tmp_path):
    assert invoke(fresh_app, "beats", "locate", *LONDON).exit_code == 1
    path = write_json(tmp_path / "london.json", police_uk_points(square(51.5074, -0.1278)))
    assert invoke(fresh_app, "beats", "import", path, "--code", "LDN").exit_code == 0
    result = invoke(fresh_app, "beats", "locate", *LONDON)
    assert (result.exit_code, result.output.strip()) == (0, "LDN")


# --- schools import ----------------------------------------------------------------------------


def school_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(School.id)))


SCHOOL_SUMMARY = re.compile(r"(\d+) schools created, (\d+) updated, (\d+) unchanged, (\d+) outside every beat\.")


def school_counts(result) -> tuple[int, int, int, int]:
    match = SCHOOL_SUMMARY.search(result.stdout)
    assert match, result.output
    return tuple(int(n) for n in match.groups())


def test_schools_import_places_every_school_on_a_beat_and_reimport_updates(wards_app, tmp_path):
    result = invoke(wards_app, "schools", "import", SCHOOLS)
    assert result.exit_code == 0, result.output
    assert school_counts(result) == (103, 0, 0, 0)
    assert school_count() == 103
    assert db.session.scalar(sa.select(sa.func.count(School.id)).where(School.beat_id.is_(None))) == 0
    with open(SCHOOLS, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert set(db.session.scalars(sa.select(School.urn))) == {int(row["unique_reference_number"]) for row in rows}
    ids = set(db.session.scalars(sa.select(School.id)))

    again = invoke(wards_app, "schools", "import", SCHOOLS)
    assert again.exit_code == 0, again.output
    assert school_counts(again) == (0, 0, 103, 0)
    assert school_count() == 103
    assert set(db.session.scalars(sa.select(School.id))) == ids

    rows[0]["name"] = "Renamed School"
    path = tmp_path / "renamed.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    renamed = invoke(wards_app, "schools", "import", path)
    assert renamed.exit_code == 0, renamed.output
    assert school_counts(renamed)[:2] == (0, 1)
    assert school_count() == 103
    urn = int(rows[0]["unique_reference_number"])
    db.session.expire_all()
    assert db.session.scalar(sa.select(School.name).where(School.urn == urn)) == "Renamed School"


def test_schools_import_of_a_csv_missing_columns_fails_cleanly(wards_app, tmp_path):
    assert invoke(wards_app, "schools", "import", SCHOOLS).exit_code == 0
    path = tmp_path / "schools.csv"
    path.write_text("name,postcode\nSome School,M15 4AD\n", encoding="utf-8")
    result = invoke(wards_app, "schools", "import", path)
    assert result.exit_code != 0
    assert "missing columns lat, lon, unique_reference_number" in result.output
    assert "Traceback" not in result.output
    db.session.rollback()
    assert school_count() == 103


def test_schools_import_skips_bad_rows_and_says_so(wards_app, tmp_path):
    lines = SCHOOLS.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    urn, name = header.index("unique_reference_number"), header.index("name")
    bad_urn = next(csv.reader([lines[1]]))
    bad_urn[urn] = "not-a-urn"
    no_name = next(csv.reader([lines[2]]))
    no_name[name] = ""
    path = tmp_path / "schools.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([bad_urn, no_name, *csv.reader(lines[3:])])
    result = invoke(wards_app, "schools", "import", path)
    assert result.exit_code == 0, result.output
    assert school_counts(result)[0] == 101
    assert "skipped line 2: URN is not a number" in result.stderr
    assert "skipped line 3: no name" in result.stderr
    assert school_count() == 101


def test_schools_import_of_a_missing_file_fails_cleanly(wards_app, tmp_path):
    result = invoke(wards_app, "schools", "import", tmp_path / "nope.csv")
    assert result.exit_code != 0
    assert "cannot read" in result.output and "Traceback" not in result.output
    assert school_count() == 0


# --- users -------------------------------------------------------------------------------------

PASSWORD = "a-long-enough-password"


def get_user(collar: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.collar_number == collar))


def create_args(collar="pc9", *extra):
    return ["users", "create", "--collar", collar, "--name", "A B", "--role", "pcso", "--beat", OLD_TRAFFORD,
            *extra]


def test_users_create_upper_cases_the_collar_and_hashes_with_scrypt(runner):
    result = runner.invoke(args=create_args("pc9", "--password", PASSWORD))
    assert result.exit_code == 0, result.output
    assert result.output == "Created PC9 (PCSO).\n"  # --password given: no prompt
    user = get_user("PC9")
    assert user.display_name == "A B" and user.role == Role.PCSO
    assert [b.code for b in user.beats] == [OLD_TRAFFORD]
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash
    assert user.check_password(PASSWORD)
    assert get_user("pc9") is None


def test_users_create_prompts_for_the_password_twice_without_echo(runner):
    result = runner.invoke(args=create_args("pc10"), input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Password: " in result.output and "Repeat for confirmation: " in result.output
    assert PASSWORD not in result.output
    assert get_user("PC10").check_password(PASSWORD)


def test_users_create_with_mismatched_confirmation_creates_nobody(runner):
    result = runner.invoke(args=create_args("pc11"), input=f"{PASSWORD}\n{PASSWORD}x\n")
    assert result.exit_code != 0
    assert "do not match" in result.output
    assert get_user("PC11") is None


def test_users_create_refuses_a_short_password(runner):
    result = runner.invoke(args=create_args("pc12", "--password", "short"))
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output and "Traceback" not in result.output
    assert get_user("PC12") is None


def test_users_create_refuses_a_duplicate_collar_number(runner):
    assert runner.invoke(args=create_args("PC13", "--password", PASSWORD)).exit_code == 0
    result = runner.invoke(args=create_args(" pc13 ", "--password", PASSWORD + "2"))
    assert result.exit_code != 0
    assert "collar number PC13 is already in use" in result.output and "Traceback" not in result.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
    assert get_user("PC13").check_password(PASSWORD)


def test_users_create_refuses_an_unknown_beat(runner):
    result = runner.invoke(args=["users", "create", "--collar", "pc14", "--name", "A B", "--role", "pcso",
                                 "--beat", "E99999999", "--password", PASSWORD])
    assert result.exit_code != 0
    assert "no beat with code E99999999" in result.output and "Traceback" not in result.output
    db.session.rollback()
    assert get_user("PC14") is None


def test_users_create_refuses_an_unknown_role(runner):
    result = runner.invoke(args=["users", "create", "--collar", "pc15", "--name", "A B", "--role", "chief",
                                 "--password", PASSWORD])
    assert result.exit_code == 2
    assert "'chief' is not one of" in result.output
    assert get_user("PC15") is None


def test_users_assign_replaces_beats(runner):
    officer = factories.user(Role.PCSO, beats=[OLD_TRAFFORD, "E05015247"], collar="PC20")
    db.session.commit()
    result = runner.invoke(args=["users", "assign", "pc20", "E05015239", "E05015259"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "PC20: E05015239, E05015259"
    db.session.expire_all()
    assert sorted(b.code for b in officer.beats) == ["E05015239", "E05015259"]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.object_type == "user",
                                                          AuditEvent.object_id == officer.id))
    assert event.action == AuditAction.UPDATE and event.actor_id is None
    assert event.details == {"field": "beats", "before": ["E05015247", OLD_TRAFFORD],
                             "after": ["E05015239", "E05015259"]}


def test_users_assign_refuses_an_unknown_beat_and_keeps_the_old_ones(runner):
    officer = factories.user(Role.PCSO, beats=[OLD_TRAFFORD], collar="PC21")
    db.session.commit()
    result = runner.invoke(args=["users", "assign", "PC21", "E05015239", "E99999999"])
    assert result.exit_code != 0
    assert "no beat with code E99999999" in result.output and "Traceback" not in result.output
    db.session.rollback()
    db.session.expire_all()
    assert [b.code for b in officer.beats] == [OLD_TRAFFORD]


def test_users_assign_refuses_an_unknown_collar_number(runner):
    result = runner.invoke(args=["users", "assign", "PC404", OLD_TRAFFORD])
    assert result.exit_code != 0
    assert "no user with collar number PC404" in result.output
