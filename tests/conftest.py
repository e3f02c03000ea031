"""Shared fixtures. The whole suite runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set.

One database per backend per session, migrated with Alembic (never create_all), with the
Trafford beats and schools loaded once. After each test every other table is emptied.
"""
from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g, has_app_context
from hypothesis import HealthCheck, settings
from flask.testing import FlaskClient
from flask_migrate import upgrade
from werkzeug.security import check_password_hash, generate_password_hash

from pcso import create_app
from pcso.auditlog import protection as audit_protection
from pcso.config import normalise_database_url
from pcso.extensions import db

DATA = Path(__file__).resolve().parents[1] / "pcso" / "data"
WARDS = DATA / "trafford_ward_2023_generalised.geojson"
SCHOOLS = DATA / "trafford_schools_and_colleges.csv"
POSTCODES = DATA / "trafford_postcodes.csv"
TEST_DATA = Path(__file__).resolve().parent / "data"
POLICE_UK_CSV = TEST_DATA / "2025-10-city-of-london-street.csv"  # real data.police.uk file, see tests/data/README.md
KEEP = {"beat", "beat_index_version", "school", "alembic_version"}

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])

# Hypothesis (tests/test_fuzz_*.py): reproducible by default and in CI (derandomize: the same examples every run,
# no example database in the repository); HYPOTHESIS_PROFILE=explore for a longer, random hunt on a laptop.
_FUZZ = dict(deadline=None, database=None, print_blob=True,
             suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                    HealthCheck.data_too_large, HealthCheck.filter_too_much])
settings.register_profile("ci", max_examples=8, derandomize=True, **_FUZZ)
settings.register_profile("explore", max_examples=200, derandomize=False, **_FUZZ)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


class RequestClient(FlaskClient):
    """A test client whose every request starts with an empty flask.g, as in production.

    The `app` fixture keeps one app context open for the whole test and Flask reuses it for
    each request, so g (where Flask-Login caches the signed-in user) would otherwise carry over
    from one request, and one client, to the next: a session ended on the server would still
    look signed in.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            for name in list(g):
                g.pop(name)
        return super().open(*args, **kwargs)


@functools.cache
def seal_key_dir() -> str:
    """One sealing key per test process, in a temporary folder (made here, as `flask seal-key init` would)."""
    from pcso.seal import make_key

    folder = Path(tempfile.mkdtemp(prefix="beatbook-seal-keys-"))
    make_key(folder, stamp="20261202T000000000000Z")
    return str(folder)


def make_app(url: str, **overrides):
    config = {
        "SEAL_KEY_DIR": seal_key_dir(),
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SECRET_KEY": "test-secret-key-of-a-decent-length-0123456789",
        "PHOTO_DIR": tempfile.mkdtemp(prefix="beatbook-photos-"),  # never the repository's instance/
        "JOBS_DIR": tempfile.mkdtemp(prefix="beatbook-jobs-"),
        "JOBS_MODE": "inline",  # background jobs run in the request (tests of the other modes set their own)
        "JOBS_REDIS_URL": "",
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = RequestClient
    return app


def load_reference_data(app) -> None:
    from pcso.beats.services import import_beats
    from pcso.boundaries import parse_boundaries
    from pcso.schools.services import import_schools

    with app.app_context():
        shapes = parse_boundaries(WARDS.read_text(), code_property="area_code", name_property="area_name")
        import_beats(shapes, district="Trafford")
        import_schools(SCHOOLS.read_text())
        db.session.commit()


def migrated_app(path: Path, *, reference_data: bool = True, **overrides):
    """An app on its own SQLite file, migrated, with the Trafford beats and schools unless told not to."""
    app = make_app(f"sqlite:///{path}", **overrides)
    with app.app_context():
        upgrade()
    if reference_data:
        load_reference_data(app)
    return app


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    url = normalise_database_url(os.environ["TEST_DATABASE_URL"])
    reset_postgres(url)
    return url


@pytest.fixture(scope="session")
def session_app(database_url):
    app = make_app(database_url)
    with app.app_context():
        upgrade()
    load_reference_data(app)
    yield app
    with app.app_context():
        db.engine.dispose()


def _empty_tables(app) -> None:
    """The audit tables are append-only (pcso/auditlog/protection.py): the teardown, and only it, empties them
    through the one maintenance path, which lasts for this transaction."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn, audit_protection.maintenance(conn):
            for table in reversed(db.metadata.sorted_tables):
                if table.name not in KEEP:
                    conn.execute(table.delete())
            conn.execute(sa.text("DELETE FROM audit_event WHERE object_type IN ('beat', 'school')"))


@pytest.fixture
def app(session_app):
    with session_app.app_context():
        yield session_app
        db.session.remove()
    _empty_tables(session_app)


_generate_once = functools.cache(generate_password_hash)
_check_once = functools.cache(check_password_hash)


@pytest.fixture
def memoised_hashing(monkeypatch):
    """Real scrypt, computed once per password: for tests that sign many officers in (not test_auth)."""
    from pcso.models import user as user_model

    monkeypatch.setattr(user_model, "generate_password_hash", _generate_once)
    monkeypatch.setattr(user_model, "check_password_hash", _check_once)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def fresh_app(tmp_path):
    """An app on its own empty, migrated SQLite database (for imports and seeding)."""
    app = migrated_app(tmp_path / "fresh.sqlite", reference_data=False)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
