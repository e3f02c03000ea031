"""Dashboard welfare visits: the latest welfare check per child (Person linked as subject) among the checks
the user may see; overdue when its next visit is before today, due this week when it is today..today+6.

The shift briefing reuses `welfare_due()`; the lists' `set` filters use `welfare_check_ids()`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Entry, EntryKind, LinkRole, Person, User, WelfareCheck
from .scope import ENTRY, LINK, WELFARE, beats_clause, counted, every_beat


@dataclass
class WelfareDue:
    child: Person
    check: WelfareCheck
    next_visit_on: date
    overdue: bool


def _latest_checks(user: User, beat_ids, only_children: list[int] | None = None):
    """(check id, child id, next visit, beat id) of the latest visible check per child, as a subquery.

    With beats given, only children with a check on those beats are ranked (the latest may be elsewhere).
    """
    latest_first = (Entry.occurred_at.desc(), Entry.id.desc())
    children = LINK.c.role == LinkRole.SUBJECT.value
    query = (sa.select(Entry.id.label("check_id"), LINK.c.person_id.label("child_id"),
                       WELFARE.c.next_visit_on, Entry.beat_id,
                       sa.func.row_number().over(partition_by=LINK.c.person_id, order_by=latest_first).label("rank"))
             .select_from(ENTRY.join(WELFARE, WELFARE.c.id == ENTRY.c.id).join(LINK, LINK.c.entry_id == ENTRY.c.id))
             .where(children, LINK.c.person_id.is_not(None), counted(user, None)))
    if beat_ids is not None:
        on_beats = (sa.select(LINK.c.person_id)
                    .select_from(ENTRY.join(LINK, LINK.c.entry_id == ENTRY.c.id))
                    .where(Entry.kind == EntryKind.WELFARE_CHECK, children, counted(user, beat_ids)))
        # the children first, as a list: as a subquery PostgreSQL ran it once per check (23 s at 1M entries)
        query = query.where(LINK.c.person_id.in_(sorted(set(db.session.scalars(on_beats)))))
    if only_children is not None:
        query = query.where(LINK.c.person_id.in_(only_children))
    return query.subquery("ranked")


def _due_checks(user: User, beat_ids, today: date):
    ranked = _latest_checks(user, beat_ids)
    return (sa.select(ranked.c.check_id, ranked.c.child_id, ranked.c.next_visit_on)
            .where(ranked.c.rank == 1, ranked.c.next_visit_on <= today + timedelta(days=6),
                   beats_clause(ranked.c.beat_id, beat_ids)))


class _DueRow(NamedTuple):
    check_id: int
    child_id: int
    next_visit_on: date


def _due_rows_every_beat(user: User, today: date) -> list[_DueRow]:
    """The rows of _due_checks(user, None, today), faster on SQLite: each child's latest check from indexes.

    SQLite takes a bare column from the row that holds max() (its documented GROUP BY rule), so one pass over
    the covering indexes entry (kind, beat_id, occurred_at) and link (entry_id, role, person_id) finds every
    child's latest check without reading 80,000 rows (ranking them all took 250 ms at a million entries).
    That check is then held to the access rule; a child whose latest check the user may not see (a draft,
    or a PCSO who is not the SPOC) goes through the exact ranked query instead.
    """
    # CROSS JOIN is SQLite's way to fix the join order: left alone, the planner walked link by person_id to
    # save the GROUP BY's sort, reading every link in the database (900 ms instead of 116).
    latest = db.session.execute(sa.text(
        "SELECT link.person_id, entry.id, max(entry.occurred_at) FROM entry CROSS JOIN link ON link.entry_id = entry.id"
        " WHERE entry.kind = :kind AND entry.beat_id IN :beats AND link.role = :role AND link.person_id IS NOT NULL"
        " GROUP BY link.person_id").bindparams(sa.bindparam("beats", expanding=True)),
        {"kind": EntryKind.WELFARE_CHECK.value, "role": LinkRole.SUBJECT.value, "beats": sorted(every_beat())}).all()
    child_of = {check_id: child_id for child_id, check_id, _ in latest}
    ids, seen = sorted(child_of), {}
    for start in range(0, len(ids), 5000):
        seen.update(db.session.execute(
            sa.select(Entry.id, WELFARE.c.next_visit_on).select_from(ENTRY.join(WELFARE, WELFARE.c.id == ENTRY.c.id))
            .where(Entry.id.in_(ids[start:start + 5000]), counted(user, None))).tuples().all())
    last_day = today + timedelta(days=6)
    rows = [_DueRow(check_id, child_of[check_id], next_visit_on) for check_id, next_visit_on in seen.items()
            if next_visit_on is not None and next_visit_on <= last_day]
    hidden = sorted(child_of[check_id] for check_id in child_of if check_id not in seen)
    if hidden:
        ranked = _latest_checks(user, None, only_children=hidden)
        rows += [_DueRow(*row) for row in db.session.execute(
            sa.select(ranked.c.check_id, ranked.c.child_id, ranked.c.next_visit_on)
            .where(ranked.c.rank == 1, ranked.c.next_visit_on <= last_day))]
    return rows


def welfare_due(user: User, beat_ids: set[int] | None, *, today: date, limit: int | None = None) -> list[WelfareDue]:
    """The latest welfare check per child that is overdue or due this week, soonest first.

    Only checks `user` may open count (their own, as SPOC, or every one for supervisors and safeguarding),
    drafts never. A child belongs to the beats of their latest check. Overdue: next visit before `today`
    (a London date); due this week: `today` to `today` + 6. `limit`: the first so many only.
    """
    return welfare_summary(user, beat_ids, today=today, limit=limit)[0]


def welfare_summary(user: User, beat_ids: set[int] | None, *, today: date,
                    limit: int | None = None) -> tuple[list[WelfareDue], tuple[int, int]]:
    """welfare_due(), and the counts (overdue, due this week) of the whole list, from one query."""
    if beat_ids is None and db.engine.dialect.name == "sqlite":  # PostgreSQL's DISTINCT ON was no faster
        found = _due_rows_every_beat(user, today)
    else:
        found = db.session.execute(_due_checks(user, beat_ids, today)).all()
    rows = sorted(found, key=lambda r: (r.next_visit_on, r.check_id))
    counts = (sum(r.next_visit_on < today for r in rows), sum(r.next_visit_on >= today for r in rows))
    rows = rows[:limit]
    checks = {c.id: c for c in db.session.scalars(
        sa.select(WelfareCheck).where(WelfareCheck.id.in_([r.check_id for r in rows]))
        .options(selectinload(WelfareCheck.spoc), selectinload(WelfareCheck.beat)))}
    people = {p.id: p for p in db.session.scalars(sa.select(Person).where(Person.id.in_([r.child_id for r in rows])))}
    due = [WelfareDue(people[r.child_id], checks[r.check_id], r.next_visit_on, r.next_visit_on < today) for r in rows]
    return due, counts


def welfare_check_ids(user: User, today: date, *, overdue: bool) -> sa.Select:
    """Ids of the latest checks overdue (or due this week), every beat: for the lists' `set`."""
    query = _due_checks(user, None, today).subquery("due")
    wanted = query.c.next_visit_on < today if overdue else query.c.next_visit_on >= today
    return sa.select(query.c.check_id).where(wanted)
