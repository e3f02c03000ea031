"""The searchable text of each entry, kept by pcso/search/services.py in the same transaction.

The full-text machinery over it is dialect-specific and lives only in migration 0004: on
SQLite an FTS5 external-content table `search_fts` (rowid = entry_id) kept in step by
triggers; on PostgreSQL a GIN index on to_tsvector('english', body) and trigram indexes for
partial names and registrations. pcso/search/schema.py tells Alembic's comparison to ignore it.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .entry import Entry


class SearchDocument(db.Model):
    __tablename__ = "search_document"

    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), primary_key=True)
    # Summary, narrative, place and linked names/registrations. Never an intelligence source's details.
    body: Mapped[str] = mapped_column(sa.Text)


# Indexes on entry that exist for search: newest-first without a beat, and the bounding box of "near".
sa.Index("ix_entry_occurred_at", Entry.occurred_at)
sa.Index("ix_entry_lat_lon", Entry.lat, Entry.lon)
