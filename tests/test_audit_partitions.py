"""audit_event partitioned by month on PostgreSQL (migration 0027, pcso/auditlog/partitions.py; issue 11 part 4).

Events land in their month's partition, and any event no month covers in the default one (an insert never
fails); every partition is append-only on its own too; `flask audit partitions` and the audit_partitions job
make the coming months ahead; the app role gets SELECT and INSERT on a new partition and nothing else; the
Merkle log seals and verifies events spread over partitions, and catches an event edited or moved to another
month behind the app's back. SQLite has no partitions: its audit_event is the plain table it was."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from pcso import audit
from pcso.auditlog import partitions, protection
from pcso.auditlog.events import EVENTS
from pcso.auditlog.sealing import seal
from pcso.auditlog.verify import verify
from pcso.extensions import db
from pcso.jobs.runner import start, submit
from pcso.models import AuditAction, AuditEvent
from pcso.timeutil import utcnow
from tests.test_auditlog import behind_the_apps_back, cli, signing  # noqa: F401 (a fixture)
from tests.test_migrations import blank_app, blank_url, flask_db  # noqa: F401 (fixtures)

FAR = datetime(2091, 3, 14, 12, tzinfo=timezone.utc)  # a month no partition is made for


def postgres_only() -> None:
    if db.engine.dialect.name != "postgresql":
        with db.engine.connect() as conn:
            assert not partitions.is_partitioned(conn)  # SQLite: unchanged, and the command says so


def where(event_id: int) -> str:
    return db.session.scalar(sa.text("SELECT tableoid::regclass::text FROM audit_event WHERE id = :i"), {"i": event_id})


def test_sqlite_keeps_one_plain_table_and_the_command_says_there_is_nothing_to_do(app):
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            assert partitions.is_partitioned(conn)
        return
    postgres_only()
    result = cli(app, "audit", "partitions")
    assert result.exit_code == 0 and "not partitioned here" in result.output


def test_events_go_to_their_months_partition_and_strays_to_the_default(app):
    if db.engine.dialect.name != "postgresql":
        return postgres_only()
    now = audit.record(AuditAction.VIEW, actor=None, object_type="entry", object_id=1)
    stray = AuditEvent(at=FAR, action=AuditAction.VIEW, object_type="entry", object_id=2, details={})
    db.session.add(stray)
    db.session.commit()
    assert where(now.id) == partitions.month_name(utcnow().date())
    assert where(stray.id) == partitions.DEFAULT
    # and a month whose events already sit in the default partition is left there, not made
    with db.engine.begin() as conn:
        assert partitions.create_month(conn, FAR.date()) is None
    assert partitions.month_name(FAR.date()) not in partitions.partitions(db.session.connection())
    assert where(stray.id) == partitions.DEFAULT


def test_each_partition_refuses_update_delete_and_truncate_on_its_own(app):
    if db.engine.dialect.name != "postgresql":
        return postgres_only()
    event_id = audit.record(AuditAction.VIEW, actor=None, object_type="entry", object_id=1).id
    db.session.add(AuditEvent(at=FAR, action=AuditAction.VIEW, object_type="entry", object_id=2, details={}))
    db.session.commit()
    db.session.remove()
    for table in (partitions.month_name(utcnow().date()), partitions.DEFAULT):
        for sql in (f"UPDATE {table} SET details = '{{}}'", f"DELETE FROM {table}", f"TRUNCATE {table}"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                with db.engine.begin() as conn:
                    conn.exec_driver_sql(sql)
    assert db.session.get(AuditEvent, event_id) is not None


def test_the_command_and_the_job_make_the_coming_months_once(app):
    if db.engine.dialect.name != "postgresql":
        return postgres_only()
    this_month = utcnow().date().replace(day=1)
    wanted = {partitions.month_name(partitions.add_month(this_month, n)) for n in range(8)}
    result = cli(app, "audit", "partitions", "--months", "7")
    assert result.exit_code == 0, result.output
    assert wanted <= set(partitions.partitions(db.session.connection()))
    again = cli(app, "audit", "partitions", "--months", "7")
    assert again.exit_code == 0 and "Made" not in again.output
    job = submit("audit_partitions", params={"months": 7}, actor=None)
    db.session.commit()
    start(job.id)
    db.session.expire_all()
    assert job.result == {"made": [], "skipped": [], "partitioned": True}


def test_a_new_partition_gives_the_app_role_select_and_insert_only(app):
    if db.engine.dialect.name != "postgresql":
        return postgres_only()
    role = f"bb_test_app_{uuid.uuid4().hex[:8]}"
    month = datetime(2089, 6, 1, tzinfo=timezone.utc).date()
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} NOLOGIN")
    try:
        with db.engine.begin() as conn:
            name = partitions.create_month(conn, month, app_role=role)
            assert name == partitions.month_name(month)
            rights = {right: conn.execute(sa.text("SELECT has_table_privilege(:r, :t, :p)"),
                                          {"r": role, "t": name, "p": right}).scalar()
                      for right in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")}
        assert rights == {"SELECT": True, "INSERT": True, "UPDATE": False, "DELETE": False, "TRUNCATE": False}
    finally:
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {partitions.month_name(month)}")
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")


def test_events_over_several_partitions_seal_verify_and_betray_a_move(app, signing):  # noqa: F811
    if db.engine.dialect.name != "postgresql":
        return postgres_only()
    last_month = partitions.add_month(utcnow().date().replace(day=1), -1)
    with db.engine.begin() as conn:
        partitions.create_month(conn, last_month)
    base = datetime.combine(last_month, datetime.min.time(), timezone.utc) + timedelta(days=3)
    ids = []
    for n, moment in enumerate((base, base + timedelta(days=1), utcnow() - timedelta(minutes=5))):
        event = AuditEvent(at=moment, action=AuditAction.VIEW, object_type="entry", object_id=n, details={"n": n})
        db.session.add(event)
        db.session.flush()
        ids.append(event.id)
    db.session.commit()
    assert {where(i) for i in ids} == {partitions.month_name(last_month), partitions.month_name(utcnow().date())}
    assert seal().sealed >= 3
    assert verify().clean
    # moved to another month (and so another partition) behind the app's back: the sealed hash no longer matches
    behind_the_apps_back(EVENTS.update().where(EVENTS.c.id == ids[0]).values(at=utcnow() - timedelta(minutes=1)))
    assert where(ids[0]) == partitions.month_name(utcnow().date())
    assert verify().event_ids("edited") == [ids[0]]


def test_down_to_one_table_and_up_again_keeps_every_event(blank_app):  # noqa: F811
    """0027's downgrade puts the rows back in one plain, append-only table; the upgrade partitions them again."""
    flask_db(blank_app, "upgrade")
    if db.engine.dialect.name != "postgresql":
        return postgres_only()
    months = (datetime(2025, 1, 15, tzinfo=timezone.utc), utcnow(), FAR)
    with db.engine.begin() as conn:
        for n, moment in enumerate(months):
            conn.execute(EVENTS.insert().values(at=moment, action="view", object_type="entry", object_id=n, details={}))
        before = conn.execute(sa.select(EVENTS.c.id, EVENTS.c.at).order_by(EVENTS.c.id)).all()
    flask_db(blank_app, "downgrade", "0026")
    with db.engine.connect() as conn:
        assert not partitions.is_partitioned(conn)
        assert conn.execute(sa.select(EVENTS.c.id, EVENTS.c.at).order_by(EVENTS.c.id)).all() == before
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM audit_event")
    flask_db(blank_app, "upgrade")
    with db.engine.connect() as conn:
        assert partitions.is_partitioned(conn)
        assert conn.execute(sa.select(EVENTS.c.id, EVENTS.c.at).order_by(EVENTS.c.id)).all() == before
        placed = dict(conn.execute(sa.text("SELECT object_id, tableoid::regclass::text FROM audit_event")).all())
    # the months from the first event to three ahead have partitions; 2091 is beyond them: the default one
    assert placed == {0: "audit_event_y2025m01", 1: partitions.month_name(utcnow().date()), 2: partitions.DEFAULT}
