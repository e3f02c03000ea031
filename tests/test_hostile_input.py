"""The security review's item 6 findings, each reproduced: numbers that are not finite or not in range, ids
beyond any database integer, JSON nested 5,000 deep, matching a typed name to a record the officer may not
see, and searches and exports run by a link another site shows."""
from __future__ import annotations

import json
import math
from datetime import date

import pytest
import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import AsbIncident, AuditAction, AuditEvent, Entry, EntryStatus, Link, LinkRole, Role
from pcso.numbers import (
    MAX_DB_INT, MAX_JSON_DEPTH, FiniteFloat, RecordId, finite_float, json_depth, loads_json, record_id,
)
from pcso.pole.queries import possible_duplicates
from tests import factories
from tests.api.helpers import bearer, key, problem, token
from tests.factories import signed_in, soup

OLD_TRAFFORD = factories.OLD_TRAFFORD

pytestmark = pytest.mark.usefixtures("memoised_hashing")


@pytest.fixture
def officer(app):
    person = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    return person


@pytest.fixture
def browser(app, officer):
    return signed_in(app, officer)


def entry_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Entry.id)))


def error_beside(response, field: str) -> str:
    message = soup(response).select_one(f"#{field}-error, [id='{field}-error']")
    return message.get_text(" ", strip=True) if message else ""


# --- numbers --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity", "1e309", "-1e309", "1" + "0" * 400,
                                   "²", "12abc", "", " ", "0x10", "1_000", None, [], {}, True])
def test_finite_float_refuses_what_is_not_a_finite_number(value):
    assert finite_float(value) is None


def test_finite_float_takes_numbers_in_range_only():
    assert finite_float("53.4649") == 53.4649 and finite_float(" -2.26 ") == -2.26 and finite_float(12) == 12.0
    assert finite_float("91", -90, 90) is None and finite_float("-0.5", 0, 10) is None
    assert finite_float(1e308) == 1e308 and finite_float(10**400) is None  # float(10**400) raised OverflowError


@pytest.mark.parametrize("value, expected", [("1", 1), (" 42 ", 42), (str(MAX_DB_INT), MAX_DB_INT), (7, 7),
                                             (str(MAX_DB_INT + 1), None), ("9" * 23, None), ("0", None), ("-3", None),
                                             ("²", None), ("١٢", None), ("1.0", None), ("", None), (None, None),
                                             (True, None), (2**63, None)])
def test_record_id_is_a_database_id_or_none(value, expected):
    assert record_id(value) == expected


def test_the_json_fields_refuse_nan_infinity_and_out_of_range():
    from marshmallow import Schema, ValidationError

    class Point(Schema):
        lat = FiniteFloat(-90, 90)
        person_id = RecordId()

    assert Point().load({"lat": 53.5, "person_id": 3}) == {"lat": 53.5, "person_id": 3}
    for bad in ({"lat": float("nan")}, {"lat": float("inf")}, {"lat": "-Infinity"}, {"lat": 91},
                {"person_id": 2**31}, {"person_id": "3"}, {"person_id": 3.0}, {"person_id": 0}):
        with pytest.raises(ValidationError):
            Point().load(bad)


def test_json_depth_counts_nesting_and_ignores_brackets_in_strings():
    assert json_depth(b'{"a": [1, {"b": 2}]}') == 3
    assert json_depth(b'{"q": "[[[[[[[[[[{{{{{{{"}') == 1
    assert json_depth(b'{"q": "a \\" [[[["}') == 1  # an escaped quote does not end the string
    assert json_depth(b"[" * 5000 + b"]" * 5000) == 5000
    assert json_depth(b"") == 0 and json_depth(b"42") == 0
    with pytest.raises(ValueError):
        loads_json("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))
    assert loads_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)


# --- a stored entry can be made unopenable ------------------------------------------------------------------------

