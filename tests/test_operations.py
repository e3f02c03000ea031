"""Running in production: health and readiness, the request log, backups and restores, the read replica, and the
beat index's version shared by every server (docs/DEPLOY.md)."""
from __future__ import annotations

import io
import json
import logging
import sqlite3
import time

import pytest
import sqlalchemy as sa
from shapely.geometry import box, mapping

from pcso import backup
from pcso.beats.services import beat_index, index_version, locate_beat
from pcso.extensions import db
from pcso.models import AsbIncident, Beat, Entry, Role
from pcso.replica import WROTE_AT, replica_binds, using_replica
from pcso.requestlog import LOGGER, JsonFormatter
from tests import factories
from tests.conftest import make_app, migrated_app


# --- /healthz and /readyz -------------------------------------------------------------------------------------

def test_healthz_answers_without_the_database():
    app = make_app("postgresql+psycopg://nobody@127.0.0.1:1/nothing")  # nothing listens on port 1
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_is_200_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "checks": {"database": True}}


def test_readyz_is_503_when_the_database_is_down_and_says_nothing_sensitive():
    url = "postgresql+psycopg://beatbook_app:s3cret-pass@127.0.0.1:1/beatbook"
    app = make_app(url)
    with app.app_context():
        response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "not ready", "checks": {"database": False}}
    body = response.get_data(as_text=True)
    assert "127.0.0.1" not in body and "s3cret" not in body and "beatbook_app" not in body


def test_readyz_checks_redis_when_configured_and_is_degraded_not_down_without_it(session_app, tmp_path):
    """Without Redis the server still takes entries (tests/test_faults.py): the balancer must keep sending them."""
    app = migrated_app(tmp_path / "r.sqlite", reference_data=False, REDIS_URL="redis://127.0.0.1:1/0")
    with app.app_context():
        response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "degraded", "checks": {"database": True, "redis": False}}


# --- the request log ------------------------------------------------------------------------------------------

@pytest.fixture
def log_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(LOGGER)
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def test_one_json_line_per_request_with_endpoint_status_duration_and_no_personal_data(app, log_lines, memoised_hashing):
    officer = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD], name="Priya Kowalczyk")
    db.session.commit()
    browser = factories.signed_in(app, officer)
    entry = factories.asb(officer, factories.OLD_TRAFFORD)
    db.session.commit()
    browser.get(f"/entries/{entry.id}?name=Jordan+Featherstonehaugh")
    browser.post("/asb-incidents/new", data=factories.asb_form(summary="Jordan Featherstonehaugh shouting"))
    lines = log_lines()
    text = json.dumps(lines)
    assert "Featherstonehaugh" not in text and "Kowalczyk" not in text and "Priya" not in text
    assert officer.collar_number not in text and "?" not in text
    detail = [line for line in lines if line.get("endpoint") == "entries.detail"]
    assert len(detail) == 1
    line = detail[0]
    assert line["method"] == "GET" and line["route"] == "/entries/<int:entry_id>" and line["status"] == 200
    assert line["user_id"] == officer.id and isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert len(line["request_id"]) == 32 and line["level"] == "info" and line["ts"].endswith("+00:00")
    assert {"GET", "POST"} <= {line["method"] for line in lines}


def test_the_request_id_is_the_proxys_when_valid_and_echoed(client, log_lines):
    sent = "4f1c2e0a9b8d7c6e5f4a3b2c1d0e9f8a"
    response = client.get("/healthz", headers={"X-Request-ID": sent})
    assert response.headers["X-Request-ID"] == sent
    bad = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    made = bad.headers["X-Request-ID"]
    assert made != sent and len(made) == 32 and "<" not in made
    assert client.get("/healthz").headers["X-Request-ID"] not in (sent, made)  # a new one each time
    assert [line["request_id"] for line in log_lines()][:2] == [sent, made]


def test_an_exception_is_logged_as_its_type_and_stack_never_its_message():
    formatter = JsonFormatter()
    try:
        raise ValueError("duplicate key value (full_name)=(Jordan Featherstonehaugh)")
    except ValueError:
        record = logging.LogRecord("sqlalchemy", logging.ERROR, __file__, 1, "insert failed: %s", ("Jordan",),
                                   exc_info=__import__("sys").exc_info())
    line = json.loads(formatter.format(record))
    assert line["exception"] == "ValueError" and line["stack"] and line["msg"] == "insert failed: %s"
    assert "Jordan" not in json.dumps(line)


# --- backups --------------------------------------------------------------------------------------------------

def _rows(path) -> dict[str, list]:
    with sqlite3.connect(path) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT LIKE '%search_fts%' ORDER BY name")]
        rows = {table: sorted(map(repr, conn.execute(f'SELECT * FROM "{table}"'))) for table in tables}  # nosec
    conn.close()
    return rows


