"""Verify the audit log: recompute every leaf from its row, the tree, and each checkpoint's root and signature.

One pass over the leaves (in tree order) merged with one pass over the events (in id order), both read in keyset
batches inside one read-only snapshot, so memory stays flat and the time is linear in the log's size. Findings name
events by id:

- edited: the event's row no longer gives the leaf hash sealed for it;
- deleted: a sealed event's row is gone;
- inserted: an event that is not in the tree although its id is below the last sealed event's;
- reordered: a row that holds what was sealed under another event's id (contents swapped or moved);
- leaves / checkpoint: leaves missing, out of order or changed (the stored leaves no longer give a signed root),
  a checkpoint with a bad or unknown signature;
- witness: the database disagrees with a checkpoint copied elsewhere (the checkpoint table rewritten, or the log
  cut short), which only a witness file can show.

Events newer than the last seal are counted as not yet sealed, not reported.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..database import reads_only
from ..extensions import db
from . import keys, witness
from .events import hash_row, rows_after
from .merkle import EMPTY_ROOT, Frontier
from .sealing import CHECKPOINTS, LEAVES

MAX_PAIRINGS = 2_000_000  # reorder analysis: (suspect rows) x (unmatched leaves) hashes at most
KINDS = ("edited", "deleted", "inserted", "reordered", "leaves", "checkpoint", "witness")


@dataclass
class Finding:
    kind: str
    message: str
    event_id: int | None = None

    def __str__(self) -> str:
        return f"{self.kind.upper()}: {self.message}"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    tree_size: int = 0
    last_sealed_id: int | None = None
    checkpoints: list = field(default_factory=list)
    unsealed: int = 0
    witnessed: int = 0

    @property
    def clean(self) -> bool:
        return not self.findings

    def event_ids(self, kind: str) -> list[int]:
        return sorted(f.event_id for f in self.findings if f.kind == kind and f.event_id is not None)

    def add(self, kind: str, message: str, event_id: int | None = None) -> None:
        self.findings.append(Finding(kind, message, event_id))

    def sort(self) -> None:
        self.findings.sort(key=lambda f: (KINDS.index(f.kind), f.event_id if f.event_id is not None else -1))


@contextmanager
def read_only_snapshot() -> Iterator[Connection]:
    """One consistent snapshot that takes no write lock (SQLite: a deferred transaction under WAL)."""
    with reads_only(), db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def _leaves(conn: Connection, batch: int = 10_000):
    after = None
    while True:
        query = sa.select(LEAVES.c.leaf_index, LEAVES.c.event_id, LEAVES.c.leaf_hash).order_by(LEAVES.c.leaf_index)
        if after is not None:
            query = query.where(LEAVES.c.leaf_index > after)
        rows = conn.execute(query.limit(batch)).all()
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1][0]


@dataclass
class _Pass:
    """What the merged pass over leaves and events found, before the findings are worded."""
    sizes: set[int]
    frontier: Frontier = field(default_factory=Frontier)
    roots: dict[int, bytes] = field(default_factory=dict)
    frontiers: dict[int, bytes] = field(default_factory=dict)
    last_ids: dict[int, int] = field(default_factory=dict)
    edited: dict[int, tuple] = field(default_factory=dict)  # event id -> (row, leaf index, leaf hash)
    deleted: dict[int, tuple] = field(default_factory=dict)  # event id -> (leaf index, leaf hash)
    inserted: dict[int, sa.Row] = field(default_factory=dict)
    last_sealed_id: int | None = None
    unsealed: int = 0


def _merge(conn: Connection, report: Report, state: _Pass) -> None:
    if 0 in state.sizes:
        state.roots[0], state.frontiers[0] = EMPTY_ROOT, b""
    events = rows_after(conn, None)
    pending = next(events, None)
    for index, event_id, digest in _leaves(conn):
        if index != state.frontier.size:
            report.add("leaves", f"leaf positions {state.frontier.size}..{index - 1} are missing from audit_leaf")
        if state.last_sealed_id is not None and event_id <= state.last_sealed_id:
            report.add("reordered", f"event {event_id}: sealed as leaf {index}, after event {state.last_sealed_id}"
                       " (the leaves are out of order)", event_id)
        else:
            while pending is not None and pending[0] < event_id:
                state.inserted[pending[0]] = pending
                pending = next(events, None)
            if pending is not None and pending[0] == event_id:
                if hash_row(pending) != digest:
                    state.edited[event_id] = (pending, index, digest)
                pending = next(events, None)
            else:
                state.deleted[event_id] = (index, digest)
            state.last_sealed_id = event_id
        state.frontier.append(digest)
        if state.frontier.size in state.sizes:
            size = state.frontier.size
            state.roots[size], state.frontiers[size] = state.frontier.root(), state.frontier.to_bytes()
            state.last_ids[size] = event_id
    while pending is not None:
        if state.last_sealed_id is not None and pending[0] < state.last_sealed_id:
            state.inserted[pending[0]] = pending
        else:
            state.unsealed += 1
        pending = next(events, None)


def _reorders(report: Report, state: _Pass) -> None:
    """A suspect row (edited or inserted) that hashes, under another sealed id, to that id's leaf holds its contents."""
    suspects = [row for row, _, _ in state.edited.values()] + list(state.inserted.values())
    targets = {eid: digest for eid, (_, _, digest) in state.edited.items()}
    targets.update({eid: digest for eid, (_, digest) in state.deleted.items()})
    if len(suspects) * len(targets) > MAX_PAIRINGS:
        report.add("reordered", f"{len(suspects)} changed rows x {len(targets)} unmatched leaves: too many to pair up;"
                   " they are reported as edited, deleted and inserted")
        return
    moved: dict[int, int] = {}
    for row in suspects:
        for sealed_id, digest in targets.items():
            if sealed_id != row[0] and hash_row(row, as_id=sealed_id) == digest:
                moved[row[0]] = sealed_id
                break
    for row_id, sealed_id in moved.items():
        gone = " (its own row is gone)" if sealed_id in state.deleted else ""
        report.add("reordered", f"event {row_id}: holds what was sealed as event {sealed_id}{gone}", row_id)
        state.edited.pop(row_id, None)
        state.inserted.pop(row_id, None)
        state.deleted.pop(sealed_id, None)


