"""Server-side login sessions: a cookie holds a random token, the database its hash.

Logging out, an idle timeout, the absolute lifetime (SESSION_MAX_HOURS from sign-in), disabling
the account or changing the password end the session record, so a copied cookie replayed later
no longer works.

Checking a password costs the same whether or not the account exists, is disabled or is locked:
an unknown collar number is checked against a dummy hash of the same method, so the time taken
does not tell real collar numbers apart.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import orm
from flask import current_app

from .. import audit
from ..extensions import db
from ..models import AuditAction, User, UserSession
from ..models.user import check_dummy_password
from ..timeutil import utcnow
from .lockout import is_locked, record_failure, record_success

TOUCH_EVERY = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_collar(collar_number: str) -> str:
    return (collar_number or "").strip().upper()


def authenticate(collar_number: str, password: str) -> User | None:
    """The user whose password this is, if they may sign in; else None, after the same work either way."""
    user = db.session.scalar(sa.select(User).where(User.collar_number == normalise_collar(collar_number)))
    if user is None or not user.is_enabled:
        check_dummy_password(password)  # as slow as a real check: the timing tells nothing
        reason = "unknown" if user is None else "disabled"
    elif is_locked(user):
        user.check_password(password)
        reason = "locked"
    elif not user.check_password(password):
        record_failure(user, factor="password")
        reason = "password"
    else:
        return user
    audit.record(AuditAction.LOGIN_FAILED, actor=user, object_type="user", object_id=user.id if user else None,
                 reason=reason)
    return None


def second_factor_failed(user: User) -> None:
    """A wrong or replayed code after the right password: it counts towards the lockout like a wrong password."""
    record_failure(user, factor="code")
    audit.record(AuditAction.LOGIN_FAILED, actor=user, object_type="user", object_id=user.id, reason="code")


def may_still_sign_in(user: User | None) -> bool:
    """Between the password and the code: the account may have been disabled or locked meanwhile."""
    return user is not None and user.is_enabled and not is_locked(user)


def start_session(user: User) -> str:
    record_success(user)
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(token_hash=_hash(token), user_id=user.id))
    user.session_token = token
    audit.record(AuditAction.LOGIN, user, actor=user)
    return token


def load_session_user(token: str) -> User | None:
    """The user behind a session token, if the session is still live. Commits its own touch."""
    record = db.session.scalar(sa.select(UserSession).where(UserSession.token_hash == _hash(token))
                               .options(orm.joinedload(UserSession.user)))  # one statement for both
    if record is None or record.ended_at is not None:
        return None
    now = utcnow()
    user = record.user
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    reason = None
    if not user.is_enabled:
        reason = "disabled"
    elif record.created_at < user.password_changed_at:
        reason = "password_changed"
    elif now - record.created_at > timedelta(hours=current_app.config["SESSION_MAX_HOURS"]):
        reason = "max_lifetime"
    elif now - record.last_seen_at > idle:
        reason = "idle_timeout"
    if reason:
        record.ended_at, record.end_reason = now, reason
        db.session.commit()
        return None
    if now - record.last_seen_at > TOUCH_EVERY:
        # End the read transaction first: the touch must be the first statement of its own
        # transaction, or a deferred (GET) transaction would have to upgrade its lock.
        record_id, user_id = record.id, user.id
        db.session.rollback()
        db.session.execute(sa.update(UserSession).where(UserSession.id == record_id).values(last_seen_at=now))
        db.session.commit()
        user = db.session.get(User, user_id)
    user.session_token = token
    return user


def session_expires_at(token: str | None):
    """When the live session behind `token` ends if it stays idle (None: no such live session)."""
    if not token:
        return None
    record = db.session.scalar(sa.select(UserSession).where(UserSession.token_hash == _hash(token),
                                                            UserSession.ended_at.is_(None)))
    if record is None:
        return None
    return min(record.last_seen_at + timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]),
               record.created_at + timedelta(hours=current_app.config["SESSION_MAX_HOURS"]))


def end_session(user: User, token: str | None, reason: str = "logout") -> None:
    if token:
        db.session.execute(
            sa.update(UserSession)
            .where(UserSession.token_hash == _hash(token), UserSession.ended_at.is_(None))
            .values(ended_at=utcnow(), end_reason=reason)
        )
    audit.record(AuditAction.LOGOUT, user, actor=user)


def end_all_sessions(user: User, reason: str, *, keep_token: str | None = None) -> None:
    """End every live session of the user's (but the one behind keep_token, when given)."""
    query = sa.update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if keep_token:
        query = query.where(UserSession.token_hash != _hash(keep_token))
    db.session.execute(query.values(ended_at=utcnow(), end_reason=reason))
