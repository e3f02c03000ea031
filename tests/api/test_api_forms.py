"""/api/v1/forms/<kind>: a web form's fields queued on the phone, checked exactly as the page checks them."""
from __future__ import annotations

import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import Entry, EntryStatus, Role
from pcso.timeutil import to_london, utcnow
from tests import factories
from tests.api.helpers import bearer, key, problem, token


def _now() -> str:
    return to_london(utcnow()).strftime("%Y-%m-%dT%H:%M")


def asb_fields(**changes) -> list[list[str]]:
    fields = {"client_key": "ignored-the-key-wins", "occurred_at": _now(), "summary": "Youths on the tram platform",
              "nsir_category": "nuisance", "asb_type": "noise", "description": "Shouting at passengers",
              "postcode": "M15 4AD", "location_source": "none", "marking": "OFFICIAL",
              "people-0-name": "", "people-0-role": "", "csrf_token": "stale"} | changes
    return [[name, value] for name, value in fields.items()]


def officer():
    person = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    db.session.commit()
    return person, token(person)


def test_a_queued_asb_form_logs_once_in_its_beat(app):
    person, secret = officer()
    client, idem = app.test_client(), key()
    headers = bearer(secret, **{"Idempotency-Key": f'"{idem}"'})
    first = client.post("/api/v1/forms/asb-incidents?submit=true", json={"fields": asb_fields()}, headers=headers)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["status"] == "submitted" and body["beat_code"] == factories.OLD_TRAFFORD
    entry = db.session.get(Entry, body["id"])
    assert entry.client_key == idem and entry.author_id == person.id
    again = client.post("/api/v1/forms/asb-incidents?submit=true", json={"fields": asb_fields()}, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(sa.select(sa.func.count(Entry.id))) == 1


def test_the_same_entry_through_the_json_endpoint_is_not_made_twice(app):
    """The outbox may send a form, lose the answer, then the page post it: one client key, one entry."""
    person, secret = officer()
    client, idem = app.test_client(), key()
    first = client.post("/api/v1/forms/asb-incidents", json={"fields": asb_fields()},
                        headers=bearer(secret, **{"Idempotency-Key": idem}))
    assert first.status_code == 201
    other = client.post("/api/v1/forms/asb-incidents", json={"fields": asb_fields(summary="Changed")},
                        headers=bearer(secret, **{"Idempotency-Key": idem}))
    assert other.status_code == 422 and problem(other)["type"].endswith("problem-idempotency-key-reused")
    assert db.session.scalar(sa.select(sa.func.count(Entry.id))) == 1


def test_form_errors_come_back_under_the_page_field_ids(app):
    person, secret = officer()
    response = app.test_client().post(
        "/api/v1/forms/asb-incidents",
        json={"fields": asb_fields(summary="", **{"people-0-name": "Jordan Lee", "people-0-role": "victim"})},
        headers=bearer(secret, **{"Idempotency-Key": key()}))
    errors = problem(response)["errors"]
    assert response.status_code == 422 and "summary" in errors
    assert db.session.scalar(sa.select(sa.func.count(Entry.id))) == 0


def test_a_service_refusal_is_reported_on_its_field(app):
    """The victim risk rule lives in the entry services, not the form: it still comes back on its field."""
    person, secret = officer()
    response = app.test_client().post(
        "/api/v1/forms/asb-incidents",
        json={"fields": asb_fields(**{"people-0-name": "Jordan Lee", "people-0-role": "victim"})},
        headers=bearer(secret, **{"Idempotency-Key": key()}))
    assert response.status_code == 422 and "victim_risk" in problem(response)["errors"]


def test_a_draft_stays_a_draft_and_bad_pairs_are_refused(app):
    person, secret = officer()
    client = app.test_client()
    draft = client.post("/api/v1/forms/asb-incidents", json={"fields": asb_fields()},
                        headers=bearer(secret, **{"Idempotency-Key": key()}))
    assert draft.status_code == 201 and draft.get_json()["status"] == EntryStatus.DRAFT.value
    for bad in ({"fields": [["summary"]]}, {"fields": [["summary", 3]]}, {"fields": "summary"}, {}):
        response = client.post("/api/v1/forms/asb-incidents", json=bad,
                               headers=bearer(secret, **{"Idempotency-Key": key()}))
        assert response.status_code == 422, bad
