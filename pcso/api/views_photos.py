"""/api/v1: add a photo to an entry (the phone's outbox sends the entry, then its photos one by one)."""
from __future__ import annotations

import marshmallow as ma
from flask import jsonify, request

from ..access import LOGGERS
from . import services_photos
from .auth import api_require, api_user
from .blueprint import api_blueprint
from .idempotency import idempotent
from .schemas import STAMP, example

bp = api_blueprint("api_photos", "Photos of entries")

UPLOAD = {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["photo"], "properties": {
        "photo": {"type": "string", "format": "binary",
                  "description": "One JPEG, PNG or WebP image, at most PHOTO_MAX_BYTES (8 MB)"},
        "taken_at": {"type": "string", "format": "date-time",
                     "description": "The EXIF time the phone read before resizing (used when the image has none)"},
        "lat": {"type": "number", "minimum": -90, "maximum": 90, "description": "The EXIF GPS latitude, likewise"},
        "lon": {"type": "number", "minimum": -180, "maximum": 180, "description": "The EXIF GPS longitude"}}},
    "encoding": {"photo": {"contentType": "image/jpeg, image/png, image/webp"}}}}}


@example({"taken_at": STAMP, "lat": 53.464903, "lon": -2.260757})
class PhotoOfferSchema(ma.Schema):
    taken_at = ma.fields.AwareDateTime(allow_none=True)
    lat = ma.fields.Float(allow_none=True)
    lon = ma.fields.Float(allow_none=True)


@example({"id": 7, "entry_id": 42, "url": "/photos/7", "thumbnail_url": "/photos/7/thumbnail", "width": 1600,
          "height": 1200, "content_type": "image/jpeg", "byte_size": 312004, "created_at": STAMP,
          "offer": {"taken_at": STAMP, "lat": 53.464903, "lon": -2.260757}})
class PhotoSchema(ma.Schema):
    id = ma.fields.Integer()
    entry_id = ma.fields.Integer()
    url = ma.fields.String(metadata={"description": "The image, for those who may open the entry (no-store)"})
    thumbnail_url = ma.fields.String()
    width = ma.fields.Integer()
    height = ma.fields.Integer()
    content_type = ma.fields.String()
    byte_size = ma.fields.Integer()
    created_at = ma.fields.AwareDateTime()
    offer = ma.fields.Nested(PhotoOfferSchema, allow_none=True, metadata={
        "description": "The EXIF time and place offered for the entry (its page asks the author), or null"})


@bp.route("/entries/<int:entry_id>/photos", methods=["POST"])
@api_require(*LOGGERS)
@idempotent
@bp.response(201, PhotoSchema, description="The photo as stored: stripped of its metadata, at most 1600 px")
@bp.doc(requestBody=UPLOAD)
def add_photo(entry_id: int):
    """Add a photo to your entry while it is a draft, returned, or submitted and not yet reviewed.

    Multipart, field `photo`. Needs an Idempotency-Key: a retry with the same key and the same photo replays
    the first answer and stores nothing twice (the same image on the same entry is one photo anyway).
    413 over the size limit, 409 over the count limit, 422 for what is not a JPEG, PNG or WebP image."""
    photo = services_photos.add(api_user(), entry_id, request.files.get("photo"), request.form)
    response = jsonify(services_photos.as_json(photo))
    response.status_code = 201
    response.headers["Location"] = services_photos.url_of(photo)
    return response