@pytest.mark.parametrize("accuracy", ["-inf", "inf", "nan", "-5", "1e309", "100001", "12abc"])
def test_an_unreadable_or_impossible_accuracy_is_refused_beside_the_postcode(app, browser, accuracy):
    before = entry_count()
    response = browser.post("/asb-incidents/new", data=factories.asb_form(accuracy_m=accuracy))
    assert response.status_code == 400
    assert entry_count() == before
    page = soup(response)
    assert page.select_one(".error-summary, [data-error-summary], .govuk-error-summary") is not None or \
        "could not be read" in page.get_text() or "only accurate" in page.get_text()
    assert "±" not in (page.select_one("[data-location-status]").get_text() if
                       page.select_one("[data-location-status]") else "")  # the bad value is not shown back


@pytest.mark.parametrize("accuracy", ["1e309", "-inf", "nan", "-1"])
def test_a_form_shown_again_with_errors_survives_a_bad_accuracy(browser, accuracy):
    """1e309 reached the location partial's `| float | round | int` on the page shown again: a 500."""
    response = browser.post("/asb-incidents/new", data=factories.asb_form(accuracy_m=accuracy, summary=""))
    assert response.status_code == 400
    assert "Enter a short summary" in soup(response).get_text()


def test_a_real_accuracy_is_kept_and_shown(app, browser):
    response = browser.post("/asb-incidents/new", data=factories.asb_form(accuracy_m="12.4"))
    assert response.status_code == 302
    entry = db.session.scalar(sa.select(AsbIncident).order_by(AsbIncident.id.desc()).limit(1))
    assert entry.accuracy_m == 12.4
    assert "±12 m" in soup(browser.get(response.location)).get_text()


