"""The audit log (DPA 2018 s.62): who did what to which record, and when."""
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


class AuditAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    VIEW = "view"
    SEARCH = "search"
    DISCLOSE = "disclose"
    ERASE = "erase"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    IMPORT = "import"
    REVIEW = "review"
    COMBINE = "combine"  # s.62 combination: merges, and searches that join records
    DENY = "deny"  # access refused: a record the user may not see was asked for (404)


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_event_object", "object_type", "object_id"),
        sa.Index("ix_audit_event_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    action: Mapped[AuditAction] = mapped_column(enum_type(AuditAction))
    object_type: Mapped[str | None] = mapped_column(sa.String(40))
    object_id: Mapped[int | None]
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    actor: Mapped[User | None] = relationship()
