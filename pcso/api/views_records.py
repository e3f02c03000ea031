"""/api/v1: POLE profiles (people, vehicles, places), seen through the entries the caller may open."""
from __future__ import annotations

from ..access import READERS
from ..database import writes_on_read
from ..extensions import db
from ..models import Location, Person, Vehicle
from . import services
from .auth import api_require, api_user
from .blueprint import api_blueprint
from .schemas_more import LocationProfileSchema, PersonProfileSchema, VehicleProfileSchema

bp = api_blueprint("api_records", "POLE records: people, vehicles and locations")


def _profile(model, record_id: int) -> dict:
    found = services.profile(api_user(), model, record_id)
    db.session.commit()
    return found


@bp.route("/people/<int:person_id>", methods=["GET"])
@api_require(*READERS)
@writes_on_read
@bp.response(200, PersonProfileSchema)
def person(person_id: int):
    """A person and the entries they appear in (404 unless an entry you may open links them). Audited."""
    return _profile(Person, person_id)


@bp.route("/vehicles/<int:vehicle_id>", methods=["GET"])
@api_require(*READERS)
@writes_on_read
@bp.response(200, VehicleProfileSchema)
def vehicle(vehicle_id: int):
    """A vehicle and the entries it appears in. Audited."""
    return _profile(Vehicle, vehicle_id)


@bp.route("/locations/<int:location_id>", methods=["GET"])
@api_require(*READERS)
@writes_on_read
@bp.response(200, LocationProfileSchema)
def location(location_id: int):
    """A place and the entries it appears in. Audited."""
    return _profile(Location, location_id)
