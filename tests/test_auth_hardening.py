"""Sign-in hardening (OWASP ASVS 5.0 level 2, issue 10 item 6): shared rate limits, lockout, the second factor,
password change and reset, session lifetimes, the proxy, production's refusals, private files, and timing."""
from __future__ import annotations

import os
import stat
import statistics
import time
import uuid
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from pcso import config as config_module
from pcso.auth import totp
from pcso.config import load_config, private_folder
from pcso.extensions import db, limiter
from pcso.models import AuditAction, AuditEvent, RateLimitCounter, Role, User, UserSession
from pcso.strength import password_problem, secret_key_problem
from pcso.timeutil import utcnow
from tests import factories
from tests.conftest import make_app, migrated_app
from tests.factories import soup

NOT_RECOGNISED = "Collar number or password not recognised."
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def post_login(client, collar: str, password: str, **kwargs):
    return client.post("/login", data={"collar_number": collar, "password": password}, **kwargs)


def error_text(response) -> str:
    summary = soup(response).select_one("[data-testid=error-summary]")
    return summary.get_text(" ", strip=True) if summary else ""


def events(action: AuditAction, **details) -> list[AuditEvent]:
    found = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    return [e for e in found if all(e.details.get(k) == v for k, v in details.items())]


def live_sessions(person: User) -> list[UserSession]:
    db.session.expire_all()
    return db.session.scalars(sa.select(UserSession).where(UserSession.user_id == person.id,
                                                           UserSession.ended_at.is_(None))).all()


# --- rate limits: shared by every worker, per address and per account --------------------------------------------

@pytest.fixture
def limits_on():
    """Apps with rate limits on. The Limiter is one object for the process: put its state back afterwards."""
    saved = limiter.enabled, limiter._storage, limiter._limiter
    made = []

    def make(url: str, **overrides):
        app = make_app(url, RATELIMIT_ENABLED=True, **overrides)
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            limiter.reset()
    limiter.enabled, limiter._storage, limiter._limiter = saved


def two_workers(url: str, make, **overrides):
    """Two app instances on one database: two gunicorn workers (or two servers)."""
    return make(url, **overrides), make(url, **overrides)


def test_the_database_counts_sign_in_attempts_for_every_worker(app, database_url, limits_on):
    # The workers' requests run beside this test's own session: it must hold no transaction (on SQLite, a write
    # lock) while they run, so only plain values are used between them.
    factories.user(Role.PCSO, collar="PC7001")
    db.session.commit()
    one, two = two_workers(database_url, limits_on)
    assert one.config["RATELIMIT_STORAGE_URI"] == "beatbook-db://"
    statuses = [post_login((one if n % 2 else two).test_client(), "PC7001", f"guess-{n}").status_code
                for n in range(10)]
    assert statuses == [400] * 10
    # Ten in a minute between the two workers: the eleventh is refused, on either, even with the right password.
    response = post_login(one.test_client(), "PC7001", factories.PASSWORD)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert post_login(two.test_client(), "PC7001", factories.PASSWORD).status_code == 429
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RateLimitCounter)) >= 2  # address and account
    db.session.rollback()


