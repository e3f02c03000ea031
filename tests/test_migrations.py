"""Migrations agree with the models, go down and up again; SQLite is set up for several workers.

Each test gets its own empty database: a SQLite file, and on PostgreSQL (when TEST_DATABASE_URL
is set) a database of its own created next to the shared one and dropped afterwards.
"""
from __future__ import annotations

import os
import sqlite3
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from pprint import pformat

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

import pcso
from pcso.auditlog import partitions as audit_partitions_module
from pcso.auditlog import protection as audit_protection
from pcso.config import normalise_database_url
from pcso.extensions import db
from pcso.search.schema import include_name, include_object, is_backend_only_table
from tests.conftest import BACKENDS, make_app

MIGRATIONS = Path(pcso.__file__).resolve().parent / "migrations"
TABLES = {
    "alembic_version", "asb_incident", "audit_event", "beat", "beat_assignment", "beat_index_version", "beat_priority", "entry",
    "entry_review", "entry_revision", "intelligence_report", "shift", "street_crime",
    "link", "location", "organisation", "patrol", "person", "school", "school_visit", "search_document", "user",
    "user_session", "rate_limit_counter", "api_token", "idempotency_key", "job", "photo", "saved_search", "held_submission", "risk_assessment",
    "vehicle", "welfare_check", "welfare_latest", "audit_leaf", "audit_checkpoint",
    "retention_decision", "erased_record",
    "export_request", "entry_amendment",
    "case_review", "case_review_incident", "case_review_recommendation",
    "person_warning_marker", "person_address",
    "patrol_suggestion",
    "person_match_key", "vehicle_match_key",
    "vehicle", "welfare_check",
}


@pytest.fixture(params=BACKENDS)
def blank_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"
        return
    shared = sa.engine.make_url(normalise_database_url(os.environ["TEST_DATABASE_URL"]))
    name = f"beatbook_migrations_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(shared.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield shared.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def blank_app(blank_url):
    app = make_app(blank_url)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def flask_db(app, *args) -> str:
    result = app.test_cli_runner().invoke(args=["db", *args])
    assert result.exit_code == 0, f"flask db {' '.join(args)} failed:\n{result.output}\n{result.exception!r}"
    return result.output


def schema_diff() -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "compare_server_default": True,
            "include_name": include_name, "include_object": include_object})
        return compare_metadata(context, db.metadata)


def table_names() -> set[str]:
    """Tables the models know; the full-text tables only SQLite has are checked on their own."""
    return {name for name in sa.inspect(db.engine).get_table_names() if not is_backend_only_table(name)}


def backend_only_tables() -> set[str]:
    return {name for name in sa.inspect(db.engine).get_table_names() if is_backend_only_table(name)}


FTS_TABLES = {"sqlite": {f"{table}{shadow}" for table in ("search_fts", "person_fts", "vehicle_fts")
                         for shadow in ("", "_config", "_data", "_docsize", "_idx")},
              "postgresql": set()}
def audit_partitions(dialect: str) -> set[str]:
    """PostgreSQL: audit_event's default partition and this month's and the next three's (an empty log)."""
    if dialect != "postgresql":
        return set()
    this_month = datetime.now(timezone.utc).date().replace(day=1)
    return {"audit_event_default"} | {audit_partitions_module.month_name(audit_partitions_module.add_month(this_month, n))
                                      for n in range(4)}


FTS_TRIGGERS = {f"{table}_{event}" for table in ("search_document", "person_fts", "vehicle_fts")
                for event in ("ai", "ad", "au")}


def sqlite_triggers() -> set[str]:
    with db.engine.connect() as conn:
        return set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars())


def backend_only_indexes() -> set[str]:
    inspector = sa.inspect(db.engine)
    return {index["name"] for table in ("search_document", "person", "vehicle")
            for index in inspector.get_indexes(table) if not include_name(index["name"], "index", None)}


def test_migrations_upgrade_to_models_down_to_base_and_up_again(blank_app):
    assert table_names() == set()
    flask_db(blank_app, "upgrade")
    assert table_names() == TABLES
    dialect = db.engine.dialect.name
    assert backend_only_tables() == FTS_TABLES[dialect] | audit_partitions(dialect)
    if dialect == "postgresql":
        assert backend_only_indexes() == {"ix_search_document_body_tsv", "ix_person_name_key_trgm",
                                          "ix_person_aliases_trgm", "ix_vehicle_vrm_trgm"}
        columns = {column["name"] for column in sa.inspect(db.engine).get_columns("search_document")}
        assert columns == {"entry_id", "body", "body_tsv"}
    else:
        assert sqlite_triggers() == FTS_TRIGGERS | audit_protection.sqlite_trigger_names()
    diff = schema_diff()
    assert diff == [], "models and migrations disagree:\n" + pformat(diff)

    flask_db(blank_app, "downgrade", "base")
    assert table_names() == {"alembic_version"}
    assert backend_only_tables() == set()
    if dialect == "sqlite":
        assert sqlite_triggers() == set()
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 0

    flask_db(blank_app, "upgrade")
    assert table_names() == TABLES
    diff = schema_diff()
    assert diff == [], "models and migrations disagree after downgrade/upgrade:\n" + pformat(diff)


