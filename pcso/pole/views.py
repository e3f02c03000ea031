"""POLE records: type-ahead suggestions for the entry forms (and, later, profiles)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, request
from flask_login import current_user

from ..access import LOGGERS, require, visible_links
from ..extensions import db
from ..models import Link, Person, Vehicle, name_key, normalise_vrm

bp = Blueprint("pole", __name__)

MAX_SUGGESTIONS = 8


def _query_text() -> str:
    """The typed text, from a JSON body: names stay out of URLs and access logs."""
    data = request.get_json(silent=True)
    return str(data.get("q") or "")[:120] if isinstance(data, dict) else ""


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@bp.post("/people/suggest")
@require(*LOGGERS)
def suggest_people():
    key = name_key(_query_text())
    if len(key) < 2:
        return jsonify(results=[])
    seen = sa.select(Link.person_id).where(visible_links(current_user), Link.person_id.is_not(None))
    people = db.session.scalars(
        sa.select(Person).where(Person.merged_into_id.is_(None), Person.id.in_(seen),
                                Person.name_key.like(_like(key), escape="\\"))
        .order_by(Person.name_key, Person.id).limit(MAX_SUGGESTIONS))
    return jsonify(results=[
        {"id": p.id, "name": p.full_name, "born_on": p.born_on.isoformat() if p.born_on else None,
         "label": p.full_name + (f" (born {p.born_on:%d %b %Y})" if p.born_on else "")}
        for p in people
    ])


@bp.post("/vehicles/suggest")
@require(*LOGGERS)
def suggest_vehicles():
    vrm = normalise_vrm(_query_text())
    if len(vrm) < 2:
        return jsonify(results=[])
    seen = sa.select(Link.vehicle_id).where(visible_links(current_user), Link.vehicle_id.is_not(None))
    vehicles = db.session.scalars(
        sa.select(Vehicle).where(Vehicle.merged_into_id.is_(None), Vehicle.id.in_(seen),
                                 Vehicle.vrm.like(_like(vrm), escape="\\"))
        .order_by(Vehicle.vrm).limit(MAX_SUGGESTIONS))
    return jsonify(results=[
        {"id": v.id, "vrm": v.vrm, "make": v.make, "model": v.model, "colour": v.colour,
         "label": f"{v.vrm} {v.description}".strip()}
        for v in vehicles
    ])
