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


PASSWORD_METHOD = "scrypt"
_dummy_hash: str | None = None


def check_dummy_password(password: str) -> bool:
    """The work of a real password check, against a hash no password matches (unknown, disabled accounts)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = generate_password_hash("no account has this password", method=PASSWORD_METHOD)
    check_password_hash(_dummy_hash, password)
    return False


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
    # Sign-in hardening (pcso/auth/lockout.py, totp.py): failures in the current window, the lock they set,
    # the second factor (secret encrypted; the last time step used, so a code works once) and a forced change.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    failed_login_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lock_reason: Mapped[str | None] = mapped_column(sa.String(120))
    totp_secret: Mapped[str | None] = mapped_column(sa.String(255))  # Fernet token, never the base32 secret
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    beats: Mapped[list["Beat"]] = relationship(  # noqa: F821
        secondary=beat_assignment, back_populates="officers", order_by="Beat.name"
    )

    # Set by the login machinery: the server-side session this request runs under.
    session_token = None  # str | None; not a column

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)
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


class RateLimitCounter(db.Model):
    """A fixed-window counter of Flask-Limiter's, when no Redis is configured (pcso/ratelimit.py)."""

    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    count: Mapped[int]
    expires_at: Mapped[float] = mapped_column(index=True)  # Unix time


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
