"""Type-ahead for people and vehicles on the entry forms: likely existing records before a new one is made.

Who may be offered: only people and vehicles linked to an entry the officer may open, never a merged-away
record; the expected lists are written by hand from the links each test seeds.
"""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from pcso import audit
from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, PersonMatchKey, Role, SecurityMarking, VehicleMatchKey
from pcso.pole import matching
from pcso.pole.suggest import BEGINS, Candidate, choose_offers
from pcso.timeutil import utcnow
from tests import factories
from tests.factories import OLD_TRAFFORD, signed_in

ALTRINCHAM = "E05015239"
pytestmark = pytest.mark.usefixtures("memoised_hashing")


@pytest.fixture
def officer(app):
    person = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    return person


@pytest.fixture
def browser(app, officer):
    return signed_in(app, officer)


def seen(officer, record, beat_code=OLD_TRAFFORD):
    """Link the record to a submitted ASB incident on a beat."""
    factories.link(factories.asb(officer, beat_code), record)
    return record


def suggest(browser, **body):
    response = browser.post("/people/suggest", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["results"]


def test_pcso_typing_jon_smyth_is_offered_john_smith_with_the_reason(browser, officer):
    john = seen(officer, factories.person("John Smith", date(1998, 5, 1)))
    seen(officer, factories.person("Aisha Khan", date(1998, 5, 1)))
    db.session.commit()

    results = suggest(browser, q="Jon Smyth")
    assert [r["id"] for r in results] == [john.id]
    assert results[0]["year_or_age"] == "b. 1998" and results[0]["reason"].startswith("similar name")
    assert results[0]["is_likely"] is True and results[0]["label"] == "John Smith, b. 1998"
    dated = suggest(browser, q="Jon Smyth", born_on="1998-05-01")[0]
    assert dated["reason"] == "similar name (Jon for John), same date of birth"


def test_swapped_names_nicknames_and_aliases_are_offered(browser, officer):
    bill = seen(officer, factories.person("William Turner"))
    kel = seen(officer, factories.person("Kelly Ann Hughes", aliases=["Kel Brady"]))
    db.session.commit()
    assert [r["id"] for r in suggest(browser, q="Turner Bill")] == [bill.id]
    assert suggest(browser, q="Turner Bill")[0]["reason"] == ("similar name (Bill for William), first and last swapped, "
                                                            "no other record comes close")
    found = suggest(browser, q="kel brady")
    assert [r["id"] for r in found] == [kel.id] and "alias “Kel Brady”" in found[0]["reason"]


def test_likely_matches_come_first_and_namesakes_are_possible_with_the_reason(browser, officer):
    john = seen(officer, factories.person("John Smith", date(1998, 5, 1)))
    namesake = seen(officer, factories.person("John Smith"))  # no date of birth on record
    other = seen(officer, factories.person("John Smith", date(1971, 3, 3)))
    db.session.commit()

    dated = suggest(browser, q="Jon Smith", born_on="1998-05-01")  # the very date on record: he alone is offered
    assert [(r["id"], r["tier"], r["is_likely"]) for r in dated] == [(john.id, "likely", True)]
    assert dated[0]["reason"] == "similar name (Jon for John), same date of birth"
    slip = suggest(browser, q="Jon Smith", born_on="1998-01-05")  # day and month swapped: a slip, not proof
    assert [(r["id"], r["tier"]) for r in slip] == [(john.id, "likely"), (namesake.id, "possible")]
    assert slip[0]["is_likely"] is True and slip[1]["is_likely"] is False
    assert slip[0]["reason"] == "similar name (Jon for John), date of birth nearly the same"
    assert slip[1]["reason"] == "similar name (Jon for John), no date of birth on record to compare"
    assert other.id not in [r["id"] for r in dated + slip]  # a different date of birth rules him out

    alone = suggest(browser, q="John Smith")  # three namesakes: nothing typed tells them apart
    assert {r["id"] for r in alone} == {john.id, namesake.id, other.id} and {r["tier"] for r in alone} == {"possible"}
    assert all(r["reason"] == "same name, no date of birth or age typed, 2 other records as close" for r in alone)

    aged = suggest(browser, q="John Smith", age=28)
    assert [r["tier"] for r in aged if r["id"] == john.id] == ["possible"]  # an age alone is not enough


def test_a_name_typed_in_part_offers_names_beginning_so(browser, officer):
    dale = seen(officer, factories.person("Dale Wrigley", date(1988, 7, 14)))
    seen(officer, factories.person("Kim Walsh"))
    db.session.commit()
    found = suggest(browser, q="dale w")
    assert [r["id"] for r in found] == [dale.id]
    assert [r["id"] for r in suggest(browser, q="wrig")] == [dale.id]


def test_a_different_date_of_birth_is_not_offered_as_likely(browser, officer):
    seen(officer, factories.person("John Smith", date(1961, 2, 9)))
    db.session.commit()
    assert suggest(browser, q="Jon Smyth", born_on="1998-05-01") == []


def test_pcso_is_never_offered_people_they_may_not_see(app, browser, officer):
    other = factories.user(Role.PCSO, beats=[ALTRINCHAM])
    factories.welfare(other, beat_code=OLD_TRAFFORD, child_name="John Smith")  # someone else's welfare check
    seen(other, factories.person("John Smith", date(1999, 1, 1)), ALTRINCHAM)  # another beat
    factories.link(factories.asb(officer, OLD_TRAFFORD, marking=SecurityMarking.OFFICIAL_SENSITIVE),
                   factories.person("John Smyth"))  # their own entry: visible to its author
    factories.person("Jon Smith")  # linked to nothing
    db.session.commit()
    assert [r["name"] for r in suggest(browser, q="Jon Smyth")] == ["John Smyth"]
    supervisor = signed_in(app, factories.user(Role.SUPERVISOR))
    db.session.commit()
    assert sorted(r["name"] for r in suggest(supervisor, q="John Smith")) == ["John Smith", "John Smith"]
    assert [r["name"] for r in suggest(supervisor, q="John Smyth")] == ["John Smyth"]
    assert "Jon Smith" not in [r["name"] for r in suggest(supervisor, q="Jon Smith")]  # linked to nothing


def test_a_merged_away_record_is_never_offered(browser, officer):
    keep = seen(officer, factories.person("John Smith"))
    gone = seen(officer, factories.person("Jon Smith"))
    gone.merged_into_id, gone.merged_at = keep.id, utcnow()
    db.session.commit()
    assert [r["id"] for r in suggest(browser, q="Jon Smyth")] == [keep.id]


def test_suggestions_are_audited_as_consulted(browser, officer):
    john = seen(officer, factories.person("John Smith"))
    db.session.commit()
    suggest(browser, q="Jon Smyth")
    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert event.action == AuditAction.VIEW and event.details["context"] == "pole.suggest_people"
    assert event.details["records"] == {"person": audit.id_summary([john.id])}
    assert "Smyth" not in str(event.details)  # what was typed is not kept


@pytest.mark.parametrize("body, message", [
    ({"q": "John Smith", "born_on": "1998-02-31"}, "date like"),
    ({"q": "John Smith", "born_on": "01/02/1998"}, "date like"),
    ({"q": "John Smith", "born_on": "2999-01-01"}, "future"),
    ({"q": "John Smith", "age": "twelve"}, "whole number"),
    ({"q": "John Smith", "age": 300}, "between 0 and 120"),
])
def test_a_date_of_birth_or_age_that_cant_be_read_is_a_400(browser, body, message):
    response = browser.post("/people/suggest", json=body)
    assert response.status_code == 400 and response.is_json and message in response.get_json()["detail"]


def test_names_that_only_begin_as_typed_are_offered_only_when_nothing_matches(browser, officer):
    dale = seen(officer, factories.person("Dale Wrigley"))
    wrig = seen(officer, factories.person("Dale Wrig"))
    db.session.commit()
    assert [(r["id"], r["tier"]) for r in suggest(browser, q="dale wrig")] == [(wrig.id, "likely")]  # not Wrigley
    assert [(r["id"], r["tier"], r["reason"]) for r in suggest(browser, q="dale wr")] == [
        (wrig.id, "begins", "name begins “wr”"), (dale.id, "begins", "name begins “wr”")]


def test_possible_offers_are_the_best_few(monkeypatch):
    def candidate(person_id, score, tier):
        return Candidate(person_id, f"name {person_id}", matching.Match(score, ["why"], "", tier=tier))

    likely = candidate(1, 1.0, matching.LIKELY)
    possible = [candidate(i, 0.95, matching.POSSIBLE) for i in range(2, 7)]
    begins = candidate(7, 0.5, None)
    found = [likely, *possible, begins]
    assert [(c.id, tier) for c, tier in choose_offers(found, {7}, limit=8)] == [
        (1, matching.LIKELY), *((i, matching.POSSIBLE) for i in range(2, 7))]
    assert [c.id for c, _ in choose_offers(found, {7}, limit=3)] == [1, 2, 3]
    monkeypatch.setattr(matching, "POSSIBLE_LIMIT", 2)
    assert [c.id for c, _ in choose_offers(found, {7}, limit=8)] == [1, 2, 3]
    assert choose_offers([begins], {7}, limit=8) == [(begins, BEGINS)]


def test_nothing_typed_is_no_suggestions(browser):
    assert suggest(browser, q="j") == [] and suggest(browser) == []
    assert browser.post("/people/suggest", data="not json", content_type="text/plain").get_json() == {"results": []}


def test_keys_follow_the_record(app, officer):
    person = seen(officer, factories.person("John Smith", date(1998, 5, 1)))
    db.session.commit()
    keys = lambda: set(db.session.scalars(sa.select(PersonMatchKey.key).where(PersonMatchKey.person_id == person.id)))
    assert {"t:john", "t:smith", "p:JN|SM0", "y:1998:SM0"} <= keys()
    person.full_name, person.aliases = "Kerry Jones", ["Kez Jones"]
    db.session.commit()
    assert "t:smith" not in keys() and {"t:kerry", "t:kez", "t:jones"} <= keys()


def test_look_alike_registrations_are_offered_with_the_reason(browser, officer):
    car = seen(officer, factories.vehicle("AB12 CDE", make="Ford"))
    seen(officer, factories.vehicle("XY99 ZZZ"))
    hidden = factories.vehicle("A812 CDF")  # linked to nothing
    db.session.commit()
    assert db.session.scalar(sa.select(VehicleMatchKey.key).where(VehicleMatchKey.vehicle_id == car.id)) == "A812C0E"
    results = browser.post("/vehicles/suggest", json={"q": "a812 cde"}).get_json()["results"]
    assert [(r["id"], r["reason"]) for r in results] == [(car.id, "looks like AB12 CDE")]
    results = browser.post("/vehicles/suggest", json={"q": "12CD"}).get_json()["results"]
    assert [(r["id"], r["reason"]) for r in results] == [(car.id, "registration contains 12CD")]
    assert hidden.id not in [r["id"] for r in browser.post("/vehicles/suggest", json={"q": "A812"}).get_json()["results"]]