@pytest.mark.parametrize("stored", [float("-inf"), float("inf"), -5.0, float("nan")])
def test_an_entry_already_stored_with_a_bad_accuracy_still_opens(app, officer, stored):
    """Rows written before the fix (or behind the app's back) render: page, edit form, JSON and PDF."""
    supervisor = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD])
    entry = factories.asb(officer, OLD_TRAFFORD, status=EntryStatus.DRAFT)
    db.session.commit()
    db.session.execute(sa.update(Entry).where(Entry.id == entry.id).values(accuracy_m=stored))
    db.session.commit()
    author = signed_in(app, officer)
    assert author.get(f"/entries/{entry.id}").status_code == 200
    edit = author.get(f"/entries/{entry.id}/edit")
    assert edit.status_code == 200
    assert soup(edit).select_one("input[name=accuracy_m]").get("value", "") in ("", "-5.0") or math.isfinite(stored)
    response = author.post(f"/entries/{entry.id}/pdf", data={"purpose": "Court file", "recipient": "CPS"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    api = app.test_client().get(f"/api/v1/entries/{entry.id}", headers=bearer(token(officer)))
    assert api.status_code == 200
    accuracy = json.loads(api.get_data(as_text=True))["accuracy_m"]  # strict JSON: no Infinity, no NaN
    assert accuracy is None or math.isfinite(accuracy)
    author.post(f"/entries/{entry.id}/submit")
    assert signed_in(app, supervisor).get(f"/entries/{entry.id}").status_code == 200


def test_the_api_refuses_an_impossible_accuracy(app, officer):
    secret = token(officer)
    body = {"occurred_at": "2026-11-28T21:40:00Z", "summary": "Accuracy", "lat": 53.464903, "lon": -2.260757,
            "location_source": "gps", "nsir_category": "nuisance", "asb_type": "noise", "description": "Noise"}
    client = app.test_client()
    for bad in (-1, 100_001, 1e308):
        response = client.post("/api/v1/asb-incidents", json=body | {"accuracy_m": bad},
                               headers=bearer(secret, **{"Idempotency-Key": key()}))
        assert response.status_code == 422 and "accuracy_m" in problem(response)["errors"], bad
    for literal in ("NaN", "Infinity", "-Infinity"):
        raw = json.dumps(body | {"accuracy_m": 0}).replace('"accuracy_m": 0', f'"accuracy_m": {literal}')
        response = client.post("/api/v1/asb-incidents", data=raw, content_type="application/json",
                               headers=bearer(secret, **{"Idempotency-Key": key()}))
        assert response.status_code in (400, 422), literal
    assert entry_count() == 0


# --- ids beyond any database integer ---------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["9" * 23, str(MAX_DB_INT + 1), "²", "-1", "1e3"])
def test_a_person_id_that_is_no_id_is_a_400_beside_the_name(app, browser, value):
    before = entry_count()
    response = browser.post("/asb-incidents/new", data=factories.asb_form(**{
        "people-0-person_id": value, "people-0-name": "Bob Smith", "people-0-role": "witness"}))
    assert response.status_code == 400
    assert entry_count() == before
    assert "Pick the record again" in soup(response).get_text()


@pytest.mark.parametrize("value", ["9" * 23, str(MAX_DB_INT + 1), "²"])
def test_a_child_id_that_is_no_id_is_a_400(app, officer, browser, value):
    response = browser.post("/welfare-checks/new", data={
        **factories.asb_form(), "child_id": value, "child_name": "Riley Morgan", "child_born_on": "2012-03-04",
        "spoc_id": str(officer.id), "visit_type": "planned", "is_seen_alone": "yes", "risk_level": "low"})
    assert response.status_code == 400
    assert "Pick the record again" in soup(response).get_text()


@pytest.mark.parametrize("url", ["/lists/entries?beat=²", "/lists/entries?person=١٢", "/dashboard?beat=²",
                                 "/entries?beat=²"])
def test_unicode_digits_in_filters_are_not_server_errors(app, browser, url):
    """str.isdigit() says yes to '²' and int() then raises: each was a 500."""
    assert browser.get(url).status_code in (200, 400, 404)


def test_a_photo_offer_with_huge_or_deep_numbers_is_ignored(app, browser):
    offers = json.dumps([{"lat": 10**400, "lon": 1e308, "taken_at": "2026-12-01T10:00:00Z"}])
    response = browser.post("/asb-incidents/new", data=factories.asb_form(photo_offers=offers))
    assert response.status_code == 302
    response = browser.post("/asb-incidents/new", data=factories.asb_form(photo_offers="[" * 5000 + "]" * 5000))
    assert response.status_code == 302


# --- JSON nested 5,000 deep ------------------------------------------------------------------------------------

DEEP = ["[" * 5000 + "]" * 5000, '{"a":' * 5000 + "1" + "}" * 5000, '{"q": ' + "[" * 40 + "]" * 40 + "}"]


@pytest.mark.parametrize("url", ["/people/suggest", "/vehicles/suggest", "/geo/locate", "/geo/postcode"])
@pytest.mark.parametrize("deep", DEEP, ids=["arrays", "objects", "just-too-deep"])
def test_deep_json_to_the_page_scripts_endpoints_is_a_json_400(browser, url, deep):
    response = browser.post(url, data=deep, content_type="application/json")
    assert response.status_code == 400
    assert response.is_json and f"more than {MAX_JSON_DEPTH} levels" in response.get_json()["detail"]


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", ""])
def test_deep_json_to_the_api_is_a_400_problem(app, officer, content_type):
    response = app.test_client().post("/api/v1/asb-incidents", data=DEEP[0], content_type=content_type or None,
                                      headers=bearer(token(officer), **{"Idempotency-Key": key()}))
    assert response.status_code == 400
    assert "levels deep" in problem(response)["detail"]


def test_ordinary_json_still_works(browser):
    response = browser.post("/geo/locate", json={"lat": 53.464903, "lon": -2.260757})
    assert response.status_code == 200 and response.get_json()["beat"]["code"] == OLD_TRAFFORD


# --- matching a typed name and date of birth ---------------------------------------------------------------------

def test_a_pcso_naming_a_child_known_only_from_another_officers_welfare_check_gets_a_new_record(app, officer,
                                                                                                 browser):
    other = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    check = factories.welfare(other, beat_code=OLD_TRAFFORD, child_name="Riley Hiddenchild")
    child = check.child
    db.session.commit()
    born = child.born_on.isoformat()

    suggested = browser.post("/people/suggest", json={"q": "Riley Hidden"}).get_json()["results"]
    assert suggested == []  # never offered
    response = browser.post("/asb-incidents/new", data=factories.asb_form(**{
        "people-0-name": "riley hiddenchild", "people-0-role": "witness", "people-0-born_on": born}))
    assert response.status_code == 302
    entry = db.session.get(AsbIncident, int(response.location.rsplit("/", 1)[1]))
    linked = entry.people_links[0].person
    assert linked.id != child.id  # not joined: a new record
    assert (linked.full_name, linked.born_on) == ("riley hiddenchild", child.born_on)
    assert db.session.scalars(sa.select(Link.entry_id).where(Link.person_id == child.id)).all() == [check.id]
    page = soup(browser.get(response.location)).get_text()
    assert "riley hiddenchild" in page and check.summary not in page

    # The duplicate review, by someone who may see both records, finds the pair.
    supervisor = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD])
    assert [dup.record.id for dup in possible_duplicates(supervisor, child)] == [linked.id]


