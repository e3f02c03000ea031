"""Officers, their roles and their login sessions."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime, enum_type


class Role(StrEnum):
    PCSO = "pcso"
    SUPERVISOR = "supervisor"
    ANALYST = "analyst"
    SAFEGUARDING = "safeguarding"
    ADMIN = "admin"
    AUDITOR = "auditor"  # professional standards: reads the audit log, nothing else

    @property
    def label(self) -> str:
        return {"pcso": "PCSO", "safeguarding": "Safeguarding lead"}.get(self.value, self.value.title())


beat_assignment = sa.Table(
    "beat_assignment",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("beat_id", sa.ForeignKey("beat.id", ondelete="CASCADE"), primary_key=True),
)


class User(db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    collar_number: Mapped[str] = mapped_column(sa.String(16), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    beats: Mapped[list["Beat"]] = relationship(  # noqa: F821
        secondary=beat_assignment, back_populates="officers", order_by="Beat.name"
    )

    # Set by the login machinery: the server-side session this request runs under.
    session_token = None  # str | None; not a column

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")
        self.password_changed_at = utcnow()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.is_enabled

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def beat_ids(self) -> set[int]:
        return {beat.id for beat in self.beats}

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.collar_number} {self.role}>"


class UserSession(db.Model):
    """A login on one device. Logout, idle timeout or a password change end it."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(sa.String(32))

    user: Mapped[User] = relationship()
