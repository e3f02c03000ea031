"""A request that can't get the database in time (SQLite's write lock held past the busy timeout; PostgreSQL gone
or restarting) answers a clear 503 with Retry-After, never a 500, and writes nothing (issue 11, item 3)."""
from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import Entry, Role
from tests import factories
from tests.api.helpers import bearer, token
from tests.conftest import migrated_app
from tests.factories import asb_form, signed_in, soup

pytestmark = pytest.mark.usefixtures("memoised_hashing")


@pytest.fixture
def busy_app(tmp_path):
    """An app on its own SQLite file that waits only 50 ms for the write lock."""
    path = tmp_path / "busy.sqlite"
    app = migrated_app(path, SQLITE_BUSY_TIMEOUT_MS=50)
    with app.app_context():
        yield app, path
        db.session.remove()
        db.engine.dispose()


def entries() -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Entry))


def test_a_form_sent_while_another_writer_holds_the_lock_gets_503_then_is_saved_once_after(busy_app):
    app, path = busy_app
    officer = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    db.session.commit()
    browser = signed_in(app, officer)
    secret = token(officer)
    db.session.remove()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer, holding the lock past the app's busy timeout
    try:
        page = browser.post("/asb-incidents/new", data=asb_form(summary="Sent while the lock was held"))
        assert page.status_code == 503 and page.headers["Retry-After"] == "3"
        assert "nothing was saved" in soup(page).text
        api = browser.post("/api/v1/forms/asb-incidents", json={"summary": "x"}, headers=bearer(secret))
        assert api.status_code == 503 and api.headers["Retry-After"] == "3"
        assert api.mimetype == "application/problem+json" and "nothing was saved" in api.json["detail"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert entries() == 0
    again = browser.post("/asb-incidents/new", data=asb_form(summary="Sent while the lock was held"))
    assert again.status_code in (302, 303) and entries() == 1