def test_a_pcso_naming_a_person_they_may_see_is_joined_to_that_record(app, officer, browser):
    mine = factories.asb(officer, OLD_TRAFFORD)
    known = factories.link(mine, factories.person("Sam Known", date(1990, 2, 3)), LinkRole.WITNESS).person
    db.session.commit()
    response = browser.post("/asb-incidents/new", data=factories.asb_form(**{
        "people-0-name": "sam known", "people-0-role": "victim", "people-0-born_on": "1990-02-03",
        "victim_risk": "low"}))
    entry = db.session.get(AsbIncident, int(response.location.rsplit("/", 1)[1]))
    assert entry.people_links[0].person_id == known.id


def test_a_welfare_child_typed_by_name_and_birth_date_is_not_joined_to_a_hidden_record(app, officer, browser):
    other = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    hidden = factories.welfare(other, beat_code=OLD_TRAFFORD, child_name="Jo Secretchild").child
    db.session.commit()
    response = browser.post("/welfare-checks/new", data={
        **factories.asb_form(summary="Monthly visit"), "child_name": "Jo Secretchild",
        "child_born_on": hidden.born_on.isoformat(), "spoc_id": str(officer.id), "visit_type": "planned",
        "is_seen_alone": "yes", "risk_level": "low"})
    assert response.status_code == 302
    entry_id = int(response.location.rsplit("/", 1)[1])
    child = db.session.get(Entry, entry_id).links[0].person
    assert child.id != hidden.id


# --- a search or an export run by a link on another site ----------------------------------------------------------

def searches() -> int:
    return db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action.in_([AuditAction.SEARCH, AuditAction.DISCLOSE])))


@pytest.fixture
def saved_search(browser):
    response = browser.post("/search", data={"q": "shouting"})
    assert response.status_code == 303
    return response.location


FOREIGN = pytest.mark.parametrize(
    "headers", [{"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                {"Referer": "https://evil.example/page"}, {"Origin": "null"}],
    ids=["cross-site", "same-site", "foreign-referer", "null-origin"])


@FOREIGN
@pytest.mark.parametrize("url", ["saved", "/lists/entries?kind=asb-incidents", "/entries?kind=asb-incidents",
                                 "/lists/entries/export?kind=asb-incidents&format=csv"])
def test_a_search_or_export_started_by_another_site_is_not_run(app, browser, saved_search, headers, url):
    """The export form counts what the filters match (and may name a person): a search, so it is confirmed too.
    Bulk exports are supervisors' and analysts' (a PCSO gets a 403 before anything runs)."""
    if url.startswith("/lists/entries/export"):
        browser = signed_in(app, factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD]))
        db.session.commit()
    url = saved_search if url == "saved" else url
    before = searches()
    response = browser.get(url, headers=headers)
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("h1").get_text(strip=True) == "Open this page?"
    assert page.select_one("[data-testid=confirm-navigation]")["href"] == url
    assert searches() == before  # nothing searched, nothing recorded

    same = browser.get(url, headers={"Sec-Fetch-Site": "same-origin"})  # the confirm button, followed
    assert same.status_code == 200
    assert not same.mimetype.startswith("text/html") or soup(same).select_one("h1").get_text() != "Open this page?"


