"""The shift briefing, and the beat priorities supervisors set."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("briefing", __name__)
