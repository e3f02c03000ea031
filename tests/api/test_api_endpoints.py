"""What the read endpoints answer, and what they record: beats with ETag, the entry list's cursor, search,
profiles, the briefing and exports (a disclosure), each audited as the pages are; and rate limits."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from pcso.extensions import db, limiter
from pcso.search.index import index_entry
from pcso.models import AuditAction, AuditEvent, LinkRole, Role, SecurityMarking
from pcso.timeutil import utcnow
from tests import factories
from tests.api.helpers import bearer, problem, token
from tests.conftest import make_app

OLD_TRAFFORD = factories.OLD_TRAFFORD


@pytest.fixture
def officer(app):
    person = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    return person, token(person)


def audit_events(action, **where):
    rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()
    return [row for row in rows if all(row.details.get(k) == v for k, v in where.items())]


def test_beats_are_geojson_with_an_etag_and_304(app, officer):
    _, secret = officer
    client = app.test_client()
    response = client.get("/api/v1/beats", headers=bearer(secret))
    assert response.status_code == 200 and response.get_json()["type"] == "FeatureCollection"
    codes = {f["properties"]["code"] for f in response.get_json()["features"]}
    assert OLD_TRAFFORD in codes and len(codes) > 10
    etag = response.headers["ETag"]
    again = client.get("/api/v1/beats", headers=bearer(secret, **{"If-None-Match": etag}))
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    assert client.get("/api/v1/beats", headers=bearer(secret, **{"If-None-Match": '"other"'})).status_code == 200


def test_entry_list_pages_by_cursor_and_records_a_filtered_list(app, officer):
    person, secret = officer
    now = utcnow()
    made = [factories.asb(person, OLD_TRAFFORD, occurred_at=now - timedelta(minutes=i)).id for i in range(5)]
    same_time = factories.asb(person, OLD_TRAFFORD, occurred_at=now - timedelta(minutes=2)).id  # a tie on time
    factories.patrol(person, OLD_TRAFFORD)
    db.session.commit()
    client, seen, cursor = app.test_client(), [], None
    while True:
        url = "/api/v1/entries?kind=asb-incidents&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=bearer(secret)).get_json()
        seen += [entry["id"] for entry in page["entries"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made + [same_time]) and len(seen) == len(set(seen))  # each once, none lost
    assert all(e["kind"] == "asb_incident" for e in page["entries"])
    assert len(audit_events(AuditAction.SEARCH, scope="list", via="api")) == 3  # three pages
    client.get("/api/v1/entries", headers=bearer(secret))
    assert len(audit_events(AuditAction.SEARCH, scope="list")) == 3  # an unfiltered list is not a search


def test_search_is_audited_with_its_terms(app, officer):
    person, secret = officer
    incident = factories.asb(person, OLD_TRAFFORD, summary="Red Corsa doing doughnuts")
    index_entry(incident)
    db.session.commit()
    response = app.test_client().post("/api/v1/search", json={"q": "corsa"}, headers=bearer(secret))
    assert response.status_code == 200 and [r["id"] for r in response.get_json()["results"]] == [incident.id]
    [event] = audit_events(AuditAction.SEARCH, scope="search")
    assert event.details["terms"] == {"text": "corsa"} and event.actor_id == person.id
    nothing = app.test_client().post("/api/v1/search", json={}, headers=bearer(secret))
    assert nothing.status_code == 422 and problem(nothing)["errors"]


def test_a_profile_shows_only_visible_entries_and_is_audited(app, officer):
    person, secret = officer
    incident = factories.asb(person, OLD_TRAFFORD)
    witness = factories.person("Profile Witness")
    factories.link(incident, witness, LinkRole.WITNESS)
    hidden = factories.asb(factories.user(Role.PCSO), "E05015239", marking=SecurityMarking.OFFICIAL_SENSITIVE)
    factories.link(hidden, witness, LinkRole.SUSPECT)
    db.session.commit()
    body = app.test_client().get(f"/api/v1/people/{witness.id}", headers=bearer(secret)).get_json()
    assert body["record"]["full_name"] == "Profile Witness" and [e["id"] for e in body["entries"]] == [incident.id]
    assert body["entries"][0]["roles"] == ["witness"] and body["entries_total"] == 1
    [event] = audit_events(AuditAction.VIEW, via="api")
    assert event.object_type == "person" and event.object_id == witness.id


def test_briefing_is_audited(app, officer):
    _, secret = officer
    response = app.test_client().get("/api/v1/briefing", headers=bearer(secret))
    assert response.status_code == 200 and "counts" in response.get_json()
    assert audit_events(AuditAction.VIEW, format="api")


def test_export_needs_purpose_and_recipient_and_is_a_disclosure(app, officer):
    person, _ = officer
    factories.asb(person, OLD_TRAFFORD)
    sergeant = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD])  # bulk exports: supervisors and analysts
    db.session.commit()
    secret = token(sergeant)
    client = app.test_client()
    refused = client.post("/api/v1/exports", json={"format": "csv", "purpose": "   short  "}, headers=bearer(secret))
    assert refused.status_code == 422 and {"recipient"} <= set(problem(refused)["errors"])
    assert not audit_events(AuditAction.DISCLOSE)
    response = client.post("/api/v1/exports", headers=bearer(secret), json={
        "format": "csv", "purpose": "Ward  panel on\nASB", "recipient": "Trafford Council",
        "filters": {"kind": ["asb-incidents"]}})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = [row for row in csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))
            if row and not row[0].startswith("#")]
    assert len(rows) == 2  # the header and the one incident
    [event] = audit_events(AuditAction.DISCLOSE, via="api")
    assert event.details["purpose"] == "Ward panel on ASB" and event.details["recipient"] == "Trafford Council"
    assert event.details["count"] == 1 and event.details["filters"] == {"kind": ["asb-incidents"]}


def test_rate_limit_per_token_answers_429(app, database_url):
    """An app of its own with limits on; the limiter is one object for every app, so it is switched back after."""
    first, second = factories.user(Role.PCSO), factories.user(Role.PCSO)
    db.session.commit()
    one, two = token(first), token(second)
    was_enabled = limiter.enabled
    try:
        client = make_app(database_url, RATELIMIT_ENABLED=True, API_RATELIMIT="3 per minute").test_client()
        answers = [client.get("/api/v1/me", headers=bearer(one)).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        response = client.get("/api/v1/me", headers=bearer(one))
        assert problem(response)["type"].endswith("problem-rate-limited") and response.headers.get("Retry-After")
        assert client.get("/api/v1/me", headers=bearer(two)).status_code == 200  # another token: its own limit
    finally:
        limiter.reset()
        limiter.enabled = was_enabled