@FOREIGN
@pytest.mark.parametrize("url", ["/briefing.pdf", "/lists/entries/export?kind=asb-incidents&format=csv"])
def test_a_link_from_another_site_never_produces_a_file(app, browser, headers, url, monkeypatch):
    """The printable briefing's GET only asks why and for whom (the disclosure and the file are its POST, which a
    foreign page can't make without the form's CSRF token); the list export's GET is confirmed (above)."""
    if url.startswith("/lists/entries/export"):
        browser = signed_in(app, factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD]))
        db.session.commit()
    before = searches()
    response = browser.get(url, headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "attachment" not in response.headers.get("Content-Disposition", "")
    assert searches() == before  # no disclosure recorded
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # (off in the tests) a foreign form has none
    posted = browser.post(url, data={"purpose": "Briefing the team", "recipient": "Sgt Evil", "format": "csv"},
                          headers=headers)
    assert posted.status_code == 400 and posted.mimetype == "text/html"
    assert searches() == before


@pytest.mark.parametrize("headers", [{}, {"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"},
                                     {"Referer": "http://localhost/search"}])
def test_a_search_the_user_started_runs_and_is_recorded(app, browser, saved_search, headers):
    before = searches()
    response = browser.get(saved_search, headers=headers)
    assert response.status_code == 200
    assert soup(response).select_one("h1").get_text(strip=True) != "Open this page?"
    assert searches() == before + 1


def test_the_bare_list_opens_from_a_link_elsewhere(browser):
    """Nothing is searched without filters: a link from the intranet to the list opens it."""
    response = browser.get("/lists/entries", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200 and soup(response).select_one("h1").get_text() != "Open this page?"


# --- NUL characters (PostgreSQL can't store U+0000 in text: each was a 500 there) ------------------------------

def test_a_nul_character_in_a_form_is_a_400_and_nothing_is_kept(app, browser):
    before = entry_count()
    response = browser.post("/asb-incidents/new", data=factories.asb_form(summary="Youths\x00 shouting"))
    assert response.status_code == 400
    assert "NUL character" in soup(response).get_text()
    assert entry_count() == before
    assert browser.post("/search", data={"q": "a\x00b"}).status_code == 400
    assert browser.get("/lists/entries?q=%00").status_code == 400


@pytest.mark.parametrize("summary", ["x\x00y", "x\\u0000y"], ids=["raw", "escaped"])
def test_a_nul_character_in_json_is_a_400(app, officer, browser, summary):
    raw = '{"occurred_at": "2026-11-28T21:40:00Z", "summary": "SUMMARY", "lat": 53.464903, "lon": -2.260757, ' \
          '"location_source": "gps", "nsir_category": "nuisance", "asb_type": "noise", "description": "Noise"}'
    raw = raw.replace("SUMMARY", summary)
    response = app.test_client().post("/api/v1/asb-incidents", data=raw, content_type="application/json",
                                      headers=bearer(token(officer), **{"Idempotency-Key": key()}))
    assert response.status_code == 400
    assert entry_count() == 0
    response = browser.post("/people/suggest", data='{"q": "ab\\u0000cd"}', content_type="application/json")
    assert response.status_code == 400 and response.is_json


def test_an_escaped_backslash_before_u0000_is_ordinary_text(browser):
    response = browser.post("/people/suggest", data='{"q": "ab\\\\u0000cd"}', content_type="application/json")
    assert response.status_code == 200


def test_a_stale_if_match_on_reading_an_entry_is_a_412_problem_without_the_entry(app, officer):
    """Found by tests/test_fuzz_api.py: make_conditional answered 412 with the whole entry as the body."""
    entry = factories.asb(officer, OLD_TRAFFORD)
    db.session.commit()
    response = app.test_client().get(f"/api/v1/entries/{entry.id}", headers=bearer(token(officer), **{"If-Match": '"x"'}))
    assert response.status_code == 412
    assert "summary" not in problem(response)