FOUNDATION_ROWS = [
    "INSERT INTO \"user\" (id, collar_number, display_name, role, password_hash, is_enabled, created_at, "
    "password_changed_at) VALUES (1, 'PC1', 'P One', 'pcso', 'x', true, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    "INSERT INTO beat (id, code, name, boundary, min_lat, min_lon, max_lat, max_lon, created_at, updated_at) "
    "VALUES (1, 'B1', 'Beat', '{}', 0, 0, 1, 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
] + [
    "INSERT INTO entry (id, kind, author_id, beat_id, is_beat_overridden, occurred_at, recorded_at, updated_at, "
    f"location_source, summary, status, marking, client_key) VALUES ({i}, '{kind}', 1, 1, false, "
    f"'2026-01-0{i} 10:00:00', '2026-01-0{i} 10:00:00', '2026-01-0{i} 10:00:00', 'none', 's', 'submitted', "
    f"'{marking}', 'key-{i}')"
    for i, kind, marking in [(1, "asb_incident", "OFFICIAL"), (2, "asb_incident", "OFFICIAL"),
                             (3, "welfare_check", "OFFICIAL-SENSITIVE"), (4, "welfare_check", "OFFICIAL-SENSITIVE")]
] + [
    f"INSERT INTO asb_incident (id, nsir_category, asb_type, description) VALUES ({i}, 'nuisance', 'noise', 'd')"
    for i in (1, 2)
] + [
    "INSERT INTO asb_person (incident_id, position, name, role, description) VALUES "
    "(1, 0, 'Sam Smith', 'victim', 'Owner of the Corsa'), (1, 1, 'Lee Jones', 'suspect', NULL), "
    "(2, 0, 'Sam Smith', 'reporter', NULL)",
    "INSERT INTO asb_vehicle (incident_id, position, vrm, description) VALUES "
    "(1, 0, 'AB12CDE', 'Blue Vauxhall Corsa'), (2, 0, 'AB12CDE', 'Blue Corsa again')",
] + [
    "INSERT INTO welfare_check (id, child_name, child_born_on, spoc_id, visit_type, is_seen_alone, indicators, "
    f"risk_level, is_intelligence_raised, is_mash_referral, is_partner_informed) VALUES ({i}, 'Alex Example', "
    "'2012-05-01', 1, 'planned', true, '[]', 'medium', false, false, false)"
    for i in (3, 4)
]


def test_free_text_people_and_vehicles_move_into_records_and_back(blank_app):
    flask_db(blank_app, "upgrade", "0001")
    with db.engine.begin() as conn:
        for statement in FOUNDATION_ROWS:
            conn.exec_driver_sql(statement)
    flask_db(blank_app, "upgrade")
    with db.engine.connect() as conn:
        people = conn.exec_driver_sql("SELECT full_name, born_on FROM person ORDER BY id").all()
        links = conn.exec_driver_sql(
            "SELECT l.entry_id, l.role, l.note, p.full_name, v.vrm FROM link l LEFT JOIN person p ON p.id = l.person_id "
            "LEFT JOIN vehicle v ON v.id = l.vehicle_id ORDER BY l.entry_id, l.position").all()
        vehicles = conn.exec_driver_sql("SELECT vrm FROM vehicle").scalars().all()
    # every ASB person is kept (a name alone does not merge); one child; one vehicle per registration
    assert [p[0] for p in people] == ["Sam Smith", "Lee Jones", "Sam Smith", "Alex Example"]
    assert vehicles == ["AB12CDE"]
    assert [(l[0], l[1], l[2], l[3] or l[4]) for l in links] == [
        (1, "victim", "Owner of the Corsa", "Sam Smith"), (1, "suspect", None, "Lee Jones"),
        (1, "mentioned", "Blue Vauxhall Corsa", "AB12CDE"), (2, "reporter", None, "Sam Smith"),
        (2, "mentioned", "Blue Corsa again", "AB12CDE"), (3, "subject", None, "Alex Example"),
        (4, "subject", None, "Alex Example")]

    flask_db(blank_app, "downgrade", "0001")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql(
            "SELECT incident_id, name, role, description FROM asb_person ORDER BY incident_id, position").all() == [
            (1, "Sam Smith", "victim", "Owner of the Corsa"), (1, "Lee Jones", "suspect", None),
            (2, "Sam Smith", "reporter", None)]
        assert conn.exec_driver_sql("SELECT vrm, description FROM asb_vehicle ORDER BY id").all() == [
            ("AB12CDE", "Blue Vauxhall Corsa"), ("AB12CDE", "Blue Corsa again")]
        assert conn.exec_driver_sql("SELECT child_name FROM welfare_check").scalars().all() == ["Alex Example"] * 2


