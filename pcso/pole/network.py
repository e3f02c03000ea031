"""The associates network of a POLE record, to two steps, through the entries the viewer may open.

Nodes are people, vehicles, locations and organisations; an edge joins two records linked to the same
entry, and carries those entries (id, kind, date, each end's roles). Only entries passing
access.visible_entries(viewer) are read, so a welfare check's links (its child, the child's associates)
are never used for a viewer who may not open the check; only Entry's common columns are read (kind, date),
never a kind's own fields (an intelligence report's source is not in reach).

The walk, a fixed number of queries whatever the data:
  1. the root's visible entries in the time window, newest first (at most ROOT_ENTRIES);
  2. every link on them: the first step's records, the most-linked first (at most FIRST_STEP);
  3. the first-step records' own visible entries, newest first (at most PER_RECORD each, one query ranked
     by a window function over the link indexes);
  4. every link on those: the second step's records, ranked by how many entries they share with the
     first step, until NODES records in all; edges between any two records kept, strongest first (EDGES).
What was cut is said (Network.limits), never hidden.

The role filter keeps only links in that role, on every record but the root (whose own role in an entry
is shown, not filtered): "suspects around this person". Dates are Europe/London days, inclusive.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from ..access import visible_entries
from ..extensions import db
from ..models import Entry, EntryKind, Link, LinkRole, Location, Organisation, Person, User, Vehicle
from ..timeutil import from_london

ROOT_ENTRIES = 200
FIRST_STEP = 25
PER_RECORD = 25
NODES = 60  # the root included
EDGES = 150
EDGE_ENTRIES = 20  # entries listed on one edge (its count says how many there are)

KINDS = {"person": Person, "vehicle": Vehicle, "location": Location, "organisation": Organisation}
TARGETS = tuple(f"{kind}_id" for kind in KINDS)

Key = tuple[str, int]  # ("person", 12)


class NetworkFilterError(ValueError):
    """A filter that can't be used: the message says which and why."""


@dataclass(frozen=True)
class NetworkFilter:
    from_on: date | None = None
    to_on: date | None = None
    role: LinkRole | None = None

    @classmethod
    def from_args(cls, args) -> NetworkFilter:
        def day(name: str, label: str) -> date | None:
            text = (args.get(name) or "").strip()
            if not text:
                return None
            try:
                return date.fromisoformat(text)
            except ValueError:
                raise NetworkFilterError(f"{label} must be a date like 2026-03-31.") from None

        from_on, to_on = day("from", "From"), day("to", "To")
        if from_on and to_on and from_on > to_on:
            raise NetworkFilterError("From must be on or before To.")
        role_text = (args.get("role") or "").strip()
        if role_text and role_text not in {role.value for role in LinkRole}:
            raise NetworkFilterError("Role must be one of: " + ", ".join(role.value for role in LinkRole) + ".")
        return cls(from_on, to_on, LinkRole(role_text) if role_text else None)

    def as_args(self) -> dict[str, str]:
        values = {"from": self.from_on and self.from_on.isoformat(), "to": self.to_on and self.to_on.isoformat(),
                  "role": self.role and self.role.value}
        return {name: value for name, value in values.items() if value}

    def entry_clauses(self) -> list[sa.ColumnElement[bool]]:
        clauses = []
        if self.from_on:
            clauses.append(Entry.occurred_at >= from_london(datetime.combine(self.from_on, datetime.min.time())))
        if self.to_on:
            clauses.append(Entry.occurred_at < from_london(datetime.combine(self.to_on + timedelta(days=1),
                                                                            datetime.min.time())))
        return clauses


@dataclass
class EdgeEntry:
    id: int
    kind: EntryKind
    occurred_at: datetime
    roles: dict[Key, list[LinkRole]]  # each end's roles in this entry


@dataclass
class Edge:
    source: Key
    target: Key
    entry_ids: set[int] = field(default_factory=set)
    entries: list[EdgeEntry] = field(default_factory=list)  # newest first, at most EDGE_ENTRIES

    @property
    def count(self) -> int:
        return len(self.entry_ids)


