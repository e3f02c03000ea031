"""audit_event by month on PostgreSQL: declarative range partitions on `at` (UTC months), and a default one.

Migration 0027 turns the table into a partitioned one (`partition()`, and back with `unpartition()`); after
that `flask audit partitions` (or the `audit_partitions` job) makes the coming months' partitions ahead of
time. The default partition takes any event no monthly partition covers, so an insert never fails for want
of one; a month whose events already sit in the default partition is left there (moving them would mean
deleting audit rows, which the table refuses) and reported.

The audit log stays what pcso/auditlog/protection.py makes it: the row trigger that refuses UPDATE and DELETE is
defined on the parent, so PostgreSQL clones it onto every partition, present and future; TRUNCATE triggers
are per table, so each partition gets its own; the app's role (when it exists) holds SELECT and INSERT on each
partition as on the parent. The primary key is (id, at), as PostgreSQL requires the partition key in it; ids
still come from the one sequence. Indexes made on the parent are made on every partition. SQLite: nothing here
applies (is_partitioned() is False).
"""
from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import protection

TABLE = "audit_event"
DEFAULT = f"{TABLE}_default"
OLD = f"{TABLE}_unpartitioned"
PARTITION_NAME = re.compile(rf"^{TABLE}_(y\d{{4}}m\d{{2}}|default)$")
INDEXES = (  # (name, definition) as on the unpartitioned table (models/audit.py, migration 0017)
    ("ix_audit_event_at", "(at)"),
    ("ix_audit_event_object", "(object_type, object_id)"),
    ("ix_audit_event_actor_at", "(actor_id, at)"),
    ("ix_audit_event_details_gin", "USING gin ((details::jsonb) jsonb_path_ops)"),
)


def is_partition_name(name: str | None) -> bool:
    """A partition's table name (Alembic's include_name hook leaves them out of the model comparison)."""
    return bool(name) and bool(PARTITION_NAME.match(name))


def month_name(month: date) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


def add_month(month: date, n: int = 1) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def is_partitioned(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    return bool(conn.execute(sa.text("SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
                                     "WHERE c.relname = :t AND c.relnamespace = current_schema()::regnamespace"),
                             {"t": TABLE}).first())


def partitions(conn: Connection) -> list[str]:
    """The names of audit_event's partitions, oldest month first, the default last."""
    names = conn.execute(sa.text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :t AND p.relnamespace = current_schema()::regnamespace"),
        {"t": TABLE}).scalars().all()
    return sorted(names, key=lambda n: (n == DEFAULT, n))


def _protect(conn: Connection, name: str, app_role: str | None) -> None:
    """A partition's own TRUNCATE trigger (row triggers come from the parent) and the app role's grants."""
    conn.exec_driver_sql(f"CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name} "
                         f"FOR EACH STATEMENT EXECUTE FUNCTION {protection.FUNCTION}()")
    if app_role and _role_exists(conn, app_role):
        conn.exec_driver_sql(f"REVOKE ALL ON {name} FROM {app_role}")
        conn.exec_driver_sql(f"GRANT SELECT, INSERT ON {name} TO {app_role}")


def _role_exists(conn: Connection, role: str) -> bool:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"not a plain PostgreSQL role name: {role!r}")
    return bool(conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first())


def create_month(conn: Connection, month: date, app_role: str | None = protection.DEFAULT_APP_ROLE) -> str | None:
    """The partition for `month` (any day in it), unless it exists. Returns its name if made; None if it
    existed, or if the default partition already holds events of that month (they stay there)."""
    month = month.replace(day=1)
    name = month_name(month)
    if name in partitions(conn):
        return None
    start, end = month.isoformat() + " 00:00:00+00", add_month(month).isoformat() + " 00:00:00+00"
    # table names here are this module's constants, never input (as in every statement below)
    if DEFAULT in partitions(conn) and conn.execute(sa.text(
            f"SELECT 1 FROM {DEFAULT} WHERE at >= CAST(:a AS timestamptz) AND at < CAST(:b AS timestamptz) LIMIT 1"),  # nosec B608
            {"a": start, "b": end}).first():
        return None
    conn.exec_driver_sql(f"CREATE TABLE {name} PARTITION OF {TABLE} FOR VALUES FROM ('{start}') TO ('{end}')")
    _protect(conn, name, app_role)
    return name


def ensure_ahead(conn: Connection, today: date, months: int = 3,
                 app_role: str | None = protection.DEFAULT_APP_ROLE) -> tuple[list[str], list[date]]:
    """This month's partition and the next `months` months'. Returns (made, skipped: months left in default)."""
    made, skipped = [], []
    for n in range(months + 1):
        month = add_month(today.replace(day=1), n)
        if month_name(month) in partitions(conn):
            continue
        name = create_month(conn, month, app_role)
        (made.append(name) if name else skipped.append(month))
    return made, skipped