def _full_text(conn, word: str) -> set[int]:
    if conn.dialect.name == "sqlite":
        sql = "SELECT rowid FROM search_fts WHERE search_fts MATCH :word"
    else:
        sql = "SELECT entry_id FROM search_document WHERE body_tsv @@ plainto_tsquery('english', :word)"
    return set(conn.execute(sa.text(sql), {"word": word}).scalars())


def test_entries_made_before_search_are_indexed_by_the_migration(blank_app):
    from pcso.search.index import reindex_entries

    flask_db(blank_app, "upgrade", "0001")
    with db.engine.begin() as conn:
        for statement in FOUNDATION_ROWS:
            conn.exec_driver_sql(statement)
    flask_db(blank_app, "upgrade")
    with db.engine.connect() as conn:
        bodies = dict(conn.exec_driver_sql("SELECT entry_id, body FROM search_document").all())
        assert set(bodies) == {1, 2, 3, 4}
        assert bodies[1] == "s\nnoise\nd\nSam Smith\nOwner of the Corsa\nLee Jones\nAB12CDE\nBlue Vauxhall Corsa"
        assert "Alex Example" in bodies[3]
        assert _full_text(conn, "corsa") == {1, 2} and _full_text(conn, "alex") == {3, 4}
        if conn.dialect.name == "sqlite":  # the trigram indexes over names and registrations
            assert conn.exec_driver_sql("SELECT rowid FROM vehicle_fts WHERE vehicle_fts MATCH '\"b12c\"'").all()
            assert len(conn.exec_driver_sql("SELECT rowid FROM person_fts WHERE person_fts MATCH '\"smit\"'").all()) == 2
    # the app's own rules give the same text the migration wrote
    reindex_entries()
    db.session.commit()
    with db.engine.connect() as conn:
        assert dict(conn.exec_driver_sql("SELECT entry_id, body FROM search_document").all()) == bodies

    flask_db(blank_app, "downgrade", "0003")
    assert "search_document" not in table_names() and backend_only_tables() == set()


def test_flask_db_check_and_a_single_head(blank_app):
    flask_db(blank_app, "upgrade")
    flask_db(blank_app, "check")  # exits non-zero when the models need a new migration
    heads = ScriptDirectory(str(MIGRATIONS)).get_heads()
    assert len(heads) == 1, heads
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all() == heads


def test_the_diff_is_able_to_see_a_drift(blank_app):
    """Guard for the test above: a column the migrations lack must show up in the diff."""
    flask_db(blank_app, "upgrade")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE beat ADD COLUMN stray INTEGER")
    diff = schema_diff()
    assert [op[0] for op in diff] == ["remove_column"] and diff[0][3].name == "stray"
    result = blank_app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code != 0


# --- SQLite connection settings ------------------------------------------------------------------


@pytest.fixture
def sqlite_app(tmp_path):
    path = tmp_path / "engine.sqlite"
    app = make_app(f"sqlite:///{path}")
    app.config["TEST_DB_PATH"] = path
    with app.app_context():
        flask_db(app, "upgrade")
        yield app
        db.session.remove()
        db.engine.dispose()


def test_sqlite_connection_uses_wal_foreign_keys_and_a_busy_timeout(sqlite_app):
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        busy = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
        assert busy > 0 and busy == sqlite_app.config["SQLITE_BUSY_TIMEOUT_MS"]


def test_sqlite_enforces_foreign_keys(sqlite_app):
    with pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"):
        with db.engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO beat_assignment (user_id, beat_id) VALUES (999, 999)")


def test_sqlite_transaction_takes_the_write_lock_up_front(sqlite_app):
    """BEGIN IMMEDIATE: a transaction that has only read already holds the write lock.

    With Python's default deferred BEGIN, `SELECT 1` takes no lock and the second writer below
    would succeed; here it gets "database is locked" at once (busy_timeout 0).
    """
    other = sqlite3.connect(sqlite_app.config["TEST_DB_PATH"], timeout=0, isolation_level=None)
    try:
        with db.engine.connect() as first:
            first.exec_driver_sql("SELECT 1")  # any statement starts the transaction
            started = time.monotonic()
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("UPDATE beat SET name = name")
            assert time.monotonic() - started < 1.0
            # WAL: a plain reader is not blocked by the writer
            assert other.execute("SELECT count(*) FROM beat").fetchone() == (0,)
            first.rollback()
            other.execute("UPDATE beat SET name = name")  # lock released: the write goes through
    finally:
        other.close()


def test_sqlite_begin_statement_is_begin_immediate_outside_a_request(sqlite_app):
    """A command's transaction takes the write lock at once (requests take it at their first write:
    tests/test_write_lock.py). SQLite's trace callback sees what the app sends the driver itself."""
    seen: list[str] = []
    with db.engine.connect() as conn:
        conn.connection.dbapi_connection.set_trace_callback(seen.append)
        try:
            conn.exec_driver_sql("SELECT 1")
        finally:
            conn.connection.dbapi_connection.set_trace_callback(None)
    assert [sql for sql in seen if not sql.startswith("PRAGMA")][:2] == ["BEGIN IMMEDIATE", "SELECT 1"]
