"""/api/v1: who am I, the beats (GeoJSON, with ETag) and the schools."""
from __future__ import annotations

from ..access import ALL_ROLES, READERS, STAFF
from ..beats.services import outlines_geojson
from . import services
from .auth import api_require, authenticate
from .blueprint import api_blueprint
from .schemas import BeatCollectionSchema, MeSchema, SchoolSchema

bp = api_blueprint("api_core", "The caller, beats and schools")


@bp.route("/me", methods=["GET"])
@api_require(*ALL_ROLES)
@bp.response(200, MeSchema)
def me():
    """The caller: who they are, their role and beats, and how they signed in."""
    user, token = authenticate()
    return services.me(user, token)


@bp.route("/beats", methods=["GET"])
@api_require(*STAFF)
@bp.etag
@bp.response(200, BeatCollectionSchema)
def beats():
    """Every beat's outline, as a GeoJSON FeatureCollection (ETag; If-None-Match answers 304)."""
    return outlines_geojson(services.beats())


@bp.route("/schools", methods=["GET"])
@api_require(*READERS)
@bp.etag
@bp.response(200, SchoolSchema(many=True))
def schools():
    """The schools and colleges, with the beat each is on."""
    return services.schools()
