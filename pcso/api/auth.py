"""Who is calling the API: a personal access token (Authorization: Bearer) or the browser's session.

- A token works only here, never for the HTML pages (Flask-Login reads the session cookie alone).
  Its scope limits the methods: read sends GET only; write also POST, PUT and PATCH.
- The session works for the app's own scripts; an unsafe method then needs the session's CSRF token
  in X-CSRFToken (the API blueprints are exempt from CSRFProtect, which would want a form field).
- No credentials, or a bad token: 401 with WWW-Authenticate. A role that may not: 403. A record the
  caller may not see: 404, as on the pages (the views' business, through access.py).

`@api_require(*roles)` declares the roles like access.require does (the architecture test reads
`.access`), and puts the caller in g for `api_user()`.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from ..models import ApiToken, Role, User
from .errors import abort
from .tokens import authenticate_token, hash_secret, record_scope_refusal

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BEARER = "Bearer "
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="beatbook"'}


def _bearer_secret() -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    if not header.startswith(BEARER) or not header[len(BEARER):].strip():
        abort(401, "Send the token as: Authorization: Bearer <token>.", problem="unauthenticated", headers=CHALLENGE)
    return header[len(BEARER):].strip()


def _check_csrf() -> None:
    if request.method in SAFE_METHODS:
        return
    try:
        validate_csrf(request.headers.get("X-CSRFToken"))
    except ValidationError:
        abort(403, "Send the page's CSRF token in the X-CSRFToken header.", problem="csrf")


def authenticate(*, reads: bool = False) -> tuple[User, ApiToken | None]:
    """The caller (and their token, if they sent one), or a 401/403 problem.

    `reads`: the operation only reads though it is a POST (search: names stay out of URLs), so a read
    token may send it.
    """
    if "api_user" in g:
        return g.api_user, g.api_token
    secret = _bearer_secret()
    token = None
    if secret is not None:
        token, reason = authenticate_token(secret)
        if token is None:
            abort(401, f"This token is not accepted ({reason.replace('_', ' ')}).", problem="unauthenticated",
                  headers=CHALLENGE)
        user = token.user
        if not (reads or token.allows(request.method)):
            record_scope_refusal(token, request.method)
            abort(403, "This token may only read: make a read and write token to change anything.",
                  problem="scope")
    elif current_user.is_authenticated:
        user = current_user._get_current_object()
        _check_csrf()
    else:
        abort(401, "Sign in, or send a personal access token.", problem="unauthenticated", headers=CHALLENGE)
    g.api_user, g.api_token = user, token
    return user, token


def api_user() -> User:
    return authenticate()[0]


def api_require(*roles: Role, reads: bool = False) -> Callable:
    """Only callers with one of `roles`; as access.require, with problems instead of redirects."""
    if not roles:
        raise ValueError("api_require() needs at least one role")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            user, _ = authenticate(reads=reads)
            if user.role not in roles:
                abort(403, f"A {user.role.label} may not do this.", problem="forbidden")
            return view(*args, **kwargs)

        wrapped.access = frozenset(roles)
        return wrapped

    return decorator


def rate_limit_key() -> str:
    """Flask-Limiter's key: the token (by its hash, no database needed), else the signed-in user, else the IP."""
    header = request.headers.get("Authorization", "")
    if header.startswith(BEARER) and header[len(BEARER):].strip():
        return "token:" + hash_secret(header[len(BEARER):].strip())[:24]
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return "ip:" + (get_remote_address() or "unknown")


def rate_limit() -> str:
    return current_app.config.get("API_RATELIMIT", "300 per minute")
