"""GET /geo/offline-pack: the user's beats and their postcodes for the phone, versioned, never cached by HTTP."""
from __future__ import annotations

import csv

import pytest
from shapely.geometry import Point, shape

from pcso.extensions import db
from pcso.models import Role
from pcso.postcodes import DEFAULT_POSTCODES_PATH
from tests import factories
from tests.factories import signed_in

OLD_TRAFFORD = factories.OLD_TRAFFORD  # E05015253
ALTRINCHAM = "E05015239"

pytestmark = pytest.mark.usefixtures("memoised_hashing")


def ward_postcodes(code: str) -> set[str]:
    with open(DEFAULT_POSTCODES_PATH, encoding="utf-8-sig", newline="") as handle:
        return {row["postcode"] for row in csv.DictReader(handle) if row["ward_code"] == code}


def test_a_pcso_gets_only_their_own_beats_and_the_postcodes_in_them(app):
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    response = signed_in(app, pcso).get("/geo/offline-pack")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    pack = response.get_json()
    beat = factories.beat(OLD_TRAFFORD)
    assert [(b["id"], b["code"], b["name"]) for b in pack["beats"]] == [(beat.id, OLD_TRAFFORD, "Old Trafford")]
    outline = shape(pack["beats"][0]["outline"])
    assert outline.is_valid and outline.area == pytest.approx(shape(beat.boundary).area, rel=1e-3)
    rows = {row[0]: row for row in pack["postcodes"]}
    inside = {code for code, row in rows.items() if row[3] == beat.id}
    # Every row marked as in the beat is in its outline, and the rest are just outside it (the buffer).
    for code, _, lat, lon, beat_id in ((r[0], *r) for r in rows.values()):
        where = Point(lon, lat)
        assert outline.covers(where) is (beat_id == beat.id), code
        assert outline.distance(where) < 0.002, code
    # The ONS file's ward agrees with the outline for nearly every centroid.
    assert len(inside & ward_postcodes(OLD_TRAFFORD)) > 0.95 * len(ward_postcodes(OLD_TRAFFORD))
    assert not rows.keys() & ward_postcodes(ALTRINCHAM)  # another beat's postcodes are not sent
    assert "M15 4AD" in inside
    assert response.headers["ETag"] == f'"{pack["version"]}"'


def test_the_pack_follows_the_users_beats(app):
    both = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD, ALTRINCHAM])
    none = factories.user(Role.PCSO)
    db.session.commit()
    pack = signed_in(app, both).get("/geo/offline-pack").get_json()
    assert sorted(b["code"] for b in pack["beats"]) == sorted([OLD_TRAFFORD, ALTRINCHAM])
    codes = {row[0] for row in pack["postcodes"]}
    assert "M15 4AD" in codes and codes & ward_postcodes(ALTRINCHAM)
    empty = signed_in(app, none).get("/geo/offline-pack").get_json()
    assert (empty["beats"], empty["postcodes"]) == ([], [])
    assert empty["version"] != pack["version"]


def test_an_unchanged_pack_answers_304(app):
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    browser = signed_in(app, pcso)
    first = browser.get("/geo/offline-pack")
    again = browser.get("/geo/offline-pack", headers={"If-None-Match": first.headers["ETag"]})
    assert (again.status_code, again.data, again.headers["ETag"]) == (304, b"", first.headers["ETag"])
    assert again.headers["Cache-Control"] == "no-store"
    stale = browser.get("/geo/offline-pack", headers={"If-None-Match": '"0000000000000000"'})
    assert stale.status_code == 200 and stale.get_json()["version"] == first.get_json()["version"]


def test_a_changed_beat_changes_the_version(app):
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    browser = signed_in(app, pcso)
    before = browser.get("/geo/offline-pack").get_json()["version"]
    factories.beat(OLD_TRAFFORD).name = "Old Trafford North"
    db.session.commit()
    after = browser.get("/geo/offline-pack").get_json()
    assert after["version"] != before and after["beats"][0]["name"] == "Old Trafford North"


@pytest.mark.parametrize("role, status", [(Role.PCSO, 200), (Role.SUPERVISOR, 200), (Role.ANALYST, 403),
                                          (Role.SAFEGUARDING, 403), (Role.ADMIN, 403)])
def test_only_loggers_get_the_pack(app, role, status):
    person = factories.user(role, beats=[OLD_TRAFFORD] if role != Role.ADMIN else [])
    db.session.commit()
    assert signed_in(app, person).get("/geo/offline-pack").status_code == status


def test_signed_out_gets_no_pack(app):
    response = app.test_client().get("/geo/offline-pack")
    assert response.status_code == 401 and response.is_json
