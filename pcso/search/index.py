"""The search index: each entry's searchable text (search_document), written in the caller's transaction.

index_entry(entry) writes the entry's searchable text; the entry services call it on every create,
update, submit and end. The full-text index over that text is kept by the database (FTS5 triggers on
SQLite; on PostgreSQL a stored, GIN-indexed tsvector). After a person or vehicle is renamed or merged,
reindex_linked_to(record).
"""
from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..entries.registry import kind_of
from ..models import Entry, Link, SearchDocument
from ..queries import AnyEntry

# Snippet markers: control characters index_entry strips from every document, so text typed into an
# entry can never forge one. Everything else is HTML-escaped before they become <mark>.
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def document_text(entry: Entry) -> str:
    """What search reads for an entry: summary, narrative, place, and the records linked to it.

    Each kind says what of its own it contributes (its search_text in the registry); an intelligence
    report gives its sanitised text only: source details never enter the index.
    """
    parts: list[Any] = [entry.summary, *kind_of(entry.kind).search_text(entry), entry.location_text]
    for link in sorted(entry.links, key=lambda item: (item.position, item.id or 0)):
        if link.person is not None:
            parts += [link.person.full_name, *(link.person.aliases or [])]
        elif link.vehicle is not None:
            parts += [link.vehicle.vrm, link.vehicle.colour, link.vehicle.make, link.vehicle.model]
        elif link.location is not None:
            parts += [link.location.address, link.location.postcode]
        elif link.organisation is not None:
            parts += [link.organisation.name]
        parts.append(link.note)
    text = "\n".join(str(part).strip() for part in parts if part is not None and str(part).strip())
    return _CONTROL.sub(" ", text)


def index_entry(entry: Entry, *, new: bool = False) -> None:
    """Write the entry's search document in the current transaction (flush, never commit). `new`: the entry was
    made in this transaction, so it has no document yet (nothing to look up)."""
    index_entries([entry], new=new)


def index_entries(entries: list[Entry], *, new: bool = False) -> None:
    """index_entry() for many entries at once: one query for the documents there are, one flush."""
    db.session.flush()  # ids and links
    existing = {} if new else {document.entry_id: document for document in db.session.scalars(
        sa.select(SearchDocument).where(SearchDocument.entry_id.in_([entry.id for entry in entries])))}
    for entry in entries:
        body = document_text(entry)
        document = existing.get(entry.id)
        if document is None:
            db.session.add(SearchDocument(entry_id=entry.id, body=body))
        elif document.body != body:
            document.body = body
    db.session.flush()


def reindex_entries(entry_ids: list[int] | None = None, *, batch: int = 500) -> int:
    """Rebuild the documents of these entries (all when None) with the current rules. Flushes only."""
    if entry_ids is None:
        entry_ids = list(db.session.scalars(sa.select(Entry.id).order_by(Entry.id)))
    for start in range(0, len(entry_ids), batch):
        chunk = entry_ids[start:start + batch]
        entries = db.session.scalars(
            sa.select(AnyEntry).where(AnyEntry.id.in_(chunk)).options(
                selectinload(AnyEntry.links).selectinload(Link.person),
                selectinload(AnyEntry.links).selectinload(Link.vehicle),
                selectinload(AnyEntry.links).selectinload(Link.location),
                selectinload(AnyEntry.links).selectinload(Link.organisation))).all()
        index_entries(list(entries))
    return len(entry_ids)


def reindex_linked_to(record) -> int:
    """After a person, vehicle, location or organisation changes (renamed, merged): its entries' text."""
    column = getattr(Link, f"{type(record).__tablename__}_id")
    return reindex_entries(list(db.session.scalars(sa.select(Link.entry_id).where(column == record.id).distinct())))
