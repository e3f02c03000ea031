"""Account lockout: LOGIN_LOCKOUT_FAILURES failed sign-ins (a wrong password or code) within
LOGIN_LOCKOUT_WINDOW_MINUTES lock the account until an admin unlocks it (or LOGIN_LOCKOUT_MINUTES pass).

A locked account is refused with the same message, status and timing as a wrong password: an attacker
learns nothing. The admin's user page says that it is locked, since when and why.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from .. import audit
from ..extensions import db
from ..models import AuditAction, User
from ..timeutil import utcnow


def is_locked(user: User, now: datetime | None = None) -> bool:
    if user.locked_at is None:
        return False
    minutes = current_app.config["LOGIN_LOCKOUT_MINUTES"]
    if minutes and (now or utcnow()) - user.locked_at >= timedelta(minutes=minutes):
        return False  # the lock has run out; cleared at the next success
    return True


def record_failure(user: User, *, factor: str) -> None:
    """Count one failed sign-in (atomically: two workers failing at once both count); lock at the limit."""
    now = utcnow()
    window = timedelta(minutes=current_app.config["LOGIN_LOCKOUT_WINDOW_MINUTES"])
    if user.failed_login_since is None or now - user.failed_login_since > window:
        db.session.execute(sa.update(User).where(User.id == user.id)
                           .values(failed_logins=1, failed_login_since=now)
                           .execution_options(synchronize_session=False))
    else:
        db.session.execute(sa.update(User).where(User.id == user.id)
                           .values(failed_logins=User.failed_logins + 1)
                           .execution_options(synchronize_session=False))
    db.session.refresh(user, ["failed_logins", "failed_login_since", "locked_at"])
    limit = current_app.config["LOGIN_LOCKOUT_FAILURES"]
    if user.failed_logins >= limit and not is_locked(user, now):
        since = user.failed_login_since
        user.locked_at = now
        user.lock_reason = (f"{user.failed_logins} failed sign-ins in {round((now - since).total_seconds() / 60)} "
                            f"min (last: wrong {factor})")
        audit.record(AuditAction.UPDATE, user, actor=None, fields=["locked"], change="locked",
                     failures=user.failed_logins)


def record_success(user: User) -> None:
    user.failed_logins, user.failed_login_since = 0, None
    if user.locked_at is not None:  # a lock that had run out
        user.locked_at = user.lock_reason = None


def unlock(user: User, *, actor: User) -> None:
    user.locked_at = user.lock_reason = None
    user.failed_logins, user.failed_login_since = 0, None
    audit.record(AuditAction.UPDATE, user, actor=actor, fields=["locked"], change="unlocked")
