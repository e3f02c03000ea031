"""POLE records a search finds: people and vehicles, only through links into entries the user may see."""
from __future__ import annotations

import re
from collections import defaultdict

import sqlalchemy as sa

from ..access import visible_entries
from ..extensions import db
from ..models import Entry, Link, LinkRole, Person, User, Vehicle, name_key, normalise_vrm
from .query import POLE_LIMIT, SearchQuery
from .statements import people_named, vehicles_like

CANDIDATE_BATCH = 200
MAX_CANDIDATES = 2_000


def _visible_records(user: User, model, candidates: sa.Select, order) -> tuple[list, bool]:
    """Records among `candidates` linked to an entry the user may see, in `order`, at most POLE_LIMIT.

    Two steps, so no planner can decide to join every visible link in the force first: the matching
    records (a trigram index), then a batch at a time, which of them a visible entry links
    (access.visible_entries on the entry, the same rule as its page).
    """
    column = getattr(Link, f"{model.__tablename__}_id")
    ids = list(db.session.scalars(sa.select(model.id).where(model.id.in_(candidates)).order_by(*order)
                                  .limit(MAX_CANDIDATES + 1)))
    seen: list[int] = []
    for start in range(0, min(len(ids), MAX_CANDIDATES), CANDIDATE_BATCH):
        batch = ids[start:start + CANDIDATE_BATCH]
        links = db.session.execute(sa.select(column, Link.entry_id).where(column.in_(batch))).all()
        entry_ids = {entry_id for _, entry_id in links}
        visible = set(db.session.scalars(sa.select(Entry.id).where(Entry.id.in_(entry_ids), visible_entries(user)))
                      ) if entry_ids else set()
        linked = {record_id for record_id, entry_id in links if entry_id in visible}
        seen += [record_id for record_id in batch if record_id in linked]
        if len(seen) > POLE_LIMIT:
            break
    more = len(seen) > POLE_LIMIT or len(ids) > MAX_CANDIDATES
    records = {r.id: r for r in db.session.scalars(sa.select(model).where(model.id.in_(seen[:POLE_LIMIT])))}
    return [records[i] for i in seen[:POLE_LIMIT]], more


def matching_people(user: User, query: SearchQuery) -> tuple[list[Person], bool]:
    key = query.person_key or (name_key(query.text) if query.has_text else "")
    if len(key) < 2:
        return [], False
    return _visible_records(user, Person, people_named(key), (Person.name_key, Person.id))


def matching_vehicles(user: User, query: SearchQuery) -> tuple[list[Vehicle], bool]:
    vrm = query.vrm_key
    if not vrm and query.has_text:
        typed = normalise_vrm(query.text)
        vrm = typed if re.fullmatch(r"[A-Z0-9]{2,8}", typed) and re.search(r"\d", typed) else ""
    if len(vrm) < 2:
        return [], False
    return _visible_records(user, Vehicle, vehicles_like(vrm), (Vehicle.vrm, Vehicle.id))


def people_in(entry_ids: list[int]) -> dict[int, list[tuple[Person, list[LinkRole]]]]:
    """Each entry's people with their roles in it ("suspect", "victim"...), in the order they were linked.

    Only for entries the search already found through access.visible_entries: a person linked to an entry the
    user may open is one they may see (access.can_view_record). One query for the page's entries."""
    if not entry_ids:
        return {}
    rows = db.session.execute(
        sa.select(Link.entry_id, Link.role, Person).join(Person, Person.id == Link.person_id)
        .where(Link.entry_id.in_(entry_ids)).order_by(Link.entry_id, Link.position, Link.id)).all()
    found: dict[int, dict[int, tuple[Person, list[LinkRole]]]] = defaultdict(dict)
    for entry_id, role, person in rows:
        _, roles = found[entry_id].setdefault(person.id, (person, []))
        if LinkRole(role) not in roles:
            roles.append(LinkRole(role))
    return {entry_id: list(people.values()) for entry_id, people in found.items()}