def test_without_redis_api_reads_write_no_counter_to_the_database_yet_are_limited(app, database_url, limits_on):
    """The API's limit is counted in the worker's memory (pcso/ratelimit.py): no statement on rate_limit_counter
    for an API read, a 429 past API_RATELIMIT all the same; a sign-in attempt still counts in the database."""
    from tests.api.helpers import bearer, token
    person = factories.user(Role.PCSO, collar="PC7003")
    secret = token(person)
    db.session.commit()
    worker = limits_on(database_url, API_RATELIMIT="3 per minute")
    with worker.app_context():
        engine = db.engine
    counted: list[str] = []

    def spy(conn, cursor, statement, *args):
        if "rate_limit_counter" in statement:
            counted.append(statement)

    sa.event.listen(engine, "before_cursor_execute", spy)
    try:
        client = worker.test_client()
        statuses = [client.get("/api/v1/me", headers=bearer(secret)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert counted == []
        assert post_login(client, "PC7003", "a wrong guess").status_code == 400
        assert any(statement.lstrip().upper().startswith("INSERT") for statement in counted)
    finally:
        sa.event.remove(engine, "before_cursor_execute", spy)
    db.session.rollback()


def test_no_typed_name_moves_a_sign_in_count_into_memory():
    from pcso.ratelimit import per_process
    assert per_process("LIMITER/beatbook/token:ab12/api_entries.entry/300/1/minute")
    assert not per_process("LIMITER/beatbook/127.0.0.1/login-address/10/1/minute")
    assert not per_process("LIMITER/beatbook/x/api_core.me/1/1/minute/login-account/10/1/minute")  # a typed collar
    assert not per_process("api_core.me")


def test_redis_counts_sign_in_attempts_for_every_worker(tmp_path, limits_on):
    path = tmp_path / "redis.sqlite"
    migrated_app(path, reference_data=False)
    options = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": f"bb-{uuid.uuid4()}"}}
    one, two = two_workers(f"sqlite:///{path}", limits_on, **options)
    with one.app_context():
        factories.user(Role.PCSO, collar="PC7002")
        db.session.commit()
    statuses = [post_login((one if n % 2 else two).test_client(), "PC7002", f"guess-{n}").status_code
                for n in range(11)]
    assert statuses == [400] * 10 + [429]
    with one.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RateLimitCounter)) == 0  # all in Redis
    assert type(limiter._storage).__name__ == "RedisStorage"


