"""The steps of signing in: password, then (for those who use one) the code, or enrolling one first.

Between the steps the signed session cookie holds only who passed the password, when and where to go next
(`pending_login`); it lasts PENDING_SECONDS and the account is checked again at the code step.
"""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import current_app, request, session, url_for
from flask_login import login_user

from .. import audit
from ..extensions import db
from ..models import AuditAction, User
from ..strength import password_problem
from . import totp
from .services import end_all_sessions, may_still_sign_in, normalise_collar, start_session

PENDING = "pending_login"
PENDING_SECONDS = 300
NOT_RECOGNISED = "Collar number or password not recognised."


def safe_next(target: str | None) -> str:
    """Only a path on this site: no scheme, no host, no control characters or backslashes."""
    if (target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc
            and target.isprintable() and "\\" not in target):
        return target
    return url_for("main.index")


def address_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def account_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN_ACCOUNT"]


def account_key() -> str:
    """The rate-limit bucket of the account being tried: the typed collar number, or the pending one."""
    collar = request.form.get("collar_number") or (session.get(PENDING) or {}).get("collar") or ""
    return "account:" + normalise_collar(collar)[:16]


def needs_second_factor(user: User) -> bool:
    return totp.is_enrolled(user) or totp.required_for(user)


def begin_second_step(user: User, next_target: str | None) -> str:
    """Remember who passed the password; the endpoint of the step that follows."""
    session[PENDING] = {"user": user.id, "collar": user.collar_number, "at": int(time.time()),
                        "next": safe_next(next_target), "password": user.password_changed_at.isoformat()}
    return "auth.code" if totp.is_enrolled(user) else "auth.enrol"


def pending_user() -> User | None:
    state = session.get(PENDING) or {}
    if not state or time.time() - state.get("at", 0) > PENDING_SECONDS:
        session.pop(PENDING, None)
        return None
    user = db.session.get(User, state.get("user"))
    if not may_still_sign_in(user) or user.password_changed_at.isoformat() != state.get("password"):
        # disabled, locked, or the password changed (an admin reset) since it was typed: start again
        session.pop(PENDING, None)
        return None
    return user


def complete(user: User, next_target: str | None = None) -> str:
    """Start the session (a new cookie) and commit; where to go now."""
    target = (session.get(PENDING) or {}).get("next") or next_target
    if user.must_change_password:
        target = url_for("security.change_password")
    session.clear()
    start_session(user)
    login_user(user)
    db.session.commit()
    return safe_next(target)


def change_password(user: User, form) -> bool:
    """Set the user's new password if the current one is right and the new one strong enough. The user's
    other sessions end; this device gets a new session (and cookie)."""
    if not user.check_password(form.current.data):
        form.current.errors.append("That is not your current password")
        return False
    if form.new.data == form.current.data:
        form.new.errors.append("Choose a password different from the one you have now")
        return False
    if problem := password_problem(form.new.data, collar_number=user.collar_number,
                                   display_name=user.display_name):
        form.new.errors.append(problem)
        return False
    user.set_password(form.new.data)
    user.must_change_password = False
    end_all_sessions(user, "password_changed")
    audit.record(AuditAction.UPDATE, user, actor=user, fields=["password"], change="changed_by_user")
    session.clear()
    start_session(user)
    login_user(user)
    return True
