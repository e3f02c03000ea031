"""Filtered lists of entries, and their exports (CSV, GeoJSON, PDF), each recorded as a disclosure."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("lists", __name__)
