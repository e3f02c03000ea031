"""Type-ahead for the entry forms: people and vehicles already on record who may be the one being typed.

People are found through indexes only (pcso/pole/matching.py makes the keys), then, for those few: one
query for which of them the officer may see and are not merged away, scoring in Python, and the tiers
(matching.tier_matches: likely, possible). Only the records offered are loaded whole.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..access import visible_entries
from ..extensions import db
from ..models import Entry, Link, Person, PersonMatchKey, User, Vehicle, VehicleMatchKey, normalise_vrm
from ..queries import like_pattern
from . import matching

CANDIDATES = 100  # people scored for one typed name, at most, found by name keys: those sharing the most keys
BORN_ON_CANDIDATES = 300  # ... and people born on the day typed
PREFIX_CANDIDATES = 50  # ... and people whose name begins as typed
PAIR_WEIGHT = 3  # a shared pair of name codes (p:) counts as three of the other keys (d:, y:) in that ranking
BEGINS = "begins"  # Suggestion.tier of a person offered only because their name begins as typed


def _prefix_range(token: str) -> tuple[str, str]:
    """Keys of tokens starting with `token` lie in ['t:token', 't:token{'): '{' sorts after every letter."""
    return "t:" + token, "t:" + token + "{"


def person_candidates(query: matching.Query) -> tuple[set[int], set[int]]:
    """Ids of people who may be the one typed, found through indexes only: (by name keys or date of
    birth, by the last name typed in part). Visibility and merging are checked afterwards, on these few."""
    found: set[int] = set()
    keys = query.keys() | query.typo_keys()
    if keys:  # a common name shares a key with thousands: keep those sharing the most (a pair of codes weighs more)
        weight = sa.func.sum(sa.case((sa.func.substr(PersonMatchKey.key, 1, 2) == "p:", PAIR_WEIGHT), else_=1))
        found |= set(db.session.scalars(sa.select(PersonMatchKey.person_id).where(PersonMatchKey.key.in_(keys))
                                        .group_by(PersonMatchKey.person_id)
                                        .order_by(weight.desc(), PersonMatchKey.person_id.desc()).limit(CANDIDATES)))
    if query.born_on is not None:
        found |= set(db.session.scalars(sa.select(Person.id).where(Person.born_on == query.born_on)
                                        .limit(BORN_ON_CANDIDATES)))
    typed = query.tokens
    prefixed: set[int] = set()
    if typed and (len(typed[-1]) >= 2 or len(typed) > 1):
        low, high = _prefix_range(typed[-1][:30])
        # With a first name typed, the name keys above found the last name typed in full: only longer ones here.
        after = PersonMatchKey.key > low if len(typed) > 1 else PersonMatchKey.key >= low
        by_prefix = sa.select(PersonMatchKey.person_id).where(after, PersonMatchKey.key < high)
        if len(typed) > 1:  # "dale w": a Wrigley, Walsh... whose other name sounds like Dale
            other = sa.orm.aliased(PersonMatchKey)
            codes = ["c:" + c for c in matching.token_codes(typed[0])]
            by_prefix = by_prefix.where(sa.exists().where(other.person_id == PersonMatchKey.person_id,
                                                          other.key.in_(codes)))
        prefixed = set(db.session.scalars(by_prefix.order_by(PersonMatchKey.key).limit(PREFIX_CANDIDATES)))
    return found, prefixed - found


def seen_by(user: User, column: sa.ColumnElement, ids) -> sa.Select:
    """Which of these records (by Link.person_id, Link.vehicle_id...) is linked to an entry the user may see:
    one query over the candidates' links, never IN (every visible link), which at scale hashes the link table."""
    return (sa.select(column).join(Entry, Entry.id == Link.entry_id)
            .where(column.in_(ids), visible_entries(user)).distinct())


@dataclass
class Candidate:
    """A person found for what was typed, scored: the columns the score needs, not the whole record."""

    id: int
    name_key: str
    match: matching.Match


