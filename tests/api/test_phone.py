"""What the phone needs besides sealed entries: the seal-key commands, a fresh CSRF token, the session's end,
discarding unsent entries on the record (counts only), and logout wiping the device."""
from __future__ import annotations

import hashlib
import stat
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization

from pcso import seal as sealing
from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, Role
from pcso.timeutil import utcnow
from tests import factories
from tests.api.helpers import bearer, problem, token


@pytest.fixture
def officer(app):
    person = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    db.session.commit()
    return person


def test_seal_key_init_makes_one_key_once_and_rotate_adds_a_current_one(app, runner, tmp_path):
    folder = tmp_path / "keys"
    saved, app.config["SEAL_KEY_DIR"] = app.config["SEAL_KEY_DIR"], str(folder)
    try:
        made = runner.invoke(args=["seal-key", "init"])
        first = sealing.current_key()
        assert made.exit_code == 0 and f"Sealing key {first.kid} made" in made.output
        again = runner.invoke(args=["seal-key", "init"])
        assert again.exit_code == 0 and f"{first.kid} already set up" in again.output
        assert len(sealing.keys()) == 1
        assert stat.S_IMODE(first.path.stat().st_mode) == 0o600
        rotated = runner.invoke(args=["seal-key", "rotate"])
        assert rotated.exit_code == 0
        newest, older = sealing.keys()
        assert newest.kid != first.kid and older.kid == first.kid and sealing.current_key().kid == newest.kid
        assert newest.kid in rotated.output
    finally:
        app.config["SEAL_KEY_DIR"] = saved


def test_the_kid_is_the_first_16_hex_of_the_sha256_of_the_public_der(app):
    key = sealing.current_key()
    der = key.public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert key.kid == hashlib.sha256(der).hexdigest()[:16]


def test_signed_in_pcso_gets_a_fresh_csrf_token_that_unsafe_calls_accept(app, officer):
    browser = factories.signed_in(app, officer)
    response = browser.get("/api/v1/csrf-token")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    csrf = response.get_json()["token"]
    body = {"count": 1, "kinds": {"asb-incidents": 1}}
    assert browser.post("/api/v1/outbox/discarded", json=body).status_code == 403  # no token: refused
    assert browser.post("/api/v1/outbox/discarded", json=body, headers={"X-CSRFToken": csrf}).status_code == 204


def test_csrf_token_is_for_the_session_not_for_tokens_or_strangers(app, officer):
    client = app.test_client()
    assert problem(client.get("/api/v1/csrf-token"))["status"] == 401
    assert problem(client.get("/api/v1/csrf-token", headers=bearer(token(officer))))["status"] == 403


def test_me_says_when_the_session_ends_and_401_once_it_has(app, officer):
    browser = factories.signed_in(app, officer)
    me = browser.get("/api/v1/me").get_json()
    ends = datetime.fromisoformat(me["session_expires_at"])
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    assert me["id"] == officer.id and utcnow() + idle - timedelta(minutes=2) < ends <= utcnow() + idle
    assert app.test_client().get("/api/v1/me", headers=bearer(token(officer))).get_json()["session_expires_at"] is None
    browser.post("/logout")
    assert problem(browser.get("/api/v1/me"))["status"] == 401


def test_discarding_unsent_entries_records_the_count_and_kinds_only(app, officer):
    response = app.test_client().post("/api/v1/outbox/discarded", headers=bearer(token(officer)),
                                      json={"count": 3, "kinds": {"welfare-checks": 1, "asb-incidents": 2}})
    assert response.status_code == 204 and response.get_data() == b""
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.ERASE)).one()
    assert (event.actor_id, event.object_type, event.object_id) == (officer.id, "outbox", None)
    assert event.details == {"count": 3, "kinds": {"asb-incidents": 2, "welfare-checks": 1}}


@pytest.mark.parametrize("body", [
    {"count": 1, "kinds": {"burglaries": 1}},  # not a kind
    {"count": 0, "kinds": {"asb-incidents": 1}},
    {"count": 501, "kinds": {"asb-incidents": 501}},
    {"count": 2, "kinds": {"asb-incidents": 1}},  # does not add up
    {"count": 1, "kinds": {}},
    {"count": "1", "kinds": {"asb-incidents": 1}},
    {"count": 1, "kinds": {"asb-incidents": 1}, "keys": ["a"]},  # nothing else
    {"count": 1},
])
def test_a_bad_discard_report_is_422_and_records_nothing(app, officer, body):
    response = app.test_client().post("/api/v1/outbox/discarded", headers=bearer(token(officer)), json=body)
    assert problem(response)["status"] == 422
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.object_type == "outbox")) == 0


def test_analyst_may_not_report_discards(app):
    analyst = factories.user(Role.ANALYST)
    db.session.commit()
    response = app.test_client().post("/api/v1/outbox/discarded", headers=bearer(token(analyst)),
                                      json={"count": 1, "kinds": {"asb-incidents": 1}})
    assert response.status_code == 403


def test_logout_tells_the_browser_to_clear_the_sites_cache_and_storage(app, officer):
    browser = factories.signed_in(app, officer)
    response = browser.post("/logout")
    assert response.location == "/login"
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert "Clear-Site-Data" not in browser.get("/login").headers


def test_pages_carry_the_outbox_warning_hours(app, officer):
    page = factories.soup(factories.signed_in(app, officer).get("/"))
    assert page.select_one("body")["data-outbox-warn-hours"] == "72"
