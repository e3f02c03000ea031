"""Entries through the API: every kind logs with a token, a replay makes no duplicate, drafts change with If-Match."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, Entry, EntryKind, EntryStatus, Role
from pcso.timeutil import utcnow
from tests import factories
from tests.api.helpers import bearer, key, problem, token
from tests.test_entry_json import body as json_body

OLD_TRAFFORD = factories.OLD_TRAFFORD
ASB = {"occurred_at": utcnow().replace(microsecond=0).isoformat(), "summary": "Youths on the tram platform",
       "lat": 53.464903, "lon": -2.260757, "location_source": "gps", "nsir_category": "nuisance",
       "asb_type": "noise", "description": "Shouting"}


@pytest.fixture
def officer(app):
    person = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    return person, token(person)


def entries() -> int:
    return db.session.scalar(sa.select(sa.func.count(Entry.id)))


def test_pcso_logs_an_asb_incident_and_a_replay_makes_no_duplicate(app, officer):
    person, secret = officer
    client, idem = app.test_client(), key()
    first = client.post("/api/v1/asb-incidents?submit=true", json=ASB, headers=bearer(secret, **{"Idempotency-Key": idem}))
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["kind"] == "asb_incident" and body["status"] == "submitted" and body["beat_code"] == OLD_TRAFFORD
    assert db.session.get(Entry, body["id"]).client_key == idem  # the key is the entry's client key
    again = client.post("/api/v1/asb-incidents?submit=true", json=ASB, headers=bearer(secret, **{"Idempotency-Key": idem}))
    assert again.status_code == 201 and again.get_json() == body and again.headers["Idempotent-Replayed"] == "true"
    assert entries() == 1
    assert db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.CREATE,
                                                          AuditEvent.object_type == "entry")).one()


def test_field_errors_from_the_service_are_422_problems(app, officer):
    person, secret = officer
    response = app.test_client().post("/api/v1/asb-incidents", json={**ASB, "nsir_category": "bogus"},
                                      headers=bearer(secret, **{"Idempotency-Key": key()}))
    assert response.status_code == 422 and "nsir_category" in problem(response)["errors"]
    assert entries() == 0


def test_analyst_may_not_log(app):
    analyst = factories.user(Role.ANALYST)
    db.session.commit()
    response = app.test_client().post("/api/v1/asb-incidents", json=ASB,
                                      headers=bearer(token(analyst), **{"Idempotency-Key": key()}))
    assert response.status_code == 403 and entries() == 0


def test_a_draft_changes_with_if_match_and_is_submitted(app, officer):
    person, secret = officer
    client = app.test_client()
    made = client.post("/api/v1/asb-incidents", json=ASB, headers=bearer(secret, **{"Idempotency-Key": key()}))
    entry_id = made.get_json()["id"]
    read = client.get(f"/api/v1/entries/{entry_id}", headers=bearer(secret))
    etag = read.headers["ETag"]
    assert client.get(f"/api/v1/entries/{entry_id}", headers=bearer(secret, **{"If-None-Match": etag})).status_code == 304
    changed = {**ASB, "description": "Shouting and swearing"}
    missing = client.put(f"/api/v1/entries/{entry_id}", json=changed, headers=bearer(secret))
    assert missing.status_code == 428 and problem(missing)
    stale = client.put(f"/api/v1/entries/{entry_id}", json=changed, headers=bearer(secret, **{"If-Match": '"old"'}))
    assert stale.status_code == 412 and problem(stale)
    done = client.put(f"/api/v1/entries/{entry_id}", json=changed, headers=bearer(secret, **{"If-Match": etag}))
    assert done.status_code == 200 and done.get_json()["description"] == "Shouting and swearing"
    assert done.headers["ETag"] != etag
    again = client.put(f"/api/v1/entries/{entry_id}", json=changed, headers=bearer(secret, **{"If-Match": etag}))
    assert again.status_code == 412  # the old tag is stale now
    submitted = client.post(f"/api/v1/entries/{entry_id}/submit", headers=bearer(secret))
    assert submitted.status_code == 200 and submitted.get_json()["status"] == EntryStatus.SUBMITTED.value
    assert client.post(f"/api/v1/entries/{entry_id}/submit", headers=bearer(secret)).status_code == 403


def test_another_pcso_cannot_see_or_change_a_draft(app, officer):
    person, secret = officer
    colleague = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    draft = factories.asb(person, OLD_TRAFFORD, status=EntryStatus.DRAFT)
    db.session.commit()
    other = token(colleague)
    client = app.test_client()
    assert client.get(f"/api/v1/entries/{draft.id}", headers=bearer(other)).status_code == 404
    assert client.put(f"/api/v1/entries/{draft.id}", json=ASB, headers=bearer(other, **{"If-Match": "x"})).status_code == 404
    assert client.post(f"/api/v1/entries/{draft.id}/submit", headers=bearer(other)).status_code == 404


@pytest.mark.parametrize("kind", list(EntryKind), ids=str)
def test_every_kind_logs_through_the_api_with_a_token(app, officer, kind):
    person, secret = officer
    payload = json_body(kind)
    db.session.commit()  # the body's SPOC is a new user
    response = app.test_client().post(f"/api/v1/{kind.slug}?submit=true", json=payload,
                                      headers=bearer(secret, **{"Idempotency-Key": key()}))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["kind"] == kind.value and response.headers["Location"].startswith("/api/v1/entries/")
    if kind == EntryKind.INTELLIGENCE_REPORT:  # the author's own submitted report: no longer a draft
        assert "source_details" not in response.get_json()


def test_a_patrol_is_started_and_ended_through_the_api(app, officer):
    person, secret = officer
    client = app.test_client()
    payload = json_body(EntryKind.PATROL)
    db.session.commit()
    started = client.post("/api/v1/patrols", json=payload,
                          headers=bearer(secret, **{"Idempotency-Key": key()}))
    patrol_id = started.get_json()["id"]
    early = client.post(f"/api/v1/patrols/{patrol_id}/end", json={"ended_at": "2000-01-01T00:00:00Z"},
                        headers=bearer(secret))
    assert early.status_code == 422 and "ended_at" in problem(early)["errors"]
    ended = client.post(f"/api/v1/patrols/{patrol_id}/end", headers=bearer(secret),
                        json={"ended_at": utcnow().isoformat(), "notes": "Quiet", "submit": True})
    assert ended.status_code == 200, ended.get_json()
    assert ended.get_json()["ended_at"] and ended.get_json()["status"] == "submitted"


def test_the_forms_client_key_and_the_api_key_dedupe_the_same_entry(app, officer):
    person, secret = officer
    browser = factories.signed_in(app, person)
    form = factories.asb_form()
    assert browser.post("/asb-incidents/new", data=form).status_code == 302
    assert entries() == 1
    # a sync client retrying the same entry with the form's key as its Idempotency-Key makes no second one
    response = app.test_client().post("/api/v1/asb-incidents", json=ASB,
                                      headers=bearer(secret, **{"Idempotency-Key": form["client_key"]}))
    assert response.status_code == 200 and entries() == 1
    assert response.get_json()["id"] == db.session.scalar(sa.select(Entry.id))