def scored_people(user: User, query: matching.Query) -> tuple[list[Candidate], set[int]]:
    """Every live person the user may see among the candidates, scored and tiered (best first), and the ids
    of those found only because their name begins as typed."""
    matched, prefixed = person_candidates(query)
    ids = matched | prefixed
    if not ids:
        return [], set()
    rows = db.session.execute(
        sa.select(Person.id, Person.name_key, Person.full_name, Person.aliases, Person.born_on, Person.approx_age,
                  Person.approx_age_on, Person.created_at)
        .where(Person.id.in_(seen_by(user, Link.person_id, ids)), Person.merged_into_id.is_(None)))
    found = []
    for row in rows:
        match = matching.score(query, [row.full_name, *(row.aliases or [])], born_on=row.born_on,
                               approx_age=row.approx_age, recorded_on=matching.age_given_on(row.approx_age_on,
                                                                                            row.created_at))
        found.append(Candidate(row.id, row.name_key, match))
    matching.tier_matches([c.match for c in found])
    found.sort(key=lambda c: (c.match.tier != matching.LIKELY, -c.match.score, c.name_key, c.id))
    return found, prefixed


@dataclass
class Suggestion:
    record: Person | Vehicle
    match: matching.Match
    tier: str  # matching.LIKELY or matching.POSSIBLE (or BEGINS: only the name's beginning matched)

    @property
    def is_likely(self) -> bool:
        return self.tier == matching.LIKELY


def choose_offers(found: list[Candidate], prefixed: set[int], *, limit: int) -> list[tuple[Candidate, str]]:
    """What the form offers from the scored, tiered candidates (best first): the likely ones, then at most
    matching.POSSIBLE_LIMIT possible ones; only if neither, the names that begin as typed (a name still being
    typed: "dale w"). At most `limit` in all. bench/person_matching_report.py counts these very offers."""
    likely = [(c, matching.LIKELY) for c in found if c.match.tier == matching.LIKELY]
    possible = [(c, matching.POSSIBLE) for c in found if c.match.tier == matching.POSSIBLE]
    offered = likely + possible[:matching.POSSIBLE_LIMIT]
    if not offered:
        offered = [(c, BEGINS) for c in found if c.match.tier is None and c.id in prefixed]
    return offered[:limit]


def suggest_people(user: User, query: matching.Query, *, limit: int) -> list[Suggestion]:
    """Live people the user can see who may be the one typed: likely matches first, then possible ones
    (each with its reasons), or else people whose name begins as typed."""
    found, prefixed = scored_people(user, query)
    offered = choose_offers(found, prefixed, limit=limit)
    for candidate, tier in offered:
        if tier == BEGINS:
            candidate.match.reasons[0] = f"name begins “{query.tokens[-1]}”"
    people = {p.id: p for p in db.session.scalars(sa.select(Person).where(Person.id.in_([c.id for c, _ in offered])))}
    return [Suggestion(people[c.id], c.match, tier) for c, tier in offered if c.id in people]


def _visible(user: User, linked: sa.ColumnElement[bool]) -> sa.Exists:
    """A probe per row: is the record linked to an entry the user may see?"""
    return sa.select(Link.id).join(Entry, Entry.id == Link.entry_id).where(linked, visible_entries(user)).exists()


def suggest_vehicles(user: User, typed: str, *, limit: int) -> list[Suggestion]:
    """Live vehicles the user can see: the same registration or one of look-alike characters (by index),
    then registrations containing what was typed."""
    vrm = normalise_vrm(typed)
    shaped = sa.select(VehicleMatchKey.vehicle_id).where(VehicleMatchKey.key == matching.vrm_shape(vrm)[:20])
    live = (Vehicle.merged_into_id.is_(None), _visible(user, Link.vehicle_id == Vehicle.id))
    alike = list(db.session.scalars(sa.select(Vehicle).where(Vehicle.id.in_(shaped), *live)
                                    .order_by(Vehicle.vrm).limit(limit)))
    containing = list(db.session.scalars(
        sa.select(Vehicle).where(Vehicle.vrm.like(like_pattern(vrm), escape="\\"), *live,
                                 Vehicle.id.not_in([v.id for v in alike]))
        .order_by(Vehicle.vrm).limit(limit)))
    found = []
    for vehicle in [*alike, *containing]:
        reason = matching.vrm_reason(vrm, vehicle.vrm) or ""
        found.append(Suggestion(vehicle, matching.Match(1.0 if vehicle in alike else 0.5, [reason], vehicle.vrm),
                                matching.LIKELY if vehicle in alike else matching.POSSIBLE))
    return found[:limit]