@dataclass
class Node:
    key: Key
    record: object
    step: int  # 0 the root, 1 linked to it through an entry, 2 linked to one of those


@dataclass
class Network:
    root: Node
    nodes: list[Node]
    edges: list[Edge]
    filters: NetworkFilter
    limits: list[str]  # what was cut, in words, for the page and the JSON

    @property
    def is_capped(self) -> bool:
        return bool(self.limits)

    def entry_ids(self) -> list[int]:
        return sorted({item.id for edge in self.edges for item in edge.entries})

    def edges_of(self, key: Key) -> list[Edge]:
        return [edge for edge in self.edges if key in (edge.source, edge.target)]


def key_of(record) -> Key:
    return (type(record).__tablename__, record.id)


def _link_key(row) -> Key:
    return next((kind, getattr(row, column)) for kind, column in zip(KINDS, TARGETS) if getattr(row, column) is not None)


def _links_on(entry_ids: set[int]) -> list:
    """Every link on these entries, with the entry's kind and time: (entry_id, person_id, ..., role, kind, at).
    Asked even for no entries, as _records asks for every kind: a profile's count of queries is fixed."""
    return db.session.execute(
        sa.select(Link.entry_id, *(getattr(Link, column) for column in TARGETS), Link.role, Entry.kind,
                  Entry.occurred_at)
        .join(Entry, Entry.id == Link.entry_id).where(Link.entry_id.in_(sorted(entry_ids)))
        .order_by(Link.entry_id, Link.position, Link.id)).all()


def _root_entries(user: User, root_key: Key, filters: NetworkFilter) -> tuple[set[int], bool]:
    column = getattr(Link, f"{root_key[0]}_id")
    rows = db.session.execute(
        sa.select(Entry.id, Entry.occurred_at).join(Link, Link.entry_id == Entry.id)
        .where(column == root_key[1], visible_entries(user), *filters.entry_clauses()).distinct()
        .order_by(Entry.occurred_at.desc(), Entry.id.desc()).limit(ROOT_ENTRIES + 1)).all()
    return {row.id for row in rows[:ROOT_ENTRIES]}, len(rows) > ROOT_ENTRIES


def _entries_of(user: User, keys: list[Key], filters: NetworkFilter, skip: set[int]) -> tuple[set[int], bool]:
    """The newest PER_RECORD visible entries of each record (in the role, if filtered), besides `skip`.

    One query: the records' links (their indexes), ranked per record by a window function. A link has exactly
    one target, so the four target columns together name its record."""
    if not keys:
        return set(), False
    by_kind: dict[str, list[int]] = defaultdict(list)
    for kind, record_id in keys:
        by_kind[kind].append(record_id)
    targets = [getattr(Link, column) for column in TARGETS]
    role = (Link.role == filters.role,) if filters.role else ()
    pairs = (sa.select(*targets, Entry.id.label("entry_id"), Entry.occurred_at)
             .join(Link, Link.entry_id == Entry.id)
             .where(sa.or_(*(getattr(Link, f"{kind}_id").in_(sorted(ids)) for kind, ids in by_kind.items())),
                    visible_entries(user), *role, *filters.entry_clauses())
             .distinct().subquery())
    rank = sa.func.row_number().over(partition_by=[pairs.c[column] for column in TARGETS],
                                     order_by=(pairs.c.occurred_at.desc(), pairs.c.entry_id.desc()))
    ranked = sa.select(pairs.c.entry_id, rank.label("rank")).subquery()
    rows = db.session.execute(sa.select(ranked.c.entry_id, ranked.c.rank).where(ranked.c.rank <= PER_RECORD + 1)).all()
    capped = any(row.rank > PER_RECORD for row in rows)
    return {row.entry_id for row in rows if row.rank <= PER_RECORD} - skip, capped


