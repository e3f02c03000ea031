"""/networks/...: a POLE record's associates network as JSON, for the graph on its profile (static/js/network.js).

The same rule as the profile: a record the viewer can't see (or one merged away) is a 404. Each answer is a
consultation naming the record, every record drawn and every entry listed (pcso/pole/network_view.py).
"""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request
from flask_login import current_user

from ..access import READERS, can_view_record, require
from ..database import writes_on_read
from ..extensions import db
from ..models import Location, Organisation, Person, Vehicle
from ..web import same_origin_get
from . import queries
from .network import NetworkFilter, NetworkFilterError, build_network
from .network_view import network_json, record_network_shown

bp = Blueprint("network", __name__)


def _network(model, record_id: int):
    try:
        filters = NetworkFilter.from_args(request.args)
    except NetworkFilterError as problem:
        abort(400, description=str(problem))
    record = queries.get_record(model, record_id)
    if record is None or record.is_merged or not can_view_record(current_user, record):
        abort(404)
    network = build_network(current_user, record, filters)
    record_network_shown(network, actor=current_user)
    body = jsonify(network_json(network))
    db.session.commit()
    return body


@bp.get("/networks/people/<int:person_id>.json")
@require(*READERS)
@writes_on_read
@same_origin_get
def person(person_id: int):
    return _network(Person, person_id)


@bp.get("/networks/vehicles/<int:vehicle_id>.json")
@require(*READERS)
@writes_on_read
@same_origin_get
def vehicle(vehicle_id: int):
    return _network(Vehicle, vehicle_id)


@bp.get("/networks/locations/<int:location_id>.json")
@require(*READERS)
@writes_on_read
@same_origin_get
def location(location_id: int):
    return _network(Location, location_id)


@bp.get("/networks/organisations/<int:organisation_id>.json")
@require(*READERS)
@writes_on_read
@same_origin_get
def organisation(organisation_id: int):
    return _network(Organisation, organisation_id)
