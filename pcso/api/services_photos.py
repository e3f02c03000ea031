"""Photos through the API: the photo services (pcso/photos/services.py) with the API's errors."""
from __future__ import annotations

from flask import url_for

from ..access import can_add_photos
from ..models import Photo, User
from ..photos.services import PhotoRejected, add_photo
from .errors import abort
from .services import visible_entry

STATUS = {"too_large": 413, "too_many": 409}


def url_of(photo: Photo) -> str:
    return url_for("photos.photo", photo_id=photo.id)


def as_json(photo: Photo) -> dict:
    offer = None
    if photo.has_offer:
        offer = {"taken_at": photo.offered_at.isoformat().replace("+00:00", "Z") if photo.offered_at else None,
                 "lat": photo.offered_lat, "lon": photo.offered_lon}
    return {"id": photo.id, "entry_id": photo.entry_id, "url": url_of(photo),
            "thumbnail_url": url_for("photos.thumbnail", photo_id=photo.id), "width": photo.width,
            "height": photo.height, "content_type": photo.content_type, "byte_size": photo.byte_size,
            "created_at": photo.created_at.isoformat().replace("+00:00", "Z"), "offer": offer}


def add(user: User, entry_id: int, upload, form) -> Photo:
    entry = visible_entry(user, entry_id)
    if not can_add_photos(user, entry):
        abort(403, "Only its author adds photos, while the entry is a draft, returned or awaiting review.")
    if upload is None:
        abort(422, "Send the photo as the multipart field 'photo'.", errors={"photo": ["Missing data."]})
    offer = {name: form.get(name) for name in ("taken_at", "lat", "lon")}
    try:
        return add_photo(entry, upload.read(), actor=user, filename=upload.filename, offer=offer)
    except PhotoRejected as error:
        abort(STATUS.get(error.reason, 422), error.message, errors={"photo": [error.message]})
