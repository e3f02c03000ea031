"""Two app servers (gunicorn, two loopback ports) on one PostgreSQL database and one Redis share what they must.

Each server keeps nothing of its own that matters: sessions are rows (UserSession), the login limits count in
Redis, idempotency keys are rows, the beat index follows the database's version number, review decisions lock the
entry's row. A client that talks to both (as a load balancer would send it) sees one system.

Needs TEST_DATABASE_URL and TEST_REDIS_URL (.ci/run sets both). It makes a database of its own beside the test
one (``<name>_two_servers``, dropped afterwards), migrates it and seeds it with the flask CLI, and always stops
both servers. Bounded: every request has a timeout, the whole module takes ~30 s.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import bs4
import pytest
import requests
import sqlalchemy as sa

from tests.conftest import WARDS, seal_key_dir


DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(
    not (DATABASE_URL and REDIS_URL),
    reason="two servers need a shared PostgreSQL and Redis: set TEST_DATABASE_URL and TEST_REDIS_URL (.ci/run does)",
)

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PASSWORD = "correct horse battery staple"
OLD_TRAFFORD = "E05015253"
TIMEOUT = 15  # seconds, for any one request
NEW_BEAT_POINT = (53.5000, -2.5000)  # west of Trafford: in no beat until the test imports one around it
ASB = {"summary": "Youths on the tram platform", "lat": 53.464903, "lon": -2.260757, "location_source": "gps",
       "nsir_category": "nuisance", "asb_type": "noise", "description": "Shouting"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _own_database(url: str) -> str:
    """A database beside the test one, made empty, as a URL (psycopg 3)."""
    parts = urlsplit(url.replace("postgres://", "postgresql://", 1).replace("postgresql://", "postgresql+psycopg://", 1)
                     if "+psycopg" not in url else url)
    name = (parts.path.lstrip("/") or "beatbook") + "_two_servers"
    admin = sa.create_engine(urlunsplit(parts._replace(path="/postgres")), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return urlunsplit(parts._replace(path=f"/{name}"))


def _drop(url: str) -> None:
    parts = urlsplit(url)
    admin = sa.create_engine(urlunsplit(parts._replace(path="/postgres")), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)'))
    admin.dispose()


def _flask(cli, *args: str) -> str:
    done = cli.invoke(args=list(args))
    assert done.exit_code == 0, f"flask {' '.join(args)}: {done.output}\n{done.exception!r}"
    return done.output


class Servers:
    def __init__(self, env: dict, tmp: Path):
        self.env, self.tmp = env, tmp
        self.urls: list[str] = []
        self.processes: list[subprocess.Popen] = []

    def start(self, count: int = 2) -> None:
        for i in range(count):
            port = _free_port()
            log = open(self.tmp / f"server-{i}.log", "wb")  # noqa: SIM115 (closed with the process)
            self.processes.append(subprocess.Popen(
                [str(BIN / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}", "--timeout", "30", "app:app"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
            self.urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 40
        for url, process in zip(self.urls, self.processes):
            while True:
                assert process.poll() is None, f"{url} exited: {self.log()}"
                try:
                    if requests.get(url + "/readyz", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                assert time.monotonic() < deadline, f"{url} was not ready in time: {self.log()}"
                time.sleep(0.2)

    def log(self, tail: int = 3000) -> str:
        return "\n".join(path.read_text(errors="replace")[-tail:] for path in sorted(self.tmp.glob("server-*.log")))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


@pytest.fixture(scope="module")
def cluster():
    """Two servers on one fresh, migrated, seeded PostgreSQL database and one Redis; yields what the tests need."""
    from pcso import create_app
    from pcso.api.tokens import create_token
    from pcso.extensions import db
    from pcso.models import TokenScope, User

    url = _own_database(DATABASE_URL)
    tmp = Path(tempfile.mkdtemp(prefix="beatbook-two-servers-"))
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": REDIS_URL, "BEATBOOK_ENV": "development",
           "SECRET_KEY": "two-servers-share-this-secret-" + uuid.uuid4().hex, "SESSION_COOKIE_SECURE": "0",
           "TOTP_REQUIRED_ROLES": "", "RATELIMIT_KEY_PREFIX": "beatbook-two-servers-" + uuid.uuid4().hex,
           "RATELIMIT_LOGIN": "100 per minute", "RATELIMIT_LOGIN_ACCOUNT": "4 per minute",
           "SEAL_KEY_DIR": seal_key_dir(), "PHOTO_DIR": str(tmp / "photos"), "AUDIT_SIGNING_KEY_DIR": str(tmp / "k"),
           "LOG_FORMAT": "json", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("RATELIMIT_STORAGE_URI", None)
    servers = Servers(env, tmp)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SEAL_KEY_DIR": seal_key_dir(),
                      "TOTP_REQUIRED_ROLES": ()})
    cli = app.test_cli_runner()  # the flask CLI's own commands, run here: no third interpreter to start
    try:
        with app.app_context():
            _flask(cli, "db", "upgrade")
            _flask(cli, "beats", "import", str(WARDS), "--code-property", "area_code", "--name-property", "area_name",
                   "--district", "Trafford")
            for collar, role in (("PC100", "pcso"), ("PC101", "pcso"), ("SG200", "supervisor"),
                                 ("SG201", "supervisor"), ("SG202", "supervisor")):
                _flask(cli, "users", "create", "--collar", collar, "--name", f"{role.title()} {collar}", "--role",
                       role, "--beat", OLD_TRAFFORD, "--password", PASSWORD)
            officer = db.session.scalar(sa.select(User).where(User.collar_number == "PC100"))
            _, secret = create_token(officer, name="Two servers", scope=TokenScope.WRITE, days=7, actor=officer)
            db.session.commit()
            db.session.remove()
        servers.start(2)
        with app.app_context():
            yield {"a": servers.urls[0], "b": servers.urls[1], "token": secret, "cli": cli, "servers": servers,
                   "tmp": tmp}
            db.session.remove()
            db.engine.dispose()
    finally:
        servers.stop()
        _drop(url)
        shutil.rmtree(tmp, ignore_errors=True)


def _csrf(browser, url: str) -> str:
    page = browser.get(url, timeout=TIMEOUT)
    field = bs4.BeautifulSoup(page.text, "html.parser").select_one("input[name=csrf_token]")
    assert field is not None, (url, page.status_code, page.text[:300])
    return field["value"]


def _sign_in(base: str, collar: str, password: str = PASSWORD, browser=None):
    browser = browser or requests.Session()
    token = _csrf(browser, base + "/login")
    response = browser.post(base + "/login", data={"collar_number": collar, "password": password, "csrf_token": token},
                            allow_redirects=False, timeout=TIMEOUT)
    return browser, response


def _api(cluster, base: str, path: str, body: dict, key: str | None = None):
    headers = {"Authorization": f"Bearer {cluster['token']}", "Idempotency-Key": key or str(uuid.uuid4())}
    return requests.post(base + path, json=body, headers=headers, timeout=TIMEOUT)


def _asb(**extra) -> dict:
    return {"occurred_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()), **ASB, **extra}


def test_a_session_made_on_one_works_on_the_other_and_logout_on_one_ends_it_on_both(cluster):
    a, b = cluster["a"], cluster["b"]
    browser, signed = _sign_in(a, "PC101")
    assert signed.status_code == 302 and signed.headers["Location"] == "/", signed.text[:300]
    home_on_b = browser.get(b + "/", allow_redirects=False, timeout=TIMEOUT)
    assert home_on_b.status_code == 200 and "PC101" in home_on_b.text
    token = _csrf(browser, b + "/")
    kept = requests.Session()  # a copy of the cookie as it was before sign-out
    kept.cookies.update(browser.cookies)
    assert kept.get(a + "/", allow_redirects=False, timeout=TIMEOUT).status_code == 200
    out = browser.post(b + "/logout", data={"csrf_token": token}, allow_redirects=False, timeout=TIMEOUT)
    assert out.status_code == 302 and out.headers["Location"].startswith("/login")
    for client in (browser, kept):  # the kept copy too: the session's row is gone, whichever server is asked
        for base in (a, b):
            again = client.get(base + "/", allow_redirects=False, timeout=TIMEOUT)
            assert again.status_code == 302 and again.headers["Location"].startswith("/login"), base


def test_the_login_limit_counts_across_both_servers(cluster):
    a, b = cluster["a"], cluster["b"]
    answers = []
    browser = requests.Session()
    for base in (a, b, a, b, a, b):  # the account's limit is 4 a minute, counted in Redis by both
        _, response = _sign_in(base, "SG201", password="not the password at all", browser=browser)
        answers.append(response.status_code)
    assert answers == [400, 400, 400, 400, 429, 429], answers


def test_the_same_idempotency_key_sent_to_both_at_once_makes_one_entry(cluster):
    from pcso.extensions import db
    from pcso.models import Entry

    a, b, key, body = cluster["a"], cluster["b"], str(uuid.uuid4()), _asb()
    start, answers = threading.Barrier(2), {}

    def send(base):
        start.wait(timeout=TIMEOUT)
        answers[base] = _api(cluster, base, "/api/v1/asb-incidents?submit=true", body, key)

    threads = [threading.Thread(target=send, args=(base,)) for base in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * TIMEOUT)
    statuses = sorted(response.status_code for response in answers.values())
    assert statuses in ([201, 201], [201, 409]), [(r.status_code, r.text[:200]) for r in answers.values()]
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count(Entry.id)).where(Entry.client_key == key)) == 1
    replay = _api(cluster, b, "/api/v1/asb-incidents?submit=true", body, key)
    first = next(r for r in answers.values() if r.status_code == 201).json()
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json()["id"] == first["id"]


def test_a_beat_imported_elsewhere_is_used_by_a_running_server_for_the_next_entry(cluster):
    a, b, tmp = cluster["a"], cluster["b"], cluster["tmp"]
    for base in (a, b):  # both servers have built their index (one worker each), without the new beat
        placed = _api(cluster, base, "/api/v1/asb-incidents", _asb())
        assert placed.status_code == 201 and placed.json()["beat_code"] == OLD_TRAFFORD, placed.text[:300]
    lat, lon = NEW_BEAT_POINT
    outside = _api(cluster, b, "/api/v1/asb-incidents", _asb(lat=lat, lon=lon))
    assert outside.status_code == 422 or outside.json().get("beat_code") != "X-NEW", outside.text[:300]
    square = [[lon - 0.01, lat - 0.01], [lon + 0.01, lat - 0.01], [lon + 0.01, lat + 0.01], [lon - 0.01, lat + 0.01],
              [lon - 0.01, lat - 0.01]]
    geojson = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "X-NEW",
               "name": "New beat"}, "geometry": {"type": "Polygon", "coordinates": [square]}}]}
    (tmp / "new-beat.geojson").write_text(json.dumps(geojson))
    assert "1 created" in _flask(cluster["cli"], "beats", "import", str(tmp / "new-beat.geojson"))
    for base in (b, a):
        inside = _api(cluster, base, "/api/v1/asb-incidents", _asb(lat=lat, lon=lon))
        assert inside.status_code == 201 and inside.json()["beat_code"] == "X-NEW", (base, inside.text[:300])


def test_two_supervisors_deciding_through_different_servers_get_one_decision_and_one_409(cluster):
    from pcso.extensions import db
    from pcso.models import EntryReview

    a, b = cluster["a"], cluster["b"]
    made = _api(cluster, a, "/api/v1/asb-incidents?submit=true", _asb())
    assert made.status_code == 201 and made.json()["status"] == "submitted", made.text[:300]
    entry_id = made.json()["id"]
    first, signed = _sign_in(a, "SG200")
    assert signed.status_code == 302, signed.text[:300]
    second, signed = _sign_in(b, "SG202")  # not SG201: the login-limit test has used its account's minute up
    assert signed.status_code == 302, signed.text[:300]
    tokens = {a: _csrf(first, f"{a}/entries/{entry_id}"), b: _csrf(second, f"{b}/entries/{entry_id}")}
    start, answers = threading.Barrier(2), {}

    def decide(base, browser):
        start.wait(timeout=TIMEOUT)
        answers[base] = browser.post(f"{base}/entries/{entry_id}/review", timeout=TIMEOUT, allow_redirects=False,
                                     data={"decision": "approve", "comment": "", "csrf_token": tokens[base]})

    threads = [threading.Thread(target=decide, args=pair) for pair in ((a, first), (b, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * TIMEOUT)
    statuses = sorted(response.status_code for response in answers.values())
    assert statuses == [302, 409], [(r.status_code, r.text[:300]) for r in answers.values()]
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count(EntryReview.id)).where(EntryReview.entry_id == entry_id)) == 1


def test_both_servers_logged_one_json_line_per_request_with_no_names(cluster):
    log = cluster["servers"].log(tail=10_000_000)
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{") and '"request"' in line]
    assert lines and all({"request_id", "method", "endpoint", "status", "duration_ms"} <= set(line) for line in lines)
    assert "Supervisor SG" not in log and "Pcso PC" not in log and "submit=true" not in log
