"""Dashboard welfare visits: the latest welfare check per child (Person linked as subject) among the checks
the user may see; overdue when its next visit is before today, due this week when it is today..today+6.

Supervisors and safeguarding leads may open every check that is not a draft, so each child's latest check is
read from `welfare_latest` (pcso/models/latest_check.py), kept up to date on every write: nothing is ranked
per request, however many checks there are. Other roles see only the checks they wrote or are the SPOC of;
those few are ranked per request. A child belongs to the beat of their latest check.

The shift briefing reuses `welfare_due()`; the lists' `set` filters use `welfare_check_ids()`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..access import WELFARE_READERS
from ..extensions import db
from ..models import Beat, Entry, EntryKind, LinkRole, Person, User, WelfareCheck, WelfareLatest
from .scope import ENTRY, LINK, WELFARE, beats_clause, counted

LATEST = WelfareLatest.__table__


@dataclass
class WelfareDue:
    child: Person
    check: WelfareCheck
    next_visit_on: date
    overdue: bool


def _own_checks(user: User) -> list[int]:
    """Ids of the welfare checks a user outside WELFARE_READERS may open: written by them or theirs as SPOC.
    Fetched first and passed as a list (as a subquery PostgreSQL may run it once per check)."""
    spoc = sa.select(WELFARE.c.id).where(WELFARE.c.spoc_id == user.id)
    written = sa.select(Entry.id).where(Entry.author_id == user.id, Entry.kind == EntryKind.WELFARE_CHECK)
    return sorted(set(db.session.scalars(spoc)) | set(db.session.scalars(written)))


def _latest_checks(user: User):
    """(check id, child id, next visit, beat id) of each child's latest check the user may see, as a subquery."""
    if user.role in WELFARE_READERS:
        return (sa.select(LATEST.c.check_id, LATEST.c.child_id, LATEST.c.next_visit_on, LATEST.c.beat_id)
                .select_from(LATEST.join(ENTRY, ENTRY.c.id == LATEST.c.check_id))
                .where(counted(user, None)).subquery("latest"))
    ranked = (sa.select(Entry.id.label("check_id"), LINK.c.person_id.label("child_id"), WELFARE.c.next_visit_on,
                        Entry.beat_id, sa.func.row_number().over(
                            partition_by=LINK.c.person_id, order_by=(Entry.occurred_at.desc(), Entry.id.desc()))
                        .label("rank"))
              .select_from(ENTRY.join(WELFARE, WELFARE.c.id == ENTRY.c.id).join(LINK, LINK.c.entry_id == ENTRY.c.id))
              .where(LINK.c.role == LinkRole.SUBJECT.value, LINK.c.person_id.is_not(None),
                     Entry.id.in_(_own_checks(user)), counted(user, None))
              .subquery("ranked"))
    return (sa.select(ranked.c.check_id, ranked.c.child_id, ranked.c.next_visit_on, ranked.c.beat_id)
            .where(ranked.c.rank == 1).subquery("latest"))


def _due_checks(user: User, beat_ids, today: date):
    latest = _latest_checks(user)
    return (sa.select(latest.c.check_id, latest.c.child_id, latest.c.next_visit_on)
            .where(latest.c.next_visit_on <= today + timedelta(days=6), beats_clause(latest.c.beat_id, beat_ids)))


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
    found = db.session.execute(_due_checks(user, beat_ids, today)).all()
    rows = sorted(found, key=lambda r: (r.next_visit_on, r.check_id))
    counts = (sum(r.next_visit_on < today for r in rows), sum(r.next_visit_on >= today for r in rows))
    rows = rows[:limit]
    checks = {c.id: c for c in db.session.scalars(
        sa.select(WelfareCheck).where(WelfareCheck.id.in_([r.check_id for r in rows]))
        .options(selectinload(WelfareCheck.spoc), selectinload(WelfareCheck.beat).defer(Beat.boundary)))}
    people = {p.id: p for p in db.session.scalars(sa.select(Person).where(Person.id.in_([r.child_id for r in rows])))}
    due = [WelfareDue(people[r.child_id], checks[r.check_id], r.next_visit_on, r.next_visit_on < today) for r in rows]
    return due, counts


def welfare_check_ids(user: User, today: date, *, overdue: bool) -> sa.Select:
    """Ids of the latest checks overdue (or due this week), every beat: for the lists' `set`."""
    query = _due_checks(user, None, today).subquery("due")
    wanted = query.c.next_visit_on < today if overdue else query.c.next_visit_on >= today
    return sa.select(query.c.check_id).where(wanted)
