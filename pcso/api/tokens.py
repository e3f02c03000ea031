"""Personal access tokens: made by a signed-in officer, shown once, stored as a SHA-256, scoped, expiring.

A token is `bb_` and 43 characters of URL-safe randomness (256 bits): a plain SHA-256 of it is
enough (no salt or slow hash: nobody can guess through 2^256). The first 10 characters stay visible
so the owner can tell their tokens apart. Services flush and audit; the views commit.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa

from .. import audit
from ..extensions import db
from ..models import ApiToken, AuditAction, TokenScope, User
from ..timeutil import utcnow

SECRET_PREFIX = "bb_"
VISIBLE = 10
LIFETIMES_DAYS = (7, 30, 90)
TOUCH_EVERY = timedelta(seconds=60)  # last_used_at is written at most once a minute per token


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(user: User, *, name: str, scope: TokenScope, days: int, actor: User) -> tuple[ApiToken, str]:
    """(the token, its secret): the secret is returned this once and never stored."""
    if days not in LIFETIMES_DAYS:
        raise ValueError(f"days must be one of {LIFETIMES_DAYS}")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(user_id=user.id, name=name.strip(), prefix=secret[:VISIBLE], secret_hash=hash_secret(secret),
                     scope=scope, created_at=now, expires_at=now + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    audit.record(AuditAction.CREATE, token, actor=actor, user_id=user.id, scope=scope.value, days=days)
    return token, secret


def revoke_token(token: ApiToken, *, actor: User) -> bool:
    """Revoke a live token; False when it was revoked already."""
    if token.revoked_at is not None:
        return False
    token.revoked_at, token.revoked_by_id = utcnow(), actor.id
    audit.record(AuditAction.UPDATE, token, actor=actor, fields=["revoked_at"], user_id=token.user_id,
                 by_admin=actor.id != token.user_id)
    return True


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def token_of(user: User, token_id: int) -> ApiToken | None:
    """The user's own token (another's is None: the page answers 404)."""
    token = db.session.get(ApiToken, token_id)
    return token if token is not None and token.user_id == user.id else None


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def authenticate_token(secret: str) -> tuple[ApiToken | None, str | None]:
    """(the live token, None) or (None or the dead token, why it is refused). Records a refusal and commits it;
    a live token's last_used_at is written in a transaction of its own that writes first (SQLite: no lock upgrade).
    """
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.secret_hash == hash_secret(secret)))
    now = utcnow()
    reason = None
    if token is None:
        reason = "unknown"
    elif token.revoked_at is not None:
        reason = "revoked"
    elif now >= token.expires_at:
        reason = "expired"
    elif not token.user.is_enabled:
        reason = "account_disabled"
    if reason:
        audit.record(AuditAction.LOGIN_FAILED, actor=token.user if token else None, object_type="api_token",
                     object_id=token.id if token else None, reason=reason, prefix=secret[:VISIBLE])
        db.session.commit()
        return None, reason
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return token, None  # used within the minute: last_used_at is right to the minute, no write
    token_id = token.id
    db.session.rollback()
    db.session.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    db.session.commit()
    return db.session.get(ApiToken, token_id), None


def record_scope_refusal(token: ApiToken, method: str) -> None:
    audit.record(AuditAction.LOGIN_FAILED, actor=token.user, object_type="api_token", object_id=token.id,
                 reason="scope", method=method)
    db.session.commit()