def test_backup_then_restore_gives_back_every_row_and_a_sound_file(tmp_path, memoised_hashing):
    app = migrated_app(tmp_path / "live.sqlite")
    with app.app_context():
        officer = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
        factories.asb(officer, factories.OLD_TRAFFORD)
        db.session.commit()
        runner = app.test_cli_runner()
        target = tmp_path / "backups" / "one.sqlite"
        made = runner.invoke(args=["backup", "--to", str(target)])
        assert made.exit_code == 0, made.output
        assert "integrity check ok" in made.output
        assert target.stat().st_mode & 0o777 == 0o600
        before = _rows(tmp_path / "live.sqlite")
        assert before["entry"] and before["user"]

        factories.asb(officer, factories.OLD_TRAFFORD)  # a change after the backup, lost by the restore
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
        assert len(_rows(tmp_path / "live.sqlite")["entry"]) == 2

        refused = runner.invoke(args=["restore-backup", str(target)])
        assert refused.exit_code != 0 and "--yes" in refused.output
        restored = runner.invoke(args=["restore-backup", str(target), "--yes"])
        assert restored.exit_code == 0, restored.output
    assert _rows(tmp_path / "live.sqlite") == before
    assert backup.integrity_problems(tmp_path / "live.sqlite") == []


def test_backup_refuses_to_overwrite_and_a_damaged_backup_is_not_restored(tmp_path):
    app = migrated_app(tmp_path / "live.sqlite", reference_data=False)
    with app.app_context():
        runner = app.test_cli_runner()
        target = tmp_path / "b.sqlite"
        assert runner.invoke(args=["backup", "--to", str(target)]).exit_code == 0
        again = runner.invoke(args=["backup", "--to", str(target)])
        assert again.exit_code == 1 and "already exists" in again.output
        damaged = tmp_path / "damaged.sqlite"
        damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
        before = (tmp_path / "live.sqlite").read_bytes()
        refused = runner.invoke(args=["restore-backup", str(damaged), "--yes"])
        assert refused.exit_code == 1
    assert (tmp_path / "live.sqlite").read_bytes() == before


def test_backup_on_postgresql_prints_pg_dump_without_the_password():
    command = backup.pg_dump_command("postgresql+psycopg://beatbook_owner:s3cret@db.internal:5433/beatbook")
    assert command.startswith("pg_dump --format=custom") and "--host=db.internal" in command
    assert "--port=5433" in command and "--username=beatbook_owner" in command and command.endswith(" beatbook")
    assert "s3cret" not in command


# --- the read replica -----------------------------------------------------------------------------------------

@pytest.fixture
def primary_and_replica(tmp_path, memoised_hashing):
    """A primary with one entry, and a replica copied from it (by `flask backup`) before a second entry."""
    primary = migrated_app(tmp_path / "primary.sqlite")
    with primary.app_context():
        officer = factories.user(Role.ANALYST)
        author = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
        factories.asb(author, factories.OLD_TRAFFORD)
        db.session.commit()
        backup.backup_sqlite(db.engine.url.render_as_string(), tmp_path / "replica.sqlite")
        factories.asb(author, factories.OLD_TRAFFORD)
        db.session.commit()
        ids = officer.id, author.id
        db.engine.dispose()
    app = make_app(f"sqlite:///{tmp_path / 'primary.sqlite'}",
                   SQLALCHEMY_BINDS=replica_binds(f"sqlite:///{tmp_path / 'replica.sqlite'}"))
    with app.app_context():
        yield app, ids
        db.session.remove()


def _count_entries() -> int:
    return db.session.scalar(sa.select(sa.func.count(Entry.id)))


def test_only_a_marked_views_reads_go_to_the_replica(primary_and_replica):
    app, _ = primary_and_replica
    with app.test_request_context("/search/results/abcdefghijklmnop0123"):
        app.preprocess_request()
        assert using_replica() and _count_entries() == 1  # the replica: a copy from before the second entry
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AsbIncident)) == 1
    with app.test_request_context("/lists/entries"):
        assert not using_replica() and _count_entries() == 2
    with app.test_request_context("/search/results/abcdefghijklmnop0123", method="POST"):
        assert not using_replica() and _count_entries() == 2
    assert _count_entries() == 2  # outside a request: the primary


def test_a_user_who_just_wrote_reads_from_the_primary(primary_and_replica):
    app, _ = primary_and_replica
    with app.test_request_context("/search/results/abcdefghijklmnop0123"):
        from flask import session

        session[WROTE_AT] = time.time() - 5
        assert not using_replica() and _count_entries() == 2
    with app.test_request_context("/search/results/abcdefghijklmnop0123"):
        from flask import session

        session[WROTE_AT] = time.time() - app.config["REPLICA_STICKY_SECONDS"] - 1
        assert using_replica() and _count_entries() == 1


