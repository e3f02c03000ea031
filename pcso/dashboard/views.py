"""Beat dashboards: what happened on a beat over a period, with each figure linked to its entries."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("dashboard", __name__)
