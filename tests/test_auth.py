"""Signing in and out: server-side sessions that logout, idle time and a password change end."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa

from pcso.extensions import db, limiter
from pcso.models import AuditAction, AuditEvent, Role, User, UserSession
from pcso.timeutil import utcnow
from tests import factories
from tests.factories import soup
from tests.conftest import migrated_app

COOKIE = "beatbook_session"
NOT_RECOGNISED = "Collar number or password not recognised."


def sent_to_login(response) -> bool:
    return response.status_code == 302 and urlsplit(response.location).path == "/login"


def cookie_session(browser) -> dict:
    """What the signed session cookie holds (empty when there is none)."""
    cookie = browser.get_cookie(COOKIE)
    app = browser.application
    return {} if cookie is None else app.session_interface.get_signing_serializer(app).loads(cookie.value)


def events(action: AuditAction) -> list[AuditEvent]:
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def sessions_of(person: User) -> list[UserSession]:
    db.session.expire_all()
    return db.session.scalars(sa.select(UserSession).where(UserSession.user_id == person.id)).all()


# --- signing in -----------------------------------------------------------------------------------------------

def test_officer_can_sign_in(client):
    officer = factories.user(Role.PCSO, name="Sam Signin")
    db.session.commit()
    response = factories.login(client, officer)
    assert response.location == "/"
    assert [e.actor_id for e in events(AuditAction.LOGIN)] == [officer.id]
    [record] = sessions_of(officer)
    assert record.ended_at is None
    assert cookie_session(client)["_user_id"]  # a random token, only its hash is stored
    assert cookie_session(client)["_user_id"] != record.token_hash
    home = soup(client.get("/"))
    assert officer.collar_number in home.select_one("[data-testid=whoami]").get_text()
    assert client.get("/entries").status_code == 200


def test_officer_cannot_sign_in_with_a_wrong_password(client):
    officer = factories.user(Role.PCSO)
    db.session.commit()
    response = factories.login(client, officer, password="not-the-password")
    assert response.status_code == 400
    assert soup(response).select_one("[data-testid=error-summary]").get_text(" ", strip=True).endswith(
        NOT_RECOGNISED)
    [failed] = events(AuditAction.LOGIN_FAILED)
    assert (failed.object_type, failed.object_id) == ("user", officer.id)
    assert events(AuditAction.LOGIN) == []
    assert sessions_of(officer) == []
    assert "_user_id" not in cookie_session(client)
    assert sent_to_login(client.get("/entries"))


def test_unknown_collar_number_is_refused_and_recorded(client):
    response = client.post("/login", data={"collar_number": "ZZ9999", "password": factories.PASSWORD})
    assert response.status_code == 400
    assert NOT_RECOGNISED in soup(response).select_one("[data-testid=error-summary]").get_text()
    [failed] = events(AuditAction.LOGIN_FAILED)
    assert (failed.actor_id, failed.object_id) == (None, None)


def test_collar_number_is_case_insensitive(client, runner):
    result = runner.invoke(args=["users", "create", "--collar", "pc4321", "--name", "Pat Lowercase",
                                 "--role", "pcso", "--password", factories.PASSWORD])
    assert result.exit_code == 0, result.output
    officer = db.session.scalar(sa.select(User).where(User.display_name == "Pat Lowercase"))
    assert officer.collar_number == "PC4321"
    for typed in (" pc4321 ", "Pc4321"):
        browser = client.application.test_client()
        response = browser.post("/login", data={"collar_number": typed, "password": factories.PASSWORD})
        assert response.location == "/", typed


def test_disabled_officer_cannot_sign_in(client):
    officer = factories.user(Role.PCSO)
    officer.is_enabled = False
    db.session.commit()
    response = factories.login(client, officer)
    assert response.status_code == 400
    assert NOT_RECOGNISED in soup(response).select_one("[data-testid=error-summary]").get_text()
    assert [e.object_id for e in events(AuditAction.LOGIN_FAILED)] == [officer.id]
    assert sessions_of(officer) == []


def test_disabling_an_account_ends_its_sessions(client):
    officer = factories.user(Role.PCSO)
    db.session.commit()
    factories.login(client, officer)
    officer.is_enabled = False
    db.session.commit()
    assert sent_to_login(client.get("/entries"))
    assert [s.end_reason for s in sessions_of(officer)] == ["disabled"]


def test_passwords_are_stored_as_scrypt_hashes(client, runner):
    runner.invoke(args=["users", "create", "--collar", "PC5150", "--name", "Hash Check", "--role", "pcso",
                        "--password", factories.PASSWORD])
    officer = db.session.scalar(sa.select(User).where(User.collar_number == "PC5150"))
    assert officer.password_hash.startswith("scrypt:")
    assert factories.PASSWORD not in officer.password_hash
    assert officer.check_password(factories.PASSWORD) and not officer.check_password("wrong")
    other = factories.user(Role.ANALYST)
    assert other.password_hash.startswith("scrypt:") and other.password_hash != officer.password_hash  # salted


# --- sessions end -----------------------------------------------------------------------------------------------

def test_officer_can_sign_out_and_a_copied_cookie_no_longer_works(client):
    officer = factories.user(Role.PCSO)
    db.session.commit()
    factories.login(client, officer)
    assert client.get("/entries").status_code == 200
    copied = client.get_cookie(COOKIE).value

    response = client.post("/logout")
    assert response.location == "/login"
    [record] = sessions_of(officer)
    assert record.ended_at is not None and record.end_reason == "logout"
    assert [e.actor_id for e in events(AuditAction.LOGOUT)] == [officer.id]

    client.set_cookie(COOKIE, copied)
    assert sent_to_login(client.get("/entries"))


def test_idle_session_times_out(app, client):
    officer = factories.user(Role.PCSO)
    db.session.commit()
    factories.login(client, officer)
    idle = app.config["SESSION_IDLE_MINUTES"]
    [record] = sessions_of(officer)

    record.last_seen_at = utcnow() - timedelta(minutes=idle - 1)  # not yet
    db.session.commit()
    assert client.get("/entries").status_code == 200
    [record] = sessions_of(officer)
    assert record.ended_at is None and utcnow() - record.last_seen_at < timedelta(minutes=1)  # touched

    record.last_seen_at = utcnow() - timedelta(minutes=idle + 1)
    db.session.commit()
    assert sent_to_login(client.get("/entries"))
    [record] = sessions_of(officer)
    assert record.ended_at is not None and record.end_reason == "idle_timeout"
    assert sent_to_login(client.get("/entries"))  # and it stays ended


def test_password_change_ends_existing_sessions(client):
    officer = factories.user(Role.PCSO)
    db.session.commit()
    factories.login(client, officer)
    assert client.get("/entries").status_code == 200

    officer.set_password("a-brand-new-password")
    db.session.commit()
    assert sent_to_login(client.get("/entries"))
    [record] = sessions_of(officer)
    assert record.end_reason == "password_changed"

    response = client.post("/login", data={"collar_number": officer.collar_number,
                                           "password": "a-brand-new-password"})
    assert response.location == "/"
    assert client.get("/entries").status_code == 200


# --- where sign-in leads ----------------------------------------------------------------------------------------

def browser_host(location: str) -> str:
    """The host a browser would go to for this Location, applying the WHATWG parser's forgiveness:
    leading spaces and controls stripped, tabs and newlines removed, backslashes read as slashes."""
    cleaned = location.strip(" \x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15"
                             "\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f")
    cleaned = cleaned.replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/")
    return urlsplit(urljoin("http://localhost/login", cleaned)).netloc


@pytest.mark.parametrize("target, lands_on", [
    ("https://evil.example", "/"),
    ("//evil", "/"),
    ("/entries", "/entries"),
    ("/entries?kind=patrols", "/entries?kind=patrols"),
    ("///evil.example", "/"),
    ("http:/evil.example", "/"),
    (" //evil.example", "/"),
    ("/\t/evil.example", "/"),
    ("/\\evil.example", None),  # Werkzeug sends /%5Cevil.example: a path on this site
    ("/\r\nX-Injected: 1", "/"),  # once a 500: the redirect raised on the newline
])
def test_sign_in_only_redirects_within_the_site(client, target, lands_on):
    officer = factories.user(Role.PCSO)
    db.session.commit()
    response = client.post("/login", query_string={"next": target},
                           data={"collar_number": officer.collar_number, "password": factories.PASSWORD})
    assert response.status_code == 302
    assert browser_host(response.location) == "localhost"
    if lands_on is not None:
        assert response.location == lands_on


# --- rate limit ---------------------------------------------------------------------------------------------------

@pytest.fixture
def limited_app(tmp_path):
    """An app of its own with rate limits on. Flask-Limiter keeps `enabled` on the one shared Limiter,
    and a decorated view checks it in any app: put it back afterwards, or the session app's logins
    would start being limited too."""
    was_enabled = limiter.enabled
    app = migrated_app(tmp_path / "limited.sqlite", reference_data=False, RATELIMIT_ENABLED=True)
    with app.app_context():
        officer = factories.user(Role.PCSO, collar="PC7777")
        db.session.commit()
        assert officer.id
    try:
        yield app
    finally:
        with app.app_context():
            limiter.reset()  # the counters live in this app's database (pcso/ratelimit.py)
            db.engine.dispose()
        limiter.enabled = was_enabled


def test_eleventh_sign_in_attempt_in_a_minute_is_refused(limited_app):
    browser = limited_app.test_client()
    attempts = [browser.post("/login", data={"collar_number": "PC7777", "password": f"guess-{n}"})
                for n in range(10)]
    assert [r.status_code for r in attempts] == [400] * 10
    response = browser.post("/login", data={"collar_number": "PC7777", "password": factories.PASSWORD})
    assert response.status_code == 429
    page = soup(response)
    assert page.select_one("h1").get_text(strip=True) == "Too many attempts"
    assert page.select_one("main p").get_text(strip=True)  # says what the limit is
    assert int(response.headers["Retry-After"]) > 0
    with limited_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(UserSession.id))) == 0  # the right password did nothing
        assert len(events(AuditAction.LOGIN_FAILED)) == 10
    assert browser.get("/login").status_code == 200  # only POSTs are limited
