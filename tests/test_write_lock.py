"""SQLite's write lock is taken for the writes alone (issue 11, item 3): a request reads without it, takes it at its
first write (BEGIN IMMEDIATE), and then writes on the newest data, never failing on a stale read snapshot."""
from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from pcso.database import lock_for_writes
from pcso.extensions import db
from pcso.models import AuditEvent, Beat, Entry, Role, User, Vehicle
from pcso.pole.services import vehicle_for
from tests import factories
from tests.test_database_busy import busy_app  # noqa: F401 (a fixture)
from tests.factories import asb_form, signed_in

pytestmark = pytest.mark.usefixtures("memoised_hashing")


@pytest.fixture
def lock_app(busy_app):
    """An app on its own SQLite file that waits only 50 ms for the write lock (tests/test_database_busy.py)."""
    return busy_app


@pytest.fixture
def holder(lock_app):
    """Another writer on the same file, holding the write lock until the test ends."""
    other = sqlite3.connect(lock_app[1], isolation_level=None)
    yield other
    if other.in_transaction:
        other.execute("ROLLBACK")
    other.close()


def statements(app) -> list[str]:
    """Every statement SQLite runs from now on, on new connections (the pool is emptied): ours too, but for the
    PRAGMAs setting the busy timeout around BEGIN IMMEDIATE."""
    seen: list[str] = []
    db.engine.dispose()
    event.listen(db.engine, "connect", lambda dbapi, _record: dbapi.set_trace_callback(
        lambda sql: None if sql.startswith("PRAGMA") else seen.append(" ".join(sql.split()))))
    return seen


def test_a_submission_reads_without_the_lock_and_takes_it_at_its_first_write(lock_app):
    app, _ = lock_app
    officer = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    db.session.commit()
    browser = signed_in(app, officer)
    db.session.remove()
    seen = statements(app)
    assert browser.post("/asb-incidents/new", data=asb_form()).status_code == 302
    first_write = next(i for i, sql in enumerate(seen) if sql.startswith(("INSERT", "UPDATE", "DELETE", "SAVEPOINT")))
    session_lookup = next(i for i, sql in enumerate(seen) if "FROM user_session" in sql)
    assert seen[0] == "BEGIN" and session_lookup < first_write  # the session and the form's checks: no lock
    assert seen[first_write - 1] == "BEGIN IMMEDIATE"  # taken just before the first write, then held to the commit
    assert seen.count("BEGIN IMMEDIATE") == 1


def test_a_form_with_mistakes_is_answered_while_another_writer_holds_the_lock(lock_app, holder):
    app, _ = lock_app
    officer = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    db.session.commit()
    browser = signed_in(app, officer)
    db.session.remove()
    holder.execute("BEGIN IMMEDIATE")
    page = browser.post("/asb-incidents/new", data=asb_form(summary=""))
    assert page.status_code == 400  # its checks read only: no wait for the lock, no 503
    assert browser.post("/asb-incidents/new", data=asb_form()).status_code == 503  # a write must wait


def test_a_write_after_another_writer_committed_goes_on_the_newest_data(lock_app, holder):
    """A read snapshot older than another writer's commit: a deferred transaction could not write now
    (SQLITE_BUSY_SNAPSHOT); taking the lock at the write begins a new transaction on the newest data."""
    app, _ = lock_app
    with app.test_request_context("/", method="POST"):
        before = db.session.scalar(sa.select(sa.func.count()).select_from(Beat))  # the read snapshot begins
        holder.execute("INSERT INTO beat (code, name, district, boundary, min_lat, min_lon, max_lat, max_lon, "
                       "created_at, updated_at) SELECT 'X1', 'Elsewhere', district, boundary, min_lat, min_lon, "
                       "max_lat, max_lon, created_at, updated_at FROM beat LIMIT 1")
        db.session.add(AuditEvent(action="view", object_type="beat", details={}))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Beat)) == before + 1


def test_lock_for_writes_holds_what_was_read_until_the_commit(lock_app, holder):
    app, _ = lock_app
    with app.test_request_context("/", method="POST"):
        lock_for_writes()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            holder.execute("BEGIN IMMEDIATE")  # the other writer can't get in
        db.session.rollback()
        holder.execute("BEGIN IMMEDIATE")  # released with the transaction


def test_select_for_update_takes_the_lock_on_sqlite(lock_app, holder):
    app, _ = lock_app
    with app.test_request_context("/", method="POST"):
        db.session.execute(sa.select(Beat.id).limit(1))
        assert not holder.in_transaction
        db.session.execute(sa.select(Beat.id).limit(1).with_for_update())
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            holder.execute("BEGIN IMMEDIATE")
        db.session.rollback()


def test_a_get_that_records_a_view_waits_for_the_lock_only_to_write_its_event(lock_app, holder):
    app, _ = lock_app
    officer = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    db.session.commit()
    browser = signed_in(app, officer)
    assert browser.post("/asb-incidents/new", data=asb_form()).status_code == 302
    entry_id = db.session.scalar(sa.select(Entry.id))
    db.session.remove()
    seen = statements(app)
    assert browser.get(f"/entries/{entry_id}").status_code == 200
    immediate = seen.index("BEGIN IMMEDIATE")
    assert all(not sql.startswith("INSERT") for sql in seen[:immediate])
    assert any(sql.startswith("INSERT INTO audit_event") for sql in seen[immediate:])
    assert seen[:immediate].count("BEGIN") >= 1 and any("FROM entry" in sql for sql in seen[:immediate])


def test_two_officers_naming_one_new_registration_at_once_share_one_vehicle(lock_app):
    """The race of uq_vehicle_live_vrm: both looked the registration up and found nothing; the one who writes
    second meets the first's vehicle at its insert, and uses it (no 500, no second record)."""
    app, path = lock_app
    other = sa.create_engine(f"sqlite:///{path}")
    with app.test_request_context("/", method="POST"):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Vehicle)) == 0  # our snapshot begins
        with Session(other) as theirs:
            theirs.add(Vehicle(vrm="MA19XKE"))
            theirs.commit()
            their_id = theirs.scalar(sa.select(Vehicle.id))
        vehicle = vehicle_for(vrm="MA19 XKE")
        db.session.commit()
        assert vehicle.id == their_id
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Vehicle)) == 1
    other.dispose()


def test_a_unique_rule_met_by_two_requests_at_once_is_a_409_not_a_500(lock_app):
    app, _ = lock_app
    officer = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    db.session.commit()

    @app.post("/test-only/conflict")
    def conflict():  # a service that does not resolve its race: the second insert of one collar number
        db.session.add(User(collar_number=officer.collar_number, display_name="Twin", role=Role.PCSO,
                            password_hash="x"))
        db.session.flush()
        return "never"

    browser = signed_in(app, officer)
    page = browser.post("/test-only/conflict")
    assert page.status_code == 409 and "Someone else saved a change" in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_reads_of_every_shape_run_while_another_writer_holds_the_lock(lock_app, holder):
    app, _ = lock_app
    holder.execute("BEGIN IMMEDIATE")
    with app.test_request_context("/", method="POST"):
        ids = sa.select(Beat.id).cte("ids")
        assert db.session.execute(sa.select(sa.func.count()).select_from(ids)).scalar() > 0  # WITH ... SELECT
        assert db.session.execute(sa.text("SELECT count(*) FROM beat")).scalar() > 0
        with pytest.raises(sa.exc.OperationalError, match="locked"):  # a write still waits, and says so in time
            db.session.execute(sa.update(Beat).where(Beat.id == -1).values(name="x"))
        db.session.rollback()