def test_one_account_is_limited_whatever_the_address(app, database_url, limits_on):
    factories.user(Role.PCSO, collar="PC7003")
    db.session.commit()
    worker = limits_on(database_url)
    statuses = [post_login(worker.test_client(), "PC7003", "guess",
                           environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}).status_code for n in range(11)]
    assert statuses == [400] * 10 + [429]
    # Another account from one of those addresses is not held up by it.
    assert post_login(worker.test_client(), "PC7004", "guess",
                      environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 400
    db.session.rollback()


def test_behind_a_proxy_each_officer_has_their_own_address_bucket(app, database_url, limits_on):
    for n in range(12):
        factories.user(Role.PCSO, collar=f"PC71{n:02d}")
    db.session.commit()
    proxied = limits_on(database_url, TRUSTED_PROXIES=1)
    proxy = {"REMOTE_ADDR": "192.0.2.1"}
    # Twelve officers behind one proxy, one attempt each: one attacker's address does not lock out the rest.
    attacker = [post_login(proxied.test_client(), f"PC71{n:02d}", "guess", environ_base=proxy,
                           headers={"X-Forwarded-For": "203.0.113.66"}).status_code for n in range(11)]
    assert attacker == [400] * 10 + [429]
    colleague = post_login(proxied.test_client(), "PC7111", "guess", environ_base=proxy,
                           headers={"X-Forwarded-For": "203.0.113.7"})
    assert colleague.status_code == 400
    db.session.rollback()


def test_without_trusted_proxies_a_forwarded_address_is_not_believed(app, database_url, limits_on):
    worker = limits_on(database_url)  # TRUSTED_PROXIES=0, the default
    statuses = [post_login(worker.test_client(), f"PC72{n:02d}", "guess", environ_base={"REMOTE_ADDR": "192.0.2.9"},
                           headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code for n in range(11)]
    assert statuses == [400] * 10 + [429]  # a spoofed header does not buy an attacker fresh buckets
    db.session.rollback()


# --- lockout --------------------------------------------------------------------------------------------------

def test_ten_failures_lock_the_account_with_no_oracle_and_an_admin_unlocks_it(app, client):
    officer = factories.user(Role.PCSO)
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    for n in range(10):
        assert post_login(client, officer.collar_number, f"wrong-{n}").status_code == 400
    db.session.expire_all()
    assert officer.locked_at is not None and "10 failed sign-ins" in officer.lock_reason
    [locked] = events(AuditAction.UPDATE, change="locked")
    assert locked.object_id == officer.id and locked.details["failures"] == 10

    # The right password now: the same status and words as a wrong one, and no session.
    right = post_login(app.test_client(), officer.collar_number, factories.PASSWORD)
    wrong = post_login(app.test_client(), officer.collar_number, "still-wrong")
    assert right.status_code == wrong.status_code == 400
    assert error_text(right) == error_text(wrong) and error_text(right).endswith(NOT_RECOGNISED)
    assert live_sessions(officer) == []
    assert events(AuditAction.LOGIN_FAILED)[-2].details["reason"] == "locked"

    # The admin sees that it is locked and why, and unlocks it.
    admin_client = factories.signed_in(app, admin)
    page = soup(admin_client.get(f"/admin/users/{officer.id}"))
    state = page.select_one("[data-testid=sign-in-state]").get_text(" ", strip=True)
    assert "Locked" in state and "10 failed sign-ins" in state
    response = admin_client.post(f"/admin/users/{officer.id}/unlock")
    assert response.status_code == 302
    [unlocked] = events(AuditAction.UPDATE, change="unlocked")
    assert unlocked.actor_id == admin.id
    assert factories.login(app.test_client(), officer).location == "/"


def test_failures_outside_the_window_do_not_add_up_and_a_success_clears_them(app, client):
    officer = factories.user(Role.PCSO)
    db.session.commit()
    for _ in range(9):
        post_login(client, officer.collar_number, "wrong")
    officer.failed_login_since = utcnow() - timedelta(minutes=app.config["LOGIN_LOCKOUT_WINDOW_MINUTES"] + 1)
    db.session.commit()
    post_login(client, officer.collar_number, "wrong")  # a new window: 1, not 10
    db.session.expire_all()
    assert (officer.failed_logins, officer.locked_at) == (1, None)
    assert factories.login(app.test_client(), officer).location == "/"
    db.session.expire_all()
    assert officer.failed_logins == 0


def test_a_lock_runs_out_after_the_lockout_minutes(app, client):
    officer = factories.user(Role.PCSO)
    officer.locked_at = utcnow() - timedelta(minutes=app.config["LOGIN_LOCKOUT_MINUTES"] + 1)
    officer.lock_reason = "10 failed sign-ins in 3 min"
    db.session.commit()
    assert factories.login(client, officer).location == "/"
    db.session.expire_all()
    assert officer.locked_at is None


# --- timing: an unknown collar number costs what a real one does ---------------------------------------------------

def test_unknown_and_real_collar_numbers_take_the_same_time(app):
    officer = factories.user(Role.PCSO)
    disabled = factories.user(Role.PCSO)
    disabled.is_enabled = False
    db.session.commit()
    browser = app.test_client()

    def seconds(collar: str) -> float:
        start = time.perf_counter()
        assert post_login(browser, collar, "not-the-password").status_code == 400
        return time.perf_counter() - start

    post_login(browser, "ZZ0000", "warm-up")  # the first makes the dummy hash
    times = {"real": [], "unknown": [], "disabled": []}
    for n in range(5):  # interleaved, so a busy moment of the machine falls on all three alike
        times["real"].append(seconds(officer.collar_number))
        times["unknown"].append(seconds(f"ZZ{n:04d}"))
        times["disabled"].append(seconds(disabled.collar_number))
    real, unknown, off = (statistics.median(times[name]) for name in ("real", "unknown", "disabled"))
    assert real > 0.02, "the real path hashes (scrypt): this test measures nothing otherwise"
    assert 0.5 < unknown / real < 2, (real, unknown)
    assert 0.5 < off / real < 2, (real, off)


# --- the second factor ------------------------------------------------------------------------------------------

def test_a_role_that_needs_a_second_factor_enrols_at_first_sign_in(app, client):
    supervisor = factories.user(Role.SUPERVISOR, two_step=False)
    db.session.commit()
    response = post_login(client, supervisor.collar_number, factories.PASSWORD)
    assert response.location == "/login/set-up-code"
    assert client.get("/entries").status_code == 302  # not signed in yet
    page = client.get("/login/set-up-code")
    html = soup(page)
    assert html.select_one("[data-testid=totp-qr] svg path")  # inline SVG, nothing fetched
    key = html.select_one("[data-testid=totp-key]").get_text(strip=True).replace(" ", "")
    assert len(key) == 32 and page.headers["Cache-Control"] == "no-store"
    db.session.expire_all()
    assert key not in (supervisor.totp_secret or "") and totp.secret_of(supervisor) == key  # stored encrypted
    assert soup(client.get("/login/set-up-code")).select_one("[data-testid=totp-key]").get_text(
        strip=True).replace(" ", "") == key  # a reload shows the same key

    assert client.post("/login/set-up-code", data={"code": "000000"}).status_code == 400
    response = client.post("/login/set-up-code", data={"code": pyotp.TOTP(key).now()})
    assert response.location == "/"
    assert client.get("/review").status_code == 200
    [enrolled] = events(AuditAction.UPDATE, change="enrolled")
    assert enrolled.object_id == supervisor.id and key not in str(enrolled.details)

    # Later sign-ins ask for the code after the password.
    later = app.test_client()
    assert post_login(later, supervisor.collar_number, factories.PASSWORD).location == "/login/code"
    assert later.get("/review").status_code == 302
    next_step = pyotp.TOTP(key).at(time.time() + 30)  # the step enrolment used is spent; the next one is not
    response = later.post("/login/code", data={"code": next_step})
    assert response.location == "/" and later.get("/review").status_code == 200


def test_a_used_code_is_refused_within_its_window(app):
    analyst = factories.user(Role.ANALYST)
    db.session.commit()
    code = factories.fresh_code(analyst.id)
    first = app.test_client()
    post_login(first, analyst.collar_number, factories.PASSWORD)
    assert first.post("/login/code", data={"code": code}).location == "/"

    second = app.test_client()  # someone who saw the code over the shoulder, in the same 30 seconds
    assert post_login(second, analyst.collar_number, factories.PASSWORD).location == "/login/code"
    response = second.post("/login/code", data={"code": code})
    assert response.status_code == 400 and "has been used" in error_text(response)
    assert second.get("/lists/entries").status_code == 302
    assert events(AuditAction.LOGIN_FAILED)[-1].details["reason"] == "code"


def test_wrong_codes_count_towards_the_lockout(app):
    auditor = factories.user(Role.AUDITOR)
    db.session.commit()
    browser = app.test_client()
    post_login(browser, auditor.collar_number, factories.PASSWORD)
    for _ in range(9):
        assert browser.post("/login/code", data={"code": "123456"}).status_code == 400
    response = browser.post("/login/code", data={"code": "123456"})
    assert response.location == "/login"  # locked: back to the start
    db.session.expire_all()
    assert auditor.locked_at is not None and "wrong code" in auditor.lock_reason
    assert browser.post("/login/code", data={"code": factories.fresh_code(auditor.id)}).location == "/login"


def test_the_code_step_needs_the_password_first(app, client):
    supervisor = factories.user(Role.SUPERVISOR)
    db.session.commit()
    assert client.post("/login/code", data={"code": factories.fresh_code(supervisor.id)}).location == "/login"
    post_login(client, supervisor.collar_number, factories.PASSWORD)
    with client.session_transaction() as cookie:
        cookie["pending_login"] = cookie["pending_login"] | {"at": cookie["pending_login"]["at"] - 301}  # 5 min on
    assert client.post("/login/code", data={"code": factories.fresh_code(supervisor.id)}).location == "/login"


def test_pcsos_may_choose_a_second_factor(app, client):
    pcso = factories.user(Role.PCSO)
    db.session.commit()
    assert factories.login(client, pcso).location == "/"  # none asked for
    assert "Off" in soup(client.get("/account/security")).select_one("[data-testid=two-step-state]").get_text()
    key = soup(client.get("/account/two-step")).select_one("[data-testid=totp-key]").get_text(strip=True)
    response = client.post("/account/two-step", data={"code": pyotp.TOTP(key.replace(" ", "")).now()})
    assert response.location == "/account/security"
    assert post_login(app.test_client(), pcso.collar_number, factories.PASSWORD).location == "/login/code"


def test_the_roles_needing_a_second_factor_are_configurable(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "TOTP_REQUIRED_ROLES", ())
    supervisor = factories.user(Role.SUPERVISOR)  # made without one now
    db.session.commit()
    assert supervisor.totp_secret is None
    assert post_login(client, supervisor.collar_number, factories.PASSWORD).location == "/"
    assert config_module._names("TOTP_REQUIRED_ROLES", config_module.TOTP_DEFAULT_ROLES) == (
        "supervisor", "analyst", "safeguarding", "auditor", "admin")
    monkeypatch.setenv("TOTP_REQUIRED_ROLES", "admin, pcso")
    assert config_module._names("TOTP_REQUIRED_ROLES", "x") == ("admin", "pcso")


def test_an_admin_resets_a_lost_second_factor(app):
    supervisor = factories.user(Role.SUPERVISOR)
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    phone = factories.signed_in(app, supervisor)
    admin_client = factories.signed_in(app, admin)
    assert admin_client.post(f"/admin/users/{supervisor.id}/reset-two-step").status_code == 302
    [reset] = events(AuditAction.UPDATE, change="reset")
    assert reset.actor_id == admin.id
    assert phone.get("/review").status_code == 302  # that session ended
    assert post_login(app.test_client(), supervisor.collar_number, factories.PASSWORD).location == "/login/set-up-code"


def test_the_demo_command_prints_a_code_but_not_in_production(app, runner):
    supervisor = factories.user(Role.SUPERVISOR, collar="SG9999")
    db.session.commit()
    result = runner.invoke(args=["users", "totp-code", "sg9999"])
    assert result.exit_code == 0 and result.output.strip() == pyotp.TOTP(factories.TOTP_SECRET).now()
    app.config["BEATBOOK_ENV"] = "production"
    try:
        result = runner.invoke(args=["users", "totp-code", "SG9999"])
    finally:
        app.config["BEATBOOK_ENV"] = "development"
    assert result.exit_code != 0 and "refused" in result.output
    assert supervisor.id


# --- passwords -------------------------------------------------------------------------------------------------

def test_an_officer_changes_their_password_and_their_other_sessions_end(app):
    officer = factories.user(Role.PCSO, collar="PC8001", name="Sam Jones")
    db.session.commit()
    here, elsewhere = factories.signed_in(app, officer), factories.signed_in(app, officer)
    new = "violet tractor harbour sandwich"

    def change(**fields):
        data = {"current": factories.PASSWORD, "new": new, "confirm": new} | fields
        return here.post("/account/password", data=data)

    for fields, message in [({"current": "wrong"}, "not your current password"),
                            ({"new": "short", "confirm": "short"}, "at least 12"),
                            ({"new": "pc8001-is-me-ok", "confirm": "pc8001-is-me-ok"}, "collar number"),
                            ({"new": "password1234", "confirm": "password1234"}, "less guessable"),
                            ({"new": "Sam Jones 2026!", "confirm": "Sam Jones 2026!"}, "your name"),
                            ({"confirm": "something else"}, "differ")]:
        response = change(**fields)
        assert response.status_code == 400 and message in error_text(response), (fields, error_text(response))
    assert len(live_sessions(officer)) == 2

    response = change()
    assert response.location == "/account/security"
    assert here.get("/entries").status_code == 200  # this device carries on
    assert elsewhere.get("/entries").status_code == 302  # the other one is signed out
    assert len(live_sessions(officer)) == 1
    [changed] = events(AuditAction.UPDATE, change="changed_by_user")
    assert changed.actor_id == officer.id and new not in str(changed.details)
    assert factories.login(app.test_client(), officer, password=new).location == "/"


def test_an_admin_reset_sets_a_one_time_password_the_officer_must_change(app):
    officer = factories.user(Role.PCSO)
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    phone = factories.signed_in(app, officer)
    admin_client = factories.signed_in(app, admin)
    page = admin_client.post(f"/admin/users/{officer.id}/reset-password")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    one_time = soup(page).select_one("[data-testid=one-time-password-value]").get_text(strip=True)
    assert len(one_time) >= 16
    assert phone.get("/entries").status_code == 302  # signed out everywhere
    [reset] = events(AuditAction.UPDATE, change="reset_by_admin")
    assert reset.actor_id == admin.id and one_time not in str(reset.details)

    browser = app.test_client()
    assert factories.login(browser, officer, password=one_time).location == "/account/password"
    for url in ("/", "/entries", "/lists/entries"):
        assert browser.get(url).location == "/account/password", url  # nothing else until it is changed
    assert "reset by an administrator" in soup(browser.get("/account/password")).get_text()
    new = "marble kettle orchard lantern"
    response = browser.post("/account/password", data={"current": one_time, "new": new, "confirm": new})
    assert response.location == "/account/security"
    assert browser.get("/entries").status_code == 200


def test_password_strength_rules():
    assert password_problem("violet tractor harbour sandwich") is None
    assert "12" in password_problem("Tr0ub4dor&3")
    assert password_problem("PC1234-Lighthouse-Walk", collar_number="PC1234")
    assert password_problem("qwertyuiop123")
    assert password_problem("aaaaaaaaaaaaaaaa")
    assert password_problem("x" * 201)


# --- sessions, headers ------------------------------------------------------------------------------------------

def test_a_session_ends_after_its_absolute_lifetime_however_busy(app, client):
    officer = factories.user(Role.PCSO)
    db.session.commit()
    factories.login(client, officer)
    [record] = live_sessions(officer)
    record.created_at = utcnow() - timedelta(hours=app.config["SESSION_MAX_HOURS"], minutes=-1)
    officer.password_changed_at = utcnow() - timedelta(days=1)  # else the session reads as older than it
    db.session.commit()
    assert client.get("/entries").status_code == 200  # 11 h 59 min: still on
    [record] = live_sessions(officer)
    record.created_at = utcnow() - timedelta(hours=app.config["SESSION_MAX_HOURS"], minutes=1)
    record.last_seen_at = utcnow()  # busy a minute ago
    db.session.commit()
    assert client.get("/entries").status_code == 302
    db.session.expire_all()
    assert db.session.get(UserSession, record.id).end_reason == "max_lifetime"
    assert app.config["SESSION_MAX_HOURS"] == 12


def test_pages_with_personal_data_are_not_stored(app):
    officer = factories.user(Role.SUPERVISOR, beats=[factories.OLD_TRAFFORD])
    entry = factories.asb(officer)
    db.session.commit()
    browser = factories.signed_in(app, officer)
    for url in ("/", f"/entries/{entry.id}", "/lists/entries", "/review", "/account/security", "/account/password"):
        response = browser.get(url)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store", url


# --- production refuses what would weaken it ----------------------------------------------------------------------

STRONG_KEY = "Xk3PGhUVFb15eAtY7vIdGFDrjqwQl-F9Euy2sUkNW44XzKrjWxQmB2xN0vLc9PqT"


@pytest.mark.parametrize("key", ["a" * 64, "change-me-" * 4, "password" * 5, "0123456789abcdefghijklmnopqrstuvwxyz",
                                 "this-is-my-very-secret-flask-key-for-production", "short-but-random-Xk3PG"])
def test_production_refuses_a_weak_secret_key(tmp_path, monkeypatch, key):
    assert secret_key_problem(key)
    monkeypatch.setenv("BEATBOOK_ENV", "production")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_config(tmp_path)


def test_production_refuses_per_process_limit_counters_and_accepts_a_sound_setup(tmp_path, monkeypatch):
    monkeypatch.setenv("BEATBOOK_ENV", "production")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    assert load_config(tmp_path)["RATELIMIT_STORAGE_URI"] == "beatbook-db://"
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert load_config(tmp_path)["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    with pytest.raises(RuntimeError, match="memory://"):
        load_config(tmp_path)


def test_sqlite_files_are_private_and_so_is_the_instance_folder(tmp_path):
    folder = tmp_path / "instance"
    folder.mkdir(mode=0o755)
    private_folder(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    app = migrated_app(tmp_path / "new" / "private.sqlite", reference_data=False)
    with app.app_context():
        db.engine.dispose()
    for path in (tmp_path / "new" / "private.sqlite", tmp_path / "new" / "private.sqlite-wal"):
        if path.exists() or path.name.endswith(".sqlite"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700


def test_a_password_reset_between_the_two_steps_means_starting_again(app, client):
    supervisor = factories.user(Role.SUPERVISOR)
    db.session.commit()
    assert post_login(client, supervisor.collar_number, factories.PASSWORD).location == "/login/code"
    supervisor.set_password("an admin's one-time password")
    db.session.commit()
    assert client.post("/login/code", data={"code": factories.fresh_code(supervisor.id)}).location == "/login"