def _event_findings(report: Report, state: _Pass) -> None:
    for event_id, (_, index, _) in state.edited.items():
        report.add("edited", f"event {event_id}: its row has changed since it was sealed (leaf {index})", event_id)
    for event_id, (index, _) in state.deleted.items():
        report.add("deleted", f"event {event_id}: sealed as leaf {index}, its row is gone from audit_event", event_id)
    for event_id in state.inserted:
        report.add("inserted", f"event {event_id}: not in the tree, yet its id is below the last sealed event "
                   f"({state.last_sealed_id}): added after sealing", event_id)


def _checkpoint_findings(report: Report, state: _Pass, public: dict) -> None:
    leaves = state.frontier.size
    good = 0  # the largest size whose root still matches
    for checkpoint in report.checkpoints:
        size = checkpoint.tree_size
        key = public.get(checkpoint.key_id)
        if key is None:
            report.add("checkpoint", f"checkpoint {size}: signed with key {checkpoint.key_id}, not in the key folder")
        elif not keys.is_valid(key, checkpoint.signature, size, checkpoint.root_hash, checkpoint.signed_at):
            report.add("checkpoint", f"checkpoint {size}: bad signature (key {checkpoint.key_id})")
        if size > leaves:
            report.add("leaves", f"checkpoint {size}: the tree has only {leaves} leaves (leaves removed)")
        elif state.roots[size] != checkpoint.root_hash:
            report.add("leaves", f"checkpoint {size}: the stored leaves no longer give its root; a leaf in positions "
                       f"{good}..{size - 1} was changed")
        else:
            good = size
            if state.frontiers[size] != checkpoint.frontier or state.last_ids[size] != checkpoint.last_event_id:
                report.add("checkpoint", f"checkpoint {size}: its frontier or last event id does not match the leaves")
    latest = report.checkpoints[-1].tree_size if report.checkpoints else 0
    if leaves > latest:
        report.add("leaves", f"leaf positions {latest}..{leaves - 1} are not covered by any checkpoint")


def _witness_findings(report: Report, state: _Pass, public: dict, path: Path) -> None:
    seen, problems = witness.read(path)
    report.witnessed = len(seen)
    for problem in problems:
        report.add("witness", f"{path.name}: {problem}")
    stored = {checkpoint.tree_size: checkpoint for checkpoint in report.checkpoints}
    for line in seen:
        where = f"{path.name} line {line.line} (size {line.tree_size})"
        key = public.get(line.key_id)
        if key is None or not keys.is_valid(key, line.signature, line.tree_size, line.root_hash, line.signed_at):
            report.add("witness", f"{where}: its signature does not verify with any key in the key folder")
        ours = stored.get(line.tree_size)
        if ours is None:
            report.add("witness", f"{where}: the database has no checkpoint of this size (the checkpoint table was "
                       "rewritten or cut short)")
        elif (ours.root_hash, ours.signature) != (line.root_hash, line.signature):
            report.add("witness", f"{where}: the database's checkpoint differs from the witness's copy (rewritten)")
        if line.tree_size > state.frontier.size:
            report.add("witness", f"{where}: the tree has only {state.frontier.size} leaves (cut short)")
        elif state.roots[line.tree_size] != line.root_hash:
            report.add("witness", f"{where}: the stored leaves no longer give the root the witness saw")


def verify(witness_path: Path | None = None) -> Report:
    public = keys.public_keys()
    report = Report()
    with read_only_snapshot() as conn:
        report.checkpoints = conn.execute(sa.select(CHECKPOINTS).order_by(CHECKPOINTS.c.tree_size)).all()
        sizes = {checkpoint.tree_size for checkpoint in report.checkpoints}
        if witness_path is not None:
            sizes |= {line.tree_size for line in witness.read(witness_path)[0]}
        state = _Pass(sizes=sizes)
        _merge(conn, report, state)
    _reorders(report, state)
    _event_findings(report, state)
    _checkpoint_findings(report, state, public)
    if witness_path is not None:
        _witness_findings(report, state, public, witness_path)
    report.tree_size, report.last_sealed_id, report.unsealed = state.frontier.size, state.last_sealed_id, state.unsealed
    report.sort()
    return report