class _Links:
    """Links on the fetched entries, grouped by entry: who is on each, in which roles."""

    def __init__(self, root: Key, role: LinkRole | None):
        self.root, self.role = root, role
        self.on: dict[int, dict[Key, list[LinkRole]]] = defaultdict(dict)
        self.meta: dict[int, tuple[EntryKind, datetime]] = {}

    def add(self, rows) -> None:
        for row in rows:
            key, role = _link_key(row), LinkRole(row.role)
            if self.role is not None and key != self.root and role != self.role:
                continue
            roles = self.on[row.entry_id].setdefault(key, [])
            if role not in roles:
                roles.append(role)
            self.meta[row.entry_id] = (EntryKind(row.kind), row.occurred_at)

    def around(self, keys: set[Key], entry_ids) -> Counter:
        """Other records on entries that have one of `keys`: how many such entries each shares."""
        counts: Counter = Counter()
        for entry_id in entry_ids:
            present = self.on.get(entry_id, {})
            if keys & present.keys():
                counts.update(key for key in present if key not in keys)
        return counts


def _ranked(counts: Counter, limit: int) -> list[Key]:
    return [key for key, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]]


def build_network(user: User, root, filters: NetworkFilter = NetworkFilter()) -> Network:
    """The root's network as the viewer may see it (the caller has checked the viewer may see the root)."""
    root_key = key_of(root)
    limits: list[str] = []
    links = _Links(root_key, filters.role)
    first_entries, capped = _root_entries(user, root_key, filters)
    if capped:
        limits.append(f"Only the {ROOT_ENTRIES} most recent entries of this record were followed.")
    links.add(_links_on(first_entries))
    around_root = links.around({root_key}, first_entries)
    first = _ranked(around_root, FIRST_STEP)
    if len(around_root) > FIRST_STEP:
        limits.append(f"Only the {FIRST_STEP} records most often with this one (of {len(around_root)}) were followed.")
    second_entries, capped = _entries_of(user, first, filters, first_entries)
    if capped:
        limits.append(f"Only the {PER_RECORD} most recent entries of each linked record were followed.")
    links.add(_links_on(second_entries))
    chosen = {root_key, *first}
    around_first = links.around(set(first), second_entries | first_entries)
    for key in list(around_first):
        if key in chosen or key in around_root:  # one cut from the first step is not two steps away
            del around_first[key]
    room = NODES - len(chosen)
    second = _ranked(around_first, room)
    if len(around_first) > room:
        limits.append(f"Only {NODES} records are drawn: {len(around_first) - room} more two steps away are left out.")
    chosen.update(second)
    edges = _edges(links, chosen)
    if len(edges) > EDGES:
        limits.append(f"Only the {EDGES} strongest of {len(edges)} connections are drawn.")
        edges = edges[:EDGES]
    steps = {root_key: 0, **{key: 1 for key in first}, **{key: 2 for key in second}}
    joined = {key for edge in edges for key in (edge.source, edge.target)} | {root_key}
    records = _records(joined)
    nodes = [Node(key, records[key], steps[key]) for key in sorted(joined, key=lambda k: (steps[k], k))
             if key in records]
    return Network(root=nodes[0], nodes=nodes, edges=edges, filters=filters, limits=limits)


def _edges(links: _Links, chosen: set[Key]) -> list[Edge]:
    edges: dict[tuple[Key, Key], Edge] = {}
    for entry_id, present in links.on.items():
        keys = sorted(key for key in present if key in chosen)
        for i, one in enumerate(keys):
            for other in keys[i + 1:]:
                edges.setdefault((one, other), Edge(one, other)).entry_ids.add(entry_id)
    ordered = sorted(edges.values(), key=lambda e: (-e.count, e.source, e.target))
    for edge in ordered:
        newest = sorted(edge.entry_ids, key=lambda i: (links.meta[i][1], i), reverse=True)[:EDGE_ENTRIES]
        edge.entries = [EdgeEntry(i, *links.meta[i], roles={key: links.on[i][key] for key in (edge.source, edge.target)})
                        for i in newest]
    return ordered


def _records(keys: set[Key]) -> dict[Key, object]:
    by_kind: dict[str, list[int]] = defaultdict(list)
    for kind, record_id in keys:
        by_kind[kind].append(record_id)
    found = {}
    for kind, model in KINDS.items():
        ids = by_kind.get(kind, [])
        found.update({(kind, r.id): r for r in db.session.scalars(sa.select(model).where(model.id.in_(sorted(ids))))})
    return found
