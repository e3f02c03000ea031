"""The review queue: supervisors approve submitted entries or return them to their authors."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("review", __name__)
