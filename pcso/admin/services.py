"""Administering officers: their role, whether the account is enabled, and the beats they work."""
from __future__ import annotations

import sqlalchemy as sa

from .. import audit
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


def officers_in(roles) -> list[User]:
    """Officers holding any of `roles`, by name (the search form's author choices)."""
    return list(db.session.scalars(sa.select(User).where(User.role.in_(roles)).order_by(User.display_name)))
