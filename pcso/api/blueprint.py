"""One way to make an API blueprint: under /api/v1, rate-limited per token (or user, or IP)."""
from __future__ import annotations

from flask_smorest import Blueprint

from ..extensions import limiter
from .auth import rate_limit, rate_limit_key

PREFIX = "/api/v1"


def api_blueprint(name: str, description: str) -> Blueprint:
    blueprint = Blueprint(name, __name__, url_prefix=PREFIX, description=description)
    limiter.limit(rate_limit, key_func=rate_limit_key)(blueprint)
    return blueprint
