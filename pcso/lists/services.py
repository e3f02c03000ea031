"""What the list pages read and record: a page of filtered entries, and each list view and export audited."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from .. import audit
from ..access import can_view_record
from ..extensions import db
from ..models import AuditAction, AuditEvent, Entry, Person, User
from ..queries import AnyEntry
from .exports import ExportSummary
from .filters import EntryFilter


def entries_page(clauses, *, page: int, per_page: int):
    query = (sa.select(AnyEntry).where(*clauses).options(joinedload(AnyEntry.beat), joinedload(AnyEntry.author))
             .order_by(AnyEntry.occurred_at.desc(), AnyEntry.id.desc()))
    # Counted on the entry table alone: paginate's own count wraps the polymorphic select, joins and all
    # (3 s instead of 0.2 s for a million entries on PostgreSQL).
    found = db.paginate(query, page=page, per_page=per_page, error_out=False, count=False)
    found.total = db.session.scalar(sa.select(sa.func.count(Entry.id)).where(*clauses))
    return found


def visible_person_name(filters: EntryFilter, user: User) -> str | None:
    """The name of the person a list is filtered on, if the user may see that person."""
    if filters.person is None:
        return None
    person = db.session.get(Person, filters.person)
    return person.full_name if person is not None and can_view_record(user, person) else None


def record_list_view(filters: EntryFilter, results: int, *, actor: User, **details) -> AuditEvent:
    """A filtered list is an audited search (a plain list is not: the caller asks only when filtered).

    Filtered on a person, it joins records (that person's linked entries): joined=true (pcso/audit.py)."""
    if filters.person is not None:
        details["joined"] = True
    return audit.record(AuditAction.SEARCH, actor=actor, object_type="entry", scope="list",
                        filters=filters.to_audit(), results=results, **details)


def record_list_shown(rows, filters: EntryFilter, *, actor: User, **details) -> None:
    """Every list, filtered or not, names the entries it shows (and the person it is filtered on, whose name
    it shows if the user may see them) in the request's one view event."""
    audit.consulted(rows, actor=actor, object_type="entry", **details)
    if filters.person is not None and visible_person_name(filters, actor) is not None:
        audit.consulted(filters.person, actor=actor, object_type="person")


def export_ids(clauses, summary: ExportSummary) -> list[int]:
    """The ids of the entries an export holds (one query, ids only), for its disclosure event."""
    if not summary.count:
        return []
    return list(db.session.scalars(sa.select(Entry.id).where(*clauses, Entry.id <= summary.max_id)
                                   .order_by(Entry.id)))


def record_disclosure(filters: EntryFilter, summary: ExportSummary, *, fmt: str, purpose: str, recipient: str,
                      actor: User, ids: list[int] | None = None, **details) -> AuditEvent:
    """A list export is a disclosure: on record (what, why, to whom, how many, which) before a byte leaves.
    `ids` (export_ids) are named as a consultation names them: {"records": {"entry": {ids, count, digest}}}."""
    if ids is not None:
        details["records"] = {"entry": audit.id_summary(ids)}
    return audit.record(AuditAction.DISCLOSE, actor=actor, object_type="entry", format=fmt, purpose=purpose,
                        recipient=recipient, filters=filters.to_audit(), count=summary.count,
                        marking=summary.marking.value, context=audit.endpoint(), **details)


def record_entry_disclosure(entry: Entry, *, purpose: str, recipient: str, actor: User) -> AuditEvent:
    return audit.record(AuditAction.DISCLOSE, entry, actor=actor, object_type="entry", format="pdf",
                        purpose=purpose, recipient=recipient, count=1, marking=entry.marking.value,
                        records={"entry": audit.id_summary([entry.id])}, context=audit.endpoint())


def record_export_form(entry: Entry | None, filters: EntryFilter | None, *, actor: User) -> None:
    """The export forms show the entry (its summary) or the list's description (a person's name)."""
    if entry is not None:
        audit.consulted(entry, actor=actor, object_type="entry")
    if filters is not None and filters.person is not None and visible_person_name(filters, actor) is not None:
        audit.consulted(filters.person, actor=actor, object_type="person")
