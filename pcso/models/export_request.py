"""A request to export an OFFICIAL-SENSITIVE list: a second person approves it before a byte leaves.

The filter is frozen at request time (its GET parameters and the highest entry id then listed), never the
data: the file is read when the requester downloads it, with their access at that moment, up to that id.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime, enum_type
from .user import User


class ExportRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    DOWNLOADED = "downloaded"  # approved for one download, and downloaded

    @property
    def label(self) -> str:
        return {"pending": "Waiting for approval", "approved": "Approved", "refused": "Refused",
                "downloaded": "Downloaded"}[self.value]


class ExportRequest(db.Model):
    __tablename__ = "export_request"
    __table_args__ = (
        sa.CheckConstraint("decided_by_id IS NULL OR decided_by_id != requester_id", name="two_people"),
        sa.CheckConstraint("status = 'pending' OR decided_by_id IS NOT NULL", name="decided_by_someone"),
        sa.Index("ix_export_request_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    format: Mapped[str] = mapped_column(sa.String(16))
    filters: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)  # EntryFilter.to_args()
    max_id: Mapped[int | None]  # the highest entry id listed when it was asked for
    count: Mapped[int]  # rows when it was asked for
    marking: Mapped[str] = mapped_column(sa.String(32))
    purpose: Mapped[str] = mapped_column(sa.String(500))
    recipient: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[ExportRequestStatus] = mapped_column(enum_type(ExportRequestStatus),
                                                        default=ExportRequestStatus.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # approved: downloadable until then
    downloads: Mapped[int] = mapped_column(default=0)
    last_download_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and (now or utcnow()) >= self.expires_at

    def can_download(self, now: datetime | None = None) -> bool:
        return self.status == ExportRequestStatus.APPROVED and not self.is_expired(now)
