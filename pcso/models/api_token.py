"""Personal access tokens for the JSON API: a secret shown once, stored as its SHA-256."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime, enum_type
from .user import User


class TokenScope(StrEnum):
    READ = "read"  # GET (and HEAD) only
    WRITE = "write"  # also POST, PUT and PATCH

    @property
    def label(self) -> str:
        return {"read": "Read only", "write": "Read and write"}[self.value]


class ApiToken(db.Model):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    prefix: Mapped[str] = mapped_column(sa.String(16))  # shown in lists, so the owner can tell tokens apart
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scope: Mapped[TokenScope] = mapped_column(enum_type(TokenScope, 8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def allows(self, method: str) -> bool:
        if method in ("GET", "HEAD", "OPTIONS"):
            return True
        return self.scope == TokenScope.WRITE and method in ("POST", "PUT", "PATCH")
