"""Faults under load, the fast versions of bench/faults.py: gunicorn (2 workers) on a SQLite file of its own, with a
redis-server of its own (bench/fault_servers.py), so both can be killed. The shared servers are never touched.

- Redis killed while entries are being logged: entries are still accepted (no 500), the login limits still count
  (in each worker's memory), a job asked for meanwhile waits and runs once Redis is back, and the limits go back
  to Redis.
- gunicorn workers killed with SIGKILL while clients log entries (retrying with the same Idempotency-Key until
  acknowledged, like the phone's outbox): every acknowledged entry is stored once, the database passes its
  integrity check.

Needs the redis-server binary (on this machine and CI). Bounded: every wait has a deadline; ~50 s in all.
"""
from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import bs4
import pytest
import requests
import sqlalchemy as sa

from bench.fault_servers import ROOT, VENV_BIN, Gunicorn, private_redis
from tests.conftest import WARDS, seal_key_dir

PASSWORD = "correct horse battery staple"
OLD_TRAFFORD = "E05015253"
TIMEOUT = 15
ASB = {"summary": "Youths on the tram platform", "lat": 53.464903, "lon": -2.260757, "location_source": "gps",
       "nsir_category": "nuisance", "asb_type": "noise", "description": "Shouting"}


def _flask(cli, *args: str) -> str:
    done = cli.invoke(args=list(args))
    assert done.exit_code == 0, f"flask {' '.join(args)}: {done.output}\n{done.exception!r}"
    return done.output