def partition(conn: Connection, today: date, months_ahead: int = 3,
              app_role: str | None = protection.DEFAULT_APP_ROLE) -> None:
    """Make audit_event a partitioned table, its rows copied into monthly partitions (migration 0027)."""
    conn.exec_driver_sql(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    for suffix in ("append_only", "no_truncate"):
        conn.exec_driver_sql(f"ALTER TRIGGER {TABLE}_{suffix} ON {OLD} RENAME TO {OLD}_{suffix}")
    for name, _ in INDEXES:
        conn.exec_driver_sql(f"ALTER INDEX IF EXISTS {name} RENAME TO {name}_old")
    conn.exec_driver_sql(f"ALTER TABLE {OLD} RENAME CONSTRAINT pk_{TABLE} TO pk_{OLD}")
    conn.exec_driver_sql(f"ALTER TABLE {OLD} RENAME CONSTRAINT fk_{TABLE}_actor_id_user TO fk_{OLD}_actor_id_user")
    conn.exec_driver_sql(f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
                         f"PARTITION BY RANGE (at)")
    conn.exec_driver_sql(f"ALTER TABLE {TABLE} ADD CONSTRAINT pk_{TABLE} PRIMARY KEY (id, at)")
    conn.exec_driver_sql(f'ALTER TABLE {TABLE} ADD CONSTRAINT fk_{TABLE}_actor_id_user FOREIGN KEY (actor_id) '
                         f'REFERENCES "user" (id)')
    for name, definition in INDEXES:
        conn.exec_driver_sql(f"CREATE INDEX {name} ON {TABLE} {definition}")
    conn.exec_driver_sql(f"ALTER SEQUENCE {TABLE}_id_seq OWNED BY {TABLE}.id")
    for sql in protection.pg_triggers(TABLE):
        conn.exec_driver_sql(sql)
    conn.exec_driver_sql(f"CREATE TABLE {DEFAULT} PARTITION OF {TABLE} DEFAULT")
    _protect(conn, DEFAULT, app_role)
    first = conn.execute(sa.text(f"SELECT date_trunc('month', min(at) AT TIME ZONE 'UTC')::date FROM {OLD}")  # nosec B608
                         ).scalar()
    month = (first or today).replace(day=1)
    while month <= add_month(today.replace(day=1), months_ahead):
        create_month(conn, month, app_role)
        month = add_month(month)
    conn.exec_driver_sql(f"INSERT INTO {TABLE} SELECT * FROM {OLD}")  # nosec B608 (constants, as above)
    conn.exec_driver_sql(f"DROP TABLE {OLD}")
    if app_role and _role_exists(conn, app_role):
        conn.exec_driver_sql(f"REVOKE ALL ON {TABLE} FROM {app_role}")
        conn.exec_driver_sql(f"GRANT SELECT, INSERT ON {TABLE} TO {app_role}")


def unpartition(conn: Connection, app_role: str | None = protection.DEFAULT_APP_ROLE) -> None:
    """Back to one plain table with the same rows, keys, indexes, triggers and grants (0027's downgrade)."""
    conn.exec_driver_sql(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    conn.exec_driver_sql(f"ALTER TABLE {OLD} RENAME CONSTRAINT pk_{TABLE} TO pk_{OLD}")
    conn.exec_driver_sql(f"ALTER TABLE {OLD} RENAME CONSTRAINT fk_{TABLE}_actor_id_user TO fk_{OLD}_actor_id_user")
    for name, _ in INDEXES:
        conn.exec_driver_sql(f"ALTER INDEX IF EXISTS {name} RENAME TO {name}_old")
    conn.exec_driver_sql(f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    conn.exec_driver_sql(f"ALTER TABLE {TABLE} ADD CONSTRAINT pk_{TABLE} PRIMARY KEY (id)")
    conn.exec_driver_sql(f'ALTER TABLE {TABLE} ADD CONSTRAINT fk_{TABLE}_actor_id_user FOREIGN KEY (actor_id) '
                         f'REFERENCES "user" (id)')
    conn.exec_driver_sql(f"INSERT INTO {TABLE} SELECT * FROM {OLD} ORDER BY id")  # nosec B608 (constants)
    for name, definition in INDEXES:
        conn.exec_driver_sql(f"CREATE INDEX {name} ON {TABLE} {definition}")
    conn.exec_driver_sql(f"ALTER SEQUENCE {TABLE}_id_seq OWNED BY {TABLE}.id")
    conn.exec_driver_sql(f"DROP TABLE {OLD} CASCADE")  # and its partitions
    for sql in protection.pg_triggers(TABLE):
        conn.exec_driver_sql(sql)
    if app_role and _role_exists(conn, app_role):
        conn.exec_driver_sql(f"REVOKE ALL ON {TABLE} FROM {app_role}")
        conn.exec_driver_sql(f"GRANT SELECT, INSERT ON {TABLE} TO {app_role}")
