"""Personal access tokens: made on the page and shown once, stored hashed, scoped, expiring, revocable, audited;
never accepted by the HTML pages. And the browser session with X-CSRFToken."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import ApiToken, AuditAction, AuditEvent, Role, TokenScope
from pcso.timeutil import utcnow
from tests import factories
from tests.api.helpers import bearer, problem, token
from tests.factories import signed_in, soup

pytestmark = pytest.mark.usefixtures("memoised_hashing")


def events(action, object_type="api_token"):
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action,
                                                          AuditEvent.object_type == object_type)).all()


def test_pcso_can_make_a_token_on_the_page_and_see_it_once(app):
    officer = factories.user(Role.PCSO)
    db.session.commit()
    browser = signed_in(app, officer)
    response = browser.post("/account/tokens", data={"name": "Laptop sync", "scope": "write", "days": "90"})
    assert response.status_code == 201
    secret = soup(response).select_one("[data-testid=token-secret]").get_text(strip=True)
    assert secret.startswith("bb_") and len(secret) > 40
    stored = db.session.scalars(sa.select(ApiToken)).one()
    assert stored.secret_hash != secret and secret not in (stored.prefix, stored.secret_hash)
    assert secret.startswith(stored.prefix) and stored.scope == TokenScope.WRITE
    assert timedelta(days=89) < stored.expires_at - utcnow() <= timedelta(days=90)
    page = browser.get("/account/tokens")
    assert secret not in page.get_data(as_text=True)  # shown once
    assert soup(page).select_one(f"[data-token-id='{stored.id}']") is not None
    [event] = events(AuditAction.CREATE)
    assert event.actor_id == officer.id and event.object_id == stored.id and secret not in str(event.details)
    me = app.test_client().get("/api/v1/me", headers=bearer(secret))
    assert me.status_code == 200 and me.get_json()["collar_number"] == officer.collar_number
    assert me.get_json()["authenticated_by"] == "token"


def test_token_page_refuses_a_token_without_a_name(app):
    officer = factories.user(Role.PCSO)
    db.session.commit()
    response = signed_in(app, officer).post("/account/tokens", data={"name": "", "scope": "read", "days": "30"})
    assert response.status_code == 400
    assert soup(response).select_one("[data-testid=error-summary]") is not None
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_a_use_updates_last_used_at_at_most_once_a_minute(app):
    officer = factories.user(Role.PCSO)
    secret = token(officer)
    assert db.session.scalars(sa.select(ApiToken)).one().last_used_at is None
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 200
    db.session.expire_all()
    first = db.session.scalars(sa.select(ApiToken)).one().last_used_at
    assert first is not None and utcnow() - first < timedelta(seconds=5)
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 200
    db.session.expire_all()
    assert db.session.scalars(sa.select(ApiToken)).one().last_used_at == first  # within the minute: no write
    db.session.execute(sa.update(ApiToken).values(last_used_at=first - timedelta(minutes=2)))
    db.session.commit()
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 200
    db.session.expire_all()
    assert db.session.scalars(sa.select(ApiToken)).one().last_used_at > first


def test_read_token_may_get_but_not_write(app):
    supervisor = factories.user(Role.SUPERVISOR)
    secret = token(supervisor, TokenScope.READ)
    client = app.test_client()
    assert client.get("/api/v1/review-queue", headers=bearer(secret)).status_code == 200
    response = client.post("/api/v1/entries/1/reviews", json={"decision": "approve"},
                           headers=bearer(secret, **{"Idempotency-Key": "abcdefgh-1"}))
    assert response.status_code == 403 and problem(response)["type"].endswith("problem-scope")
    [event] = events(AuditAction.LOGIN_FAILED)
    assert event.details["reason"] == "scope"
    # a search reads, though it posts: a read token may send it
    assert client.post("/api/v1/search", json={"q": "corsa"}, headers=bearer(secret)).status_code == 200


@pytest.mark.parametrize("header", ["Bearer bb_not-a-token", "Bearer ", "Basic dXNlcjpwYXNz", "bb_raw"])
def test_no_or_bad_credentials_are_401_with_a_challenge(app, header):
    response = app.test_client().get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401 and "Bearer" in response.headers["WWW-Authenticate"]
    assert problem(response)["type"].endswith("problem-unauthenticated")
    assert app.test_client().get("/api/v1/me").status_code == 401


def test_expired_token_is_refused_and_audited(app):
    officer = factories.user(Role.PCSO)
    secret = token(officer)
    stored = db.session.scalars(sa.select(ApiToken)).one()
    stored.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = app.test_client().get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 401 and "expired" in problem(response)["detail"]
    [event] = events(AuditAction.LOGIN_FAILED)
    assert event.details["reason"] == "expired" and event.object_id == stored.id and event.actor_id == officer.id


def test_officer_revokes_their_token_on_the_page(app):
    officer = factories.user(Role.PCSO)
    secret = token(officer)
    stored = db.session.scalars(sa.select(ApiToken)).one()
    browser = signed_in(app, officer)
    response = browser.post(f"/account/tokens/{stored.id}/revoke")
    assert response.location == "/account/tokens"
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 401
    [revoked] = events(AuditAction.UPDATE)
    assert revoked.details["fields"] == ["revoked_at"] and revoked.details["by_admin"] is False
    state = soup(browser.get("/account/tokens")).select_one("[data-testid=token-state]").get_text(strip=True)
    assert state.startswith("Revoked")


def test_officer_cannot_revoke_someone_elses_token(app):
    owner, other = factories.user(Role.PCSO), factories.user(Role.PCSO)
    secret = token(owner)
    stored = db.session.scalars(sa.select(ApiToken)).one()
    assert signed_in(app, other).post(f"/account/tokens/{stored.id}/revoke").status_code == 404
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 200


def test_admin_revokes_an_officers_token(app):
    admin, officer = factories.user(Role.ADMIN), factories.user(Role.PCSO)
    secret = token(officer, name="Stolen phone")
    stored = db.session.scalars(sa.select(ApiToken)).one()
    browser = signed_in(app, admin)
    assert soup(browser.get(f"/admin/users/{officer.id}")).select_one("[data-testid=user-tokens-link]")
    listed = soup(browser.get(f"/admin/users/{officer.id}/tokens"))
    assert listed.select_one(f"[data-token-id='{stored.id}']") is not None
    response = browser.post(f"/admin/users/{officer.id}/tokens/{stored.id}/revoke")
    assert response.location == f"/admin/users/{officer.id}/tokens"
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 401
    [revoked] = events(AuditAction.UPDATE)
    assert revoked.actor_id == admin.id and revoked.details["by_admin"] is True
    # the token's owner id must match the URL's user
    other = factories.user(Role.PCSO)
    db.session.commit()
    assert browser.post(f"/admin/users/{other.id}/tokens/{stored.id}/revoke").status_code == 404


def test_disabled_account_token_stops_working(app):
    officer = factories.user(Role.PCSO)
    secret = token(officer)
    officer.is_enabled = False
    db.session.commit()
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 401


@pytest.mark.parametrize("page", ["/", "/entries", "/account/tokens", "/search", "/lists/entries"])
def test_tokens_never_open_the_html_pages(app, page):
    officer = factories.user(Role.PCSO)
    secret = token(officer)
    response = app.test_client().get(page, headers=bearer(secret))
    assert response.status_code == 302 and response.location.startswith("/login")


def test_token_cannot_make_tokens_on_the_page(app):
    officer = factories.user(Role.PCSO)
    secret = token(officer)
    response = app.test_client().post("/account/tokens", data={"name": "x", "scope": "write", "days": "90"},
                                      headers=bearer(secret))
    assert response.status_code == 302 and db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 1


def test_session_works_and_unsafe_methods_need_the_csrf_header(app):
    supervisor = factories.user(Role.SUPERVISOR)
    db.session.commit()
    browser = signed_in(app, supervisor)
    me = browser.get("/api/v1/me")
    assert me.status_code == 200 and me.get_json()["authenticated_by"] == "session"
    response = browser.post("/api/v1/search", json={"q": "corsa"})
    assert response.status_code == 403 and problem(response)["type"].endswith("problem-csrf")
    csrf = soup(browser.get("/account/tokens")).select_one("meta[name=csrf-token]")["content"]
    assert browser.post("/api/v1/search", json={"q": "corsa"}, headers={"X-CSRFToken": csrf}).status_code == 200
    assert browser.post("/api/v1/search", json={"q": "corsa"},
                        headers={"X-CSRFToken": "forged"}).status_code == 403


def test_role_that_may_not_is_403(app):
    analyst = factories.user(Role.ANALYST)
    response = app.test_client().get("/api/v1/review-queue", headers=bearer(token(analyst)))
    assert response.status_code == 403 and problem(response)["type"].endswith("problem-forbidden")


@pytest.mark.parametrize("scope, method, allowed", [
    (TokenScope.READ, "GET", True), (TokenScope.READ, "POST", False), (TokenScope.READ, "PUT", False),
    (TokenScope.WRITE, "GET", True), (TokenScope.WRITE, "POST", True), (TokenScope.WRITE, "PATCH", True),
    (TokenScope.WRITE, "PUT", True), (TokenScope.WRITE, "DELETE", False),
])
def test_token_scopes_allow_these_methods(scope, method, allowed):
    assert ApiToken(scope=scope).allows(method) is allowed