@pytest.fixture(scope="module")
def world():
    """A migrated SQLite file with a PCSO (and a write token) and a sergeant; a private Redis; the env to serve."""
    from pcso import create_app
    from pcso.api.tokens import create_token
    from pcso.extensions import db
    from pcso.models import TokenScope, User

    tmp = Path(tempfile.mkdtemp(prefix="beatbook-faults-"))
    url = f"sqlite:///{tmp / 'faults.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SEAL_KEY_DIR": seal_key_dir(),
                      "TOTP_REQUIRED_ROLES": ()})
    cli = app.test_cli_runner()
    with app.app_context():
        _flask(cli, "db", "upgrade")
        _flask(cli, "beats", "import", str(WARDS), "--code-property", "area_code", "--name-property", "area_name",
               "--district", "Trafford")
        for collar, role in (("PC100", "pcso"), ("SG200", "supervisor"), ("SG201", "supervisor")):
            _flask(cli, "users", "create", "--collar", collar, "--name", f"{role.title()} {collar}", "--role", role,
                   "--beat", OLD_TRAFFORD, "--password", PASSWORD)
        officer = db.session.scalar(sa.select(User).where(User.collar_number == "PC100"))
        _, secret = create_token(officer, name="Faults", scope=TokenScope.WRITE, days=7, actor=officer)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    with private_redis() as redis_server:
        env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": url, "REDIS_URL": redis_server.url,
               "BEATBOOK_ENV": "development", "SECRET_KEY": "faults-test-" + uuid.uuid4().hex,
               "SESSION_COOKIE_SECURE": "0", "TOTP_REQUIRED_ROLES": "", "RATELIMIT_LOGIN": "100 per minute",
               "RATELIMIT_LOGIN_ACCOUNT": "3 per minute", "LOGIN_LOCKOUT_FAILURES": "100",
               "API_RATELIMIT": "100000 per minute", "EXPORT_JOB_ROWS": "0", "IDEMPOTENCY_IN_FLIGHT_SECONDS": "2",
               "SEAL_KEY_DIR": seal_key_dir(), "PHOTO_DIR": str(tmp / "photos"), "JOBS_DIR": str(tmp / "jobs"),
               "REQUEST_LOG": "0", "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            yield {"env": env, "token": secret, "redis": redis_server, "url": url, "tmp": tmp}
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def server(world):
    server = Gunicorn(world["env"], workers=2, log=world["tmp"] / "gunicorn.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _entry() -> str:
    return json.dumps({"occurred_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()), **ASB})


def _post_entry(port: int, token: str, key: str, body: str | None = None) -> int | str:
    """POST an entry; a retry sends the same key with the same body (another body with the key is a 422)."""
    body = body or _entry()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request("POST", "/api/v1/asb-incidents?submit=true", body=body, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": key})
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return "conn"
    finally:
        connection.close()


def _stored(url: str) -> Counter:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        keys = Counter(conn.execute(sa.text("SELECT client_key FROM entry")).scalars())
        assert conn.execute(sa.text("PRAGMA integrity_check")).scalar() == "ok"
        assert conn.execute(sa.text("PRAGMA foreign_key_check")).all() == []
    engine.dispose()
    return keys


def _sign_in(base: str, collar: str, password: str, browser=None):
    browser = browser or requests.Session()
    page = browser.get(base + "/login", timeout=TIMEOUT)
    token = bs4.BeautifulSoup(page.text, "html.parser").select_one("input[name=csrf_token]")["value"]
    answer = browser.post(base + "/login", data={"collar_number": collar, "password": password, "csrf_token": token},
                          allow_redirects=False, timeout=TIMEOUT)
    return browser, answer


def _ask_for_export(base: str) -> tuple[int, str, requests.Session]:
    browser, signed = _sign_in(base, "SG200", PASSWORD)
    assert signed.status_code == 302, signed.text[:300]
    form = browser.get(base + "/lists/entries/export", timeout=TIMEOUT)
    token = bs4.BeautifulSoup(form.text, "html.parser").select_one("input[name=csrf_token]")["value"]
    asked = browser.post(base + "/lists/entries/export", allow_redirects=False, timeout=TIMEOUT, data={
        "csrf_token": token, "format": "csv", "purpose": "Asked for while Redis is down", "recipient": "Test, Trafford"})
    return asked.status_code, asked.headers.get("Location", ""), browser


def test_redis_killed_mid_load_entries_are_accepted_limits_fall_back_and_jobs_wait(world, server):
    token, redis_server = world["token"], world["redis"]
    assert [_post_entry(server.port, token, str(uuid.uuid4())) for _ in range(4)] == [201] * 4
    assert redis_server.keys() > 0  # the API's limit counts in Redis
    redis_server.kill()
    during = [_post_entry(server.port, token, str(uuid.uuid4())) for _ in range(12)]
    assert during == [201] * 12, during
    ready = requests.get(server.base + "/readyz", timeout=TIMEOUT)  # the balancer keeps sending entries here
    assert ready.status_code == 200 and ready.json()["status"] == "degraded", ready.text
    guesses = Counter()
    browser = requests.Session()
    for _ in range(10):  # 3 a minute for the account, counted by each of the 2 workers in its memory
        guesses[_sign_in(server.base, "SG201", "not the password at all", browser)[1].status_code] += 1
    assert set(guesses) <= {400, 429} and guesses[429] >= 4, guesses
    status, job_page, sergeant = _ask_for_export(server.base)
    assert status == 303 and job_page.startswith("/jobs/"), status  # the job is on record, waiting
    assert sergeant.get(server.base + job_page + "/status", timeout=TIMEOUT).json()["state"] == "queued"

    redis_server.start()  # empty, as after a crash
    deadline = time.monotonic() + 45  # each worker looks again after 1, 2, 4 ... s
    while redis_server.keys() == 0:
        assert _post_entry(server.port, token, str(uuid.uuid4())) == 201
        assert time.monotonic() < deadline, "the limits did not go back to Redis"
        time.sleep(0.3)
    log = open(world["tmp"] / "worker.log", "ab")  # noqa: SIM115
    worker = subprocess.Popen([str(VENV_BIN / "flask"), "--app", "app", "jobs", "worker"], cwd=ROOT, env=world["env"],
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline, state = time.monotonic() + 45, None
        while state not in ("done", "failed") and time.monotonic() < deadline:
            state = sergeant.get(server.base + job_page + "/status", timeout=TIMEOUT).json()["state"]
            time.sleep(0.5)
        assert state == "done", (state, (world["tmp"] / "worker.log").read_text(errors="replace")[-2000:])
    finally:
        worker.terminate()
        worker.wait(timeout=15)
        log.close()


def test_workers_killed_mid_load_lose_no_acknowledged_entry(world, server):
    token, acked, statuses, lock = world["token"], [], Counter(), threading.Lock()
    submissions, deadline = iter(range(90)), time.monotonic() + 60

    def outbox():
        for _ in submissions:
            key, body = str(uuid.uuid4()), _entry()
            while time.monotonic() < deadline:  # the same key and body until acknowledged, as the phone's outbox
                status = _post_entry(server.port, token, key, body)
                with lock:
                    statuses[status] += 1
                if status in (200, 201):
                    with lock:
                        acked.append(key)
                    break
                time.sleep(0.2)

    clients = [threading.Thread(target=outbox) for _ in range(4)]
    for thread in clients:
        thread.start()
    for at in (12, 27, 42, 57, 72):
        while len(acked) < at and time.monotonic() < deadline:
            time.sleep(0.02)
        server.kill_worker()
    for thread in clients:
        thread.join(timeout=90)
    assert len(acked) == 90, statuses
    assert set(statuses) <= {200, 201, 409, "conn"}, statuses  # no 500, and no retry refused
    stored = _stored(world["url"])
    assert all(stored[key] == 1 for key in acked)
    assert max(stored.values()) == 1
