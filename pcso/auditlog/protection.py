"""The audit tables are append-only: the triggers that refuse UPDATE, DELETE (and TRUNCATE), in one place.

Migration 0011 installs them through install(); nothing in the application removes them. On PostgreSQL the app's
role should in any case hold only INSERT and SELECT on these tables (grant_app_role(), docs/DEPLOY.md), so the
triggers also stop the owner's mistakes; neither stops a determined owner or superuser (ALTER TABLE ... DISABLE
TRIGGER, session_replication_role), which is what the Merkle log and its witness are for.

maintenance() is the one way round, for the test suite's teardown only (tests/conftest.py empties every table after
each test). It lasts for one transaction: on PostgreSQL the trigger function lets the statement through while
`beatbook.audit_maintenance` is 'on', set with SET LOCAL (an app role without UPDATE/DELETE rights gains nothing
from setting it); on SQLite, whose triggers cannot read a setting, the triggers are dropped and made again inside
the caller's transaction, so they come back even if it is rolled back. tests/test_architecture.py checks that no
module of the application calls it.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection

TABLES = ("audit_event", "audit_leaf", "audit_checkpoint")
FUNCTION = "beatbook_audit_append_only"
MAINTENANCE_SETTING = "beatbook.audit_maintenance"
DEFAULT_APP_ROLE = "beatbook_app"

_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('{MAINTENANCE_SETTING}', true) = 'on' THEN
        IF TG_LEVEL = 'STATEMENT' THEN
            RETURN NULL;
        ELSIF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'audit rows are never changed or removed (docs/SECURITY.md, tamper evidence)';
END
$$"""


def sqlite_trigger_names() -> set[str]:
    return {f"{table}_no_{verb}" for table in TABLES for verb in ("update", "delete")}


def _sqlite_create(table: str) -> list[str]:
    return [f"CREATE TRIGGER {table}_no_{verb} BEFORE {verb.upper()} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb.upper()} refused'); END"
            for verb in ("update", "delete")]


def _pg_create(table: str) -> list[str]:
    return [f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"]


def pg_triggers(table: str) -> list[str]:
    """PostgreSQL: the statements that make `table` append-only (pcso/auditlog/partitions.py re-makes them)."""
    return _pg_create(table)


def install(conn: Connection) -> None:
    """Make the audit tables append-only (migration 0011)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text(_PG_FUNCTION))  # text(): the driver sees RAISE's % placeholders escaped
        statements = [sql for table in TABLES for sql in _pg_create(table)]
    else:
        statements = [sql for table in TABLES for sql in _sqlite_create(table)]
    for sql in statements:
        conn.exec_driver_sql(sql)


def uninstall(conn: Connection) -> None:
    """Drop the triggers (the migration's downgrade)."""
    if conn.dialect.name == "postgresql":
        for table in TABLES:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    else:
        for name in sorted(sqlite_trigger_names()):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


@contextmanager
def maintenance(conn: Connection) -> Iterator[None]:
    """FOR THE TEST SUITE'S TEARDOWN ONLY: let UPDATE/DELETE through on the audit tables within this transaction."""
    if not conn.in_transaction():
        raise RuntimeError("audit maintenance must run inside a transaction")
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL {MAINTENANCE_SETTING} = 'on'")
        yield  # on an error the transaction rolls back, and SET LOCAL with it
        conn.exec_driver_sql(f"SET LOCAL {MAINTENANCE_SETTING} = 'off'")
    else:
        for name in sorted(sqlite_trigger_names()):
            conn.exec_driver_sql(f"DROP TRIGGER {name}")
        yield
        for table in TABLES:
            for sql in _sqlite_create(table):
                conn.exec_driver_sql(sql)


def app_role() -> str:
    """The app's PostgreSQL role (BEATBOOK_APP_ROLE, default beatbook_app; docs/DEPLOY.md)."""
    return os.environ.get("BEATBOOK_APP_ROLE", DEFAULT_APP_ROLE)


def grant_app_role(conn: Connection, role: str = DEFAULT_APP_ROLE) -> bool:
    """PostgreSQL: the app's role may INSERT and SELECT the audit tables and nothing else. False (and nothing done)
    on SQLite or when the role does not exist, so migrating a development database is unaffected."""
    if conn.dialect.name != "postgresql":
        return False
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"not a plain PostgreSQL role name: {role!r}")
    exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}).first()
    if not exists:
        return False
    tables = ", ".join(TABLES)
    conn.exec_driver_sql(f"REVOKE ALL ON {tables} FROM {role}")
    conn.exec_driver_sql(f"GRANT SELECT, INSERT ON {tables} TO {role}")
    conn.exec_driver_sql(f"GRANT USAGE, SELECT ON SEQUENCE audit_event_id_seq TO {role}")
    return True
