"""Each child's latest welfare check, kept up to date on write (issue 11 part 4).

`welfare_latest` holds one row per child (a Person linked as `subject` to a welfare check that is not a
draft): the latest such check (occurred_at, then id, newest), its beat and its next visit. The dashboard and
the shift briefing read it instead of ranking every check on every request (pcso/dashboard/welfare.py).
For supervisors and safeguarding leads, who may open every check that is not a draft, it is exactly the
latest check they may see; other roles see only their own and their SPOC checks and rank those few.

It is kept by the session's flush, for every way a check changes through the ORM (entry services, the API,
sync, review, amendments, retention's erasure), so no service has to remember it:

- before the flush, the children whose latest check is one of the checks in the flush are noted (an erased
  check's row goes with it: ON DELETE CASCADE);
- after it, those children, the subjects now linked to those checks, the two people of a merge (the links
  move by one UPDATE, then the loser is marked `merged_into_id`) and the old and new person of a link
  whose person changed are ranked again from their checks (`refresh_children`), in the same transaction.

Writes that bypass the ORM (bench loaders, the migration) call `rebuild_all()`.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..extensions import db
from .entry import EntryKind, EntryStatus
from .pole import Link, LinkRole, Person
from .welfare import WelfareCheck

NOTED = "welfare_latest_children"


class WelfareLatest(db.Model):
    __tablename__ = "welfare_latest"
    __table_args__ = (sa.Index("ix_welfare_latest_beat_next_visit", "beat_id", "next_visit_on"),)

    child_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    check_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    beat_id: Mapped[int] = mapped_column(sa.ForeignKey("beat.id"))
    next_visit_on: Mapped[date | None]


_RANKED = """
SELECT child_id, check_id, beat_id, next_visit_on FROM (
  SELECT link.person_id AS child_id, entry.id AS check_id, entry.beat_id AS beat_id,
         welfare_check.next_visit_on AS next_visit_on,
         row_number() OVER (PARTITION BY link.person_id ORDER BY entry.occurred_at DESC, entry.id DESC) AS rank
  FROM entry JOIN welfare_check ON welfare_check.id = entry.id JOIN link ON link.entry_id = entry.id
  WHERE link.role = 'subject' AND link.person_id IS NOT NULL AND entry.status != :draft AND entry.kind = :kind {only}
) AS ranked WHERE rank = 1
"""
_COLUMNS = "(child_id, check_id, beat_id, next_visit_on)"


def refresh_children(conn: sa.Connection, child_ids: Iterable[int]) -> None:
    """Rank these children's checks again and store each one's latest (or none)."""
    ids = sorted({int(i) for i in child_ids if i is not None})
    params = {"draft": EntryStatus.DRAFT.value, "kind": EntryKind.WELFARE_CHECK.value}
    for start in range(0, len(ids), 5000):
        chunk = {"ids": ids[start:start + 5000]}
        conn.execute(sa.text("DELETE FROM welfare_latest WHERE child_id IN :ids")
                     .bindparams(sa.bindparam("ids", expanding=True)), chunk)
        conn.execute(sa.text(f"INSERT INTO welfare_latest {_COLUMNS} "
                             + _RANKED.format(only="AND link.person_id IN :ids"))
                     .bindparams(sa.bindparam("ids", expanding=True)), {**params, **chunk})


def rebuild_all(conn: sa.Connection) -> int:
    """Every child's row from scratch (the migration's backfill; loaders that bypass the ORM). Returns the rows."""
    conn.execute(sa.text("DELETE FROM welfare_latest"))
    conn.execute(sa.text(f"INSERT INTO welfare_latest {_COLUMNS} " + _RANKED.format(only="")),
                 {"draft": EntryStatus.DRAFT.value, "kind": EntryKind.WELFARE_CHECK.value})
    return conn.execute(sa.text("SELECT count(*) FROM welfare_latest")).scalar_one()


def _checks_in(objects: Iterable) -> list[WelfareCheck]:
    return [obj for obj in objects if isinstance(obj, WelfareCheck)]


def _changed_people(session: Session) -> tuple[set[int], set[int]]:
    """What a flush changes without touching a check: the people of a merge (links moved by one UPDATE, then
    the loser marked merged_into_id) and of a link re-pointed; and the entries of links re-pointed."""
    people: set[int] = set()
    entries: set[int] = set()
    for obj in session.dirty:
        if isinstance(obj, Person):
            history = sa.inspect(obj).attrs.merged_into_id.history
            if history.added and history.added[0] is not None:
                people |= {obj.id, history.added[0]}
        elif isinstance(obj, Link):
            state = sa.inspect(obj).attrs
            ids, records = state.person_id.history, state.person.history
            if ids.has_changes() or records.has_changes():
                people |= {i for i in (*ids.added, *ids.deleted) if i is not None}
                people |= {p.id for p in (*records.added, *records.deleted) if p is not None and p.id is not None}
                entries.add(obj.entry_id)
    return people, entries


@event.listens_for(Session, "before_flush")
def _note_children(session: Session, _context, _instances) -> None:
    touched = _checks_in([*session.new, *session.dirty, *session.deleted])
    persistent = [c.id for c in touched if c.id is not None]
    noted, entries = _changed_people(session)
    if persistent:
        noted |= set(session.connection().execute(
            sa.select(WelfareLatest.child_id).where(WelfareLatest.check_id.in_(persistent))).scalars())
    if noted or touched or entries:
        session.info.setdefault(NOTED, set()).update(noted)
        session.info.setdefault(NOTED + "_entries", set()).update(entries)
        session.info[NOTED + "_checks"] = True


@event.listens_for(Session, "after_flush")
def _refresh_children(session: Session, _context) -> None:
    if not session.info.pop(NOTED + "_checks", False):
        return
    children = session.info.pop(NOTED, set())
    conn = session.connection()
    checks = {c.id for c in _checks_in([*session.new, *session.dirty]) if c.id is not None}
    checks |= {i for i in session.info.pop(NOTED + "_entries", set()) if i is not None}
    if checks:
        children |= set(conn.execute(
            sa.select(Link.person_id).join(WelfareCheck.__table__, WelfareCheck.__table__.c.id == Link.entry_id)
            .where(Link.entry_id.in_(sorted(checks)), Link.role == LinkRole.SUBJECT.value,
                   Link.person_id.is_not(None))).scalars())
    if children:
        refresh_children(conn, children)
