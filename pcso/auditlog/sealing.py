"""Sealing: add every event not yet in the tree, in id order, and write a signed checkpoint.

One sealer at a time across app servers, without any lock on the request path: on PostgreSQL the sealer takes a
transaction-level advisory lock (pg_try_advisory_xact_lock) and a second sealer, finding it taken, reports that
another sealer is running; on SQLite the write transaction (BEGIN IMMEDIATE) is the lock, and a sealer that cannot
get it within the busy timeout says the same. Inside the lock the sealer re-reads the last checkpoint, so two sealers
one after the other never seal an event twice (the primary keys and the unique event id would refuse it anyway).

Events are sealed in batches (AUDIT_SEAL_BATCH per transaction, one checkpoint each), so SQLite's write lock is held
for a fraction of a second at a time however far behind the log is.

PostgreSQL hands out ids before commit, so a transaction that took id 100 may commit after one that took 101. The
sealer leaves the newest events (AUDIT_SEAL_LAG_SECONDS, default 60 on PostgreSQL) for the next run, and stops at the
first event younger than that, so a slow transaction's event is not left behind below the sealed size (verify would
report it as inserted). SQLite gives ids out under its single write lock, in commit order, so needs no lag.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.engine import Connection

from ..extensions import db
from ..models import AuditCheckpoint, AuditLeaf
from ..timeutil import utcnow
from . import keys
from .events import EVENTS, hash_row, rows_after
from .merkle import Frontier

ADVISORY_LOCK = 0x6265_6174_6175_6474  # "beataudt": any constant every sealer agrees on
LEAVES = AuditLeaf.__table__
CHECKPOINTS = AuditCheckpoint.__table__


class TreeBroken(RuntimeError):
    """The stored tree no longer matches its last signed checkpoint: refuse to extend it (run `flask audit verify`)."""


@dataclass
class SealResult:
    busy: bool = False
    sealed: int = 0
    checkpoints: list[tuple[int, bytes]] = field(default_factory=list)  # (tree size, root)
    tree_size: int = 0
    held_back: int = 0  # events left for the next run (younger than the lag)


def lag_seconds(conn: Connection) -> float:
    configured = current_app.config.get("AUDIT_SEAL_LAG_SECONDS")
    if configured is not None:
        return float(configured)
    return 60.0 if conn.dialect.name == "postgresql" else 0.0


def _take_lock(conn: Connection) -> bool:
    if conn.dialect.name == "postgresql":
        return bool(conn.execute(sa.select(sa.func.pg_try_advisory_xact_lock(ADVISORY_LOCK))).scalar())
    return True  # SQLite: this transaction began IMMEDIATE, so it already holds the write lock


def _last_checkpoint(conn: Connection):
    return conn.execute(sa.select(CHECKPOINTS).order_by(CHECKPOINTS.c.tree_size.desc()).limit(1)).first()


def _frontier(conn: Connection, last, public_keys) -> tuple[Frontier, int | None]:
    """The tree as the last checkpoint left it, once its signature, frontier and leaf count check out."""
    highest = conn.execute(sa.select(sa.func.max(LEAVES.c.leaf_index))).scalar()
    leaf_count = 0 if highest is None else highest + 1
    if last is None:
        if leaf_count:
            raise TreeBroken(f"{leaf_count} leaves but no checkpoint")
        return Frontier(), None  # nothing sealed yet: start from the lowest id there is
    public = public_keys.get(last.key_id)
    if public is None:
        raise TreeBroken(f"checkpoint {last.tree_size} was signed with key {last.key_id}, not in the key folder")
    if not keys.is_valid(public, last.signature, last.tree_size, last.root_hash, last.signed_at):
        raise TreeBroken(f"checkpoint {last.tree_size} has a bad signature")
    frontier = Frontier.from_bytes(last.tree_size, last.frontier)
    if frontier.root() != last.root_hash:
        raise TreeBroken(f"checkpoint {last.tree_size}'s frontier does not give its root")
    if leaf_count != last.tree_size:
        raise TreeBroken(f"{leaf_count} leaves, but the last checkpoint was signed over {last.tree_size}")
    return frontier, last.last_event_id


def _after(after_id: int | None):
    return EVENTS.c.id > after_id if after_id is not None else sa.true()


def _boundary(conn: Connection, after_id: int | None) -> int | None:
    """The first event id too young to seal (None: seal them all)."""
    lag = lag_seconds(conn)
    if lag <= 0:
        return None
    cutoff = utcnow() - timedelta(seconds=lag)
    return conn.execute(sa.select(sa.func.min(EVENTS.c.id)).where(_after(after_id), EVENTS.c.at > cutoff)).scalar()


def _insert_leaves(conn: Connection, leaves: list[tuple[int, int, bytes]]) -> None:
    """One executemany straight to the driver: SQLAlchemy's per-row parameter processing was half the seal's time."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    # The table name and placeholders are this module's constants; the values go as parameters.
    conn.exec_driver_sql(f"INSERT INTO {LEAVES.name} (leaf_index, event_id, leaf_hash) VALUES ({mark}, {mark}, {mark})",  # nosec B608
                         leaves)


def _seal_batch(conn: Connection, key: keys.SigningKey, public_keys, batch: int, result: SealResult) -> int:
    frontier, last_event_id = _frontier(conn, _last_checkpoint(conn), public_keys)
    result.tree_size = frontier.size
    boundary = _boundary(conn, last_event_id)
    rows = list(rows_after(conn, last_event_id, below_id=boundary, limit=batch))
    if rows:
        start = frontier.size
        hashes = [hash_row(row) for row in rows]
        _insert_leaves(conn, [(start + i, row[0], digest) for i, (row, digest) in enumerate(zip(rows, hashes))])
        frontier.extend(hashes)
        root, signed_at = frontier.root(), utcnow()
        conn.execute(CHECKPOINTS.insert().values(
            tree_size=frontier.size, root_hash=root, frontier=frontier.to_bytes(), last_event_id=rows[-1][0],
            signed_at=signed_at, key_id=key.key_id, signature=keys.sign(key, frontier.size, root, signed_at)))
        result.checkpoints.append((frontier.size, root))
        result.tree_size = frontier.size
        last_event_id = rows[-1][0]
    result.held_back = conn.execute(sa.select(sa.func.count()).select_from(EVENTS).where(_after(last_event_id))).scalar()
    return len(rows)


def seal(*, batch: int | None = None) -> SealResult:
    """Seal everything there is to seal, a batch per transaction. Raises keys.SigningNotSetUp, TreeBroken."""
    key = keys.current_key()
    public_keys = keys.public_keys()
    public_keys.setdefault(key.key_id, key.private.public_key())
    batch = batch or int(current_app.config.get("AUDIT_SEAL_BATCH") or 10_000)
    result = SealResult()
    while True:
        try:
            with db.engine.begin() as conn:
                if not _take_lock(conn):
                    result.busy = True
                    return result
                done = _seal_batch(conn, key, public_keys, batch, result)
        except sa.exc.OperationalError as error:
            if "locked" not in str(error.orig):
                raise
            result.busy = True
            return result
        result.sealed += done
        if done < batch:
            return result
