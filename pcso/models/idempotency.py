"""Idempotency keys of API creates (IETF draft Idempotency-Key): one row per user and key.

The row is committed as in flight before the work starts, so a second request with the same key
sees it (409) instead of doing the work twice; the work's answer is stored on it afterwards and
replayed to every retry with the same body. Kept at least 30 days (purge_idempotency_keys).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime


class IdempotencyKey(db.Model):
    __tablename__ = "idempotency_key"
    __table_args__ = (sa.UniqueConstraint("user_id", "key", name="uq_idempotency_key_user_id_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(64))
    method: Mapped[str] = mapped_column(sa.String(8))
    path: Mapped[str] = mapped_column(sa.String(200))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))  # SHA-256 of the canonical JSON body
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None]
    response: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    location: Mapped[str | None] = mapped_column(sa.String(200))

    @property
    def is_in_flight(self) -> bool:
        return self.completed_at is None
