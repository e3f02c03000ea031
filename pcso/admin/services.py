"""Administering officers: their role, whether the account is enabled, and the beats they work."""
from __future__ import annotations

import secrets

import sqlalchemy as sa

from .. import audit
from ..auth import totp
from ..auth.lockout import is_locked, unlock
from ..auth.services import end_all_sessions
from ..beats.services import assign_beats
from ..extensions import db
from ..models import AuditAction, Beat, Role, User


def all_officers() -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.role, User.display_name)))


def get_officer(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def update_officer(user: User, *, role: Role, is_enabled: bool, beat_ids: list[int], actor: User) -> User:
    """Change role and account state (ending every session when either changes), then the beats."""
    changes = {}
    if user.role != role:
        changes["role"] = [user.role.value, role.value]
        user.role = role
    if user.is_enabled != is_enabled:
        changes["is_enabled"] = [user.is_enabled, is_enabled]
        user.is_enabled = is_enabled
    if changes:
        end_all_sessions(user, "account_changed")
        audit.record(AuditAction.UPDATE, user, actor=actor, fields=sorted(changes))
    assign_beats(user, [db.session.get(Beat, i) for i in beat_ids], actor=actor)
    return user


def sign_in_state(user: User) -> dict:
    """What the admin's user page shows about signing in (never the secret)."""
    return {"locked": is_locked(user), "locked_at": user.locked_at, "lock_reason": user.lock_reason,
            "failed_logins": user.failed_logins, "two_step": totp.is_enrolled(user),
            "two_step_required": totp.required_for(user), "must_change_password": user.must_change_password}


def officers_in(roles) -> list[User]:
    """Officers holding any of `roles`, by name (the search form's author choices)."""
    return list(db.session.scalars(sa.select(User).where(User.role.in_(roles)).order_by(User.display_name)))


def unlock_officer(user: User, *, actor: User) -> None:
    unlock(user, actor=actor)


def reset_password(user: User, *, actor: User) -> str:
    """A one-time password for the officer, shown once to the admin; the officer must change it at their
    next sign-in. Every session of theirs ends; failed sign-ins are forgotten and a lock lifted."""
    one_time = "-".join(secrets.token_hex(3) for _ in range(4))  # 96 bits, easy to read out
    user.set_password(one_time)
    user.must_change_password = True
    if user.locked_at is not None or user.failed_logins:
        unlock(user, actor=actor)
    end_all_sessions(user, "password_reset")
    audit.record(AuditAction.UPDATE, user, actor=actor, fields=["password"], change="reset_by_admin")
    return one_time


def reset_second_factor(user: User, *, actor: User) -> None:
    """For a lost phone: the officer sets up two-step sign-in again at their next sign-in."""
    totp.reset(user, actor=actor)
    end_all_sessions(user, "second_factor_reset")
