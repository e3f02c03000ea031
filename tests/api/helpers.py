"""Tokens and clients for the API tests."""
from __future__ import annotations

import uuid

from pcso.api.tokens import create_token
from pcso.extensions import db
from pcso.models import TokenScope, User


def token(user: User, scope: TokenScope = TokenScope.WRITE, days: int = 30, name: str = "Test") -> str:
    _, secret = create_token(user, name=name, scope=scope, days=days, actor=user)
    db.session.commit()
    return secret


def bearer(secret: str, **extra) -> dict:
    return {"Authorization": f"Bearer {secret}", **extra}


def key() -> str:
    return str(uuid.uuid4())


def problem(response) -> dict:
    assert response.mimetype == "application/problem+json", (response.status_code, response.get_data(as_text=True))
    body = response.get_json()
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == response.status_code
    return body
