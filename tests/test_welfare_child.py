"""A welfare check's child is under 18 on the visit date, whether the name and date of birth are typed or an
existing record is picked from the suggestions (issue 10, item 5).

A picked record is linked only if its date of birth is the one on the form (the one the age rule is checked
on): a record born in 1990, a record with another date of birth, or a record with no date of birth at all is
refused on child_born_on with a message saying why, as a 4xx, on the page, the JSON API and the forms API,
and nothing stored changes (a draft being corrected stays as it was)."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import Entry, Link, LinkRole, Person, Role, WelfareCheck
from pcso.timeutil import to_london, utcnow
from tests import factories
from tests.api.helpers import bearer, key, problem, token
from tests.factories import signed_in, soup

POINT = {"lat": "53.464903", "lon": "-2.260757"}  # M15 4AD, in Old Trafford


def today() -> date:
    return to_london(utcnow()).date()


def years_ago(years: int, days: int = 0) -> date:
    return today().replace(year=today().year - years) - timedelta(days=days)


def welfare_form(spoc, **extra) -> dict:
    data = {"client_key": str(uuid.uuid4()), "occurred_at": to_london(utcnow()).strftime("%Y-%m-%dT%H:%M"),
            "summary": "Planned visit", "marking": "OFFICIAL", **POINT, "accuracy_m": "12", "location_source": "gps",
            "beat_id": "", "child_name": "Sam Child", "child_born_on": years_ago(13).isoformat(),
            "spoc_id": str(spoc.id), "visit_type": "planned", "is_seen_alone": "yes", "risk_level": "medium",
            "action": "submit"}
    return data | extra


def known_person(officer, name: str, born_on: date | None) -> Person:
    """A person the officer may see: the victim of their own ASB incident."""
    record = factories.person(name, born_on)
    incident = factories.asb(officer)
    incident.links.append(Link(person=record, role=LinkRole.VICTIM))
    db.session.commit()
    return record


def errors_on(response, field: str) -> str:
    page = soup(response)
    group = page.select_one(f"#{field}").find_parent(class_="form-group")
    return group.select_one(".error-message").get_text(" ", strip=True)


def welfare_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(WelfareCheck.id)))


def test_pcso_cannot_pick_an_adult_as_the_child(app):
    officer = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    adult = known_person(officer, "Dana Adult", date(1990, 3, 3))
    browser = signed_in(app, officer)
    # The date typed is a child's: the record picked is not.
    response = browser.post("/welfare-checks/new", data=welfare_form(
        officer, child_name="Dana Adult", child_id=str(adult.id), child_born_on=years_ago(12).isoformat()))
    assert response.status_code == 400
    message = errors_on(response, "child_born_on")
    assert "under 18" in message and "03 Mar 1990" in message
    assert "under 18" in soup(response).select_one("[data-testid=error-summary]").get_text()
    assert welfare_count() == 0
    db.session.expire_all()
    assert db.session.get(Person, adult.id).born_on == date(1990, 3, 3)  # the record is as it was
    # what was typed is still there to correct
    page = soup(response)
    assert page.select_one("#child_name")["value"] == "Dana Adult"


def test_pcso_cannot_pick_a_record_without_a_date_of_birth_as_the_child(app):
    officer = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    unknown = known_person(officer, "Kit Nodob", None)
    browser = signed_in(app, officer)
    response = browser.post("/welfare-checks/new", data=welfare_form(
        officer, child_name="Kit Nodob", child_id=str(unknown.id)))
    assert response.status_code == 400
    assert "no date of birth" in errors_on(response, "child_born_on")
    assert welfare_count() == 0
    # The way out the message gives: the name typed again (no pick) makes a record with the date entered.
    response = browser.post("/welfare-checks/new", data=welfare_form(officer, child_name="Kit Nodob"))
    assert response.status_code == 302
    check = db.session.scalar(sa.select(WelfareCheck))
    assert check.child.id != unknown.id and check.child.born_on == years_ago(13)
    db.session.expire_all()
    assert db.session.get(Person, unknown.id).born_on is None  # the picked record was not changed


def test_a_picked_child_with_another_date_of_birth_is_refused(app):
    officer = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    child = known_person(officer, "Robin Young", years_ago(14))
    response = signed_in(app, officer).post("/welfare-checks/new", data=welfare_form(
        officer, child_name="Robin Young", child_id=str(child.id), child_born_on=years_ago(13).isoformat()))
    assert response.status_code == 400
    assert "not the picked record's" in errors_on(response, "child_born_on")
    assert welfare_count() == 0


def test_pcso_can_pick_a_child_under_18_and_the_record_is_linked(app):
    officer = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    born = years_ago(18, days=-1)  # 18 tomorrow: still a child today
    child = known_person(officer, "Robin Young", born)
    response = signed_in(app, officer).post("/welfare-checks/new", data=welfare_form(
        officer, child_name="Robin Young", child_id=str(child.id), child_born_on=born.isoformat()))
    assert response.status_code == 302, soup(response).select_one("[data-testid=error-summary]")
    assert db.session.scalar(sa.select(WelfareCheck)).child.id == child.id


def test_a_draft_corrected_with_an_adult_picked_keeps_its_child(app):
    officer = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    adult = known_person(officer, "Dana Adult", date(1990, 3, 3))
    browser = signed_in(app, officer)
    assert browser.post("/welfare-checks/new", data=welfare_form(officer, action="draft")).status_code == 302
    draft = db.session.scalar(sa.select(WelfareCheck))
    child_id, draft_id = draft.child.id, draft.id
    response = browser.post(f"/entries/{draft_id}/edit", data=welfare_form(
        officer, child_name="Dana Adult", child_id=str(adult.id), child_born_on=years_ago(12).isoformat(),
        action="draft"))
    assert response.status_code == 400
    assert "under 18" in errors_on(response, "child_born_on")
    db.session.expire_all()
    assert db.session.get(WelfareCheck, draft_id).child.id == child_id


def test_the_json_api_refuses_an_adult_picked_as_the_child(app):
    officer = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    adult = known_person(officer, "Dana Adult", date(1990, 3, 3))
    secret = token(officer)
    payload = {"occurred_at": (utcnow() - timedelta(minutes=5)).isoformat(), "summary": "Planned visit",
               "lat": 53.464903, "lon": -2.260757, "location_source": "gps", "child_name": "Dana Adult",
               "child_id": adult.id, "child_born_on": years_ago(12).isoformat(), "spoc_id": officer.id,
               "visit_type": "planned", "is_seen_alone": True, "risk_level": "medium"}
    response = app.test_client().post("/api/v1/welfare-checks?submit=true", json=payload,
                                      headers=bearer(secret, **{"Idempotency-Key": key()}))
    assert response.status_code == 422
    body = problem(response)
    assert "under 18" in " ".join(body["errors"]["child_born_on"])
    assert db.session.scalar(sa.select(sa.func.count(Entry.id))) == 1  # the ASB incident only
    # the same child, with its own date of birth, is accepted
    child = known_person(officer, "Robin Young", years_ago(15))
    response = app.test_client().post(
        "/api/v1/welfare-checks?submit=true", headers=bearer(secret, **{"Idempotency-Key": key()}),
        json=payload | {"child_name": "Robin Young", "child_id": child.id, "child_born_on": years_ago(15).isoformat()})
    assert response.status_code == 201, response.get_json()


def test_the_phones_forms_api_refuses_an_adult_picked_as_the_child(app):
    officer = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    adult = known_person(officer, "Dana Adult", date(1990, 3, 3))
    secret = token(officer)
    fields = welfare_form(officer, child_name="Dana Adult", child_id=str(adult.id),
                          child_born_on=years_ago(12).isoformat())
    response = app.test_client().post("/api/v1/forms/welfare-checks?submit=true",
                                      json={"fields": [[name, value] for name, value in fields.items()]},
                                      headers=bearer(secret, **{"Idempotency-Key": key()}))
    assert response.status_code == 422
    assert "under 18" in " ".join(problem(response)["errors"]["child_born_on"])
    assert welfare_count() == 0