def test_a_successful_post_stamps_the_session_and_the_search_page_then_reads_the_primary(primary_and_replica):
    app, (analyst_id, author_id) = primary_and_replica
    author = db.session.get(factories.User, author_id)
    browser = factories.signed_in(app, author)
    with browser.session_transaction() as stored:
        assert WROTE_AT in stored  # signing in is a write too
        stored.pop(WROTE_AT)
    assert browser.post("/search", data={"q": "tram"}).status_code in (303, 400)  # saves the query only
    with browser.session_transaction() as stored:
        assert WROTE_AT not in stored
    made = browser.post("/asb-incidents/new", data=factories.asb_form())
    assert made.status_code in (302, 303), made.get_data(as_text=True)[:500]
    with browser.session_transaction() as stored:
        assert time.time() - stored[WROTE_AT] < 5
    # the sessions and users are always read from the primary: the replica has never heard of this session
    assert browser.get("/").status_code == 200


# --- the beat index's version ---------------------------------------------------------------------------------

INSIDE_NEW = (53.5000, -2.5000)  # west of Trafford: in no beat until the test makes one there


def test_a_beat_changed_through_another_server_is_used_here_next(tmp_path):
    one = migrated_app(tmp_path / "shared.sqlite")
    other = make_app(f"sqlite:///{tmp_path / 'shared.sqlite'}")  # another server: its own index
    with one.app_context():
        assert locate_beat(*INSIDE_NEW) is None
        built_at = index_version()
    with other.app_context():
        square = box(-2.51, 53.49, -2.49, 53.51)
        db.session.add(Beat(code="X1", name="New beat", boundary=mapping(square), min_lat=53.49, min_lon=-2.51,
                            max_lat=53.51, max_lon=-2.49))
        db.session.commit()
        assert index_version() == built_at + 1
    with one.app_context():
        assert locate_beat(*INSIDE_NEW).code == "X1"


def test_an_edit_the_old_fingerprint_would_miss_is_seen(tmp_path):
    """Same count of beats, the same updated_at (another server's clock behind): the version still moves."""
    one = migrated_app(tmp_path / "shared.sqlite")
    other = make_app(f"sqlite:///{tmp_path / 'shared.sqlite'}")
    with one.app_context():
        assert locate_beat(*INSIDE_NEW) is None
    with other.app_context():
        beat = db.session.scalar(sa.select(Beat).order_by(Beat.id).limit(1))
        stamp = beat.updated_at
        beat.boundary = mapping(box(-2.51, 53.49, -2.49, 53.51))
        beat.updated_at = stamp
        db.session.commit()
        code = beat.code
    with one.app_context():
        assert locate_beat(*INSIDE_NEW).code == code


def test_a_rolled_back_beat_change_never_reaches_the_shared_index(tmp_path):
    app = migrated_app(tmp_path / "shared.sqlite")
    with app.app_context():
        before = index_version()
        db.session.add(Beat(code="X2", name="Never", boundary=mapping(box(-2.51, 53.49, -2.49, 53.51)),
                            min_lat=53.49, min_lon=-2.51, max_lat=53.51, max_lon=-2.49))
        db.session.flush()
        assert beat_index().locate(*INSIDE_NEW) is not None  # this transaction sees its own beat
        db.session.rollback()
    with app.app_context():
        assert index_version() == before and locate_beat(*INSIDE_NEW) is None


# --- the deployment files -------------------------------------------------------------------------------------

def test_the_deployment_files_run_commands_that_exist(app):
    import configparser
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    commands = app.cli.list_commands(app.cli.make_context("flask", [], resilient_parsing=True))
    for name in ("beatbook-web.service", "beatbook-worker.service", "beatbook-seal.service", "beatbook-seal.timer"):
        unit = configparser.ConfigParser(strict=False, interpolation=None)
        unit.read_string((root / "deploy" / name).read_text())
        assert "Unit" in unit and ("Service" in unit or "Timer" in unit), name
    seal = (root / "deploy" / "beatbook-seal.service").read_text()
    assert "flask --app app audit seal" in seal and "audit" in commands and "backup" in commands
    assert "app:app" in (root / "deploy" / "beatbook-web.service").read_text()
    procfile = dict(line.split(":", 1) for line in (root / "Procfile").read_text().splitlines()
                    if line and not line.startswith("#"))
    assert procfile["release"].strip() == "flask --app app db upgrade" and "gunicorn" in procfile["web"]
    nginx = (root / "deploy" / "nginx-beatbook.conf").read_text()
    assert "proxy_set_header X-Request-ID $request_id" in nginx and "ssl_protocols TLSv1.2 TLSv1.3" in nginx
