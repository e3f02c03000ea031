"""Held submissions: an entry sealed on a phone that the server could not accept, kept as its author's to fix.

The phone can't read a sealed entry back, so a refusal must not lose it: the decrypted body is held here
(the database is the trust boundary, as for entries) with the server's reasons, until its author fixes
and submits it from /entries/held/<id> (the entry then takes the same client key) or discards it. Once
resolved the body is cleared: the entry holds the content from then on.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..numbers import loads_json
from ..timeutil import utcnow
from .entry import Entry, EntryKind
from .types import UTCDateTime, enum_type
from .user import User


class HeldSubmission(db.Model):
    __tablename__ = "held_submission"
    __table_args__ = (sa.UniqueConstraint("author_id", "client_key", name="uq_held_submission_author_client_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EntryKind] = mapped_column(enum_type(EntryKind))
    client_key: Mapped[str] = mapped_column(sa.String(64))
    body: Mapped[str] = mapped_column(sa.Text)  # the entry's flat JSON body, as the phone sealed it
    errors: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)  # {field: message}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entry.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[User] = relationship()
    resolved_entry: Mapped[Entry | None] = relationship()

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def data(self) -> dict[str, Any]:
        try:
            value = loads_json(self.body)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
