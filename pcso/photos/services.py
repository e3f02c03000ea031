"""Photos of entries: take one (checked, stripped, stored), show one (access-checked, audited), remove one,
and the EXIF time and place a photo offers for its entry. Services flush and audit; the caller commits.

The interface the pages, the API, the outbox and sealed submissions share:
- add_photo(entry, data, *, actor, filename=None, offer=None) -> Photo, raising PhotoRejected(message);
- photo_offer(data) -> {'taken_at': aware datetime | None, 'lat': float | None, 'lon': float | None}.

The offer. A photo's EXIF time and GPS place are read from the bytes as sent, before the metadata is
stripped (a photo the phone resized has none left: the phone read them first and sends them as `offer`).
They are kept on the photo row (offered_at/offered_lat/offered_lon) only while the author can act on them,
that is while the entry is a draft or returned; the entry page asks "use its time and place?" when they
differ from the entry's; using or dismissing the offer clears it, and so does submitting the entry
(pcso/entries/services.py). The stored image never carries them.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..access import visible_entries
from ..entries.data import PlaceInput
from ..entries.errors import EntryRejected
from ..entries.schema import entry_input_schema, dump_entry, load_entry_input
from ..entries.services import update_entry
from ..extensions import db
from ..geo import distance_m
from ..models import AuditAction, Entry, Photo, User
from ..numbers import LAT_RANGE, LON_RANGE, finite_float
from ..timeutil import utcnow
from .images import CleanImage, Limits, PhotoRejected, clean_image, read_offer
from .storage import THUMB, PhotoMissing, new_key, photo_bytes, photo_store

__all__ = ["PhotoRejected", "add_photo", "photo_offer"]

OFFER_TIME_SLACK = timedelta(minutes=15)  # a photo this close to the entry's time offers no new time
OFFER_PLACE_SLACK_M = 100  # nor one this close to its place


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo checked and cleaned, not yet stored or attached: the form checks every photo before saving."""

    image: CleanImage
    offer: dict


def limits() -> Limits:
    config = current_app.config
    return Limits(max_bytes=config["PHOTO_MAX_BYTES"], max_pixels=config["PHOTO_MAX_PIXELS"],
                  max_side=config["PHOTO_MAX_SIDE"])


def photo_offer(data: bytes) -> dict:
    """The EXIF time and place of a photo as sent (read before anything is stripped)."""
    return read_offer(data)


def checked_offer(offer: dict | None) -> dict:
    """An offer from a client (the phone read the EXIF before resizing): in range, or nothing."""
    clean = {"taken_at": None, "lat": None, "lon": None}
    if not isinstance(offer, dict):
        return clean
    taken_at = offer.get("taken_at")
    if isinstance(taken_at, str):
        try:
            taken_at = datetime.fromisoformat(taken_at.replace("Z", "+00:00"))
        except ValueError:
            taken_at = None
    if isinstance(taken_at, datetime) and taken_at.tzinfo is not None:
        taken_at = taken_at.astimezone(timezone.utc)
        if taken_at.year >= 2000 and taken_at <= utcnow() + timedelta(minutes=10):
            clean["taken_at"] = taken_at
    lat, lon = finite_float(offer.get("lat"), *LAT_RANGE), finite_float(offer.get("lon"), *LON_RANGE)
    if lat is not None and lon is not None and (lat, lon) != (0, 0):
        clean["lat"], clean["lon"] = round(lat, 6), round(lon, 6)
    return clean


def check_count(entry: Entry | None, adding: int) -> None:
    most = current_app.config["PHOTO_MAX_COUNT"]
    having = len(entry.photos) if entry is not None else 0
    if having + adding > most:
        left = max(most - having, 0)
        raise PhotoRejected(f"An entry can have {most} photos at most"
                            + (f": this one has {having}, so add {left} more at most." if having else
                               f": choose {most} or fewer."), reason="too_many")


def prepare_photo(data: bytes, *, offer: dict | None = None) -> PreparedPhoto:
    """Check and clean one photo; its offer is the EXIF's (read first), else the client's."""
    found = photo_offer(data)
    image = clean_image(data, limits())
    if found["taken_at"] is None and found["lat"] is None:
        found = checked_offer(offer)
    return PreparedPhoto(image=image, offer=found)


def _same_image(entry: Entry, sha256: str) -> Photo | None:
    return db.session.scalar(sa.select(Photo).where(Photo.entry_id == entry.id, Photo.sha256 == sha256))


def _discard(key: str) -> None:
    store = photo_store()
    store.delete(key)
    store.delete(key + THUMB)


def attach_photo(entry: Entry, prepared: PreparedPhoto, *, actor: User) -> Photo:
    """Store a prepared photo and attach it to the entry (the same image twice is the one photo)."""
    image = prepared.image
    existing = _same_image(entry, image.sha256)
    if existing is not None:
        return existing
    check_count(entry, 1)
    key = new_key()
    store = photo_store()
    store.put(key, image.data, image.content_type)
    store.put(key + THUMB, image.thumbnail, image.content_type)
    offer = prepared.offer if entry.is_editable_state else {}
    photo = Photo(storage_key=key, content_type=image.content_type, width=image.width,
                  height=image.height, byte_size=len(image.data), thumbnail_size=len(image.thumbnail),
                  sha256=image.sha256, uploaded_by_id=actor.id, position=len(entry.photos),
                  offered_at=offer.get("taken_at"), offered_lat=offer.get("lat"), offered_lon=offer.get("lon"))
    try:
        with db.session.begin_nested():
            entry.photos.append(photo)  # from the entry's side, so the session takes the photo with it
            db.session.flush()
    except IntegrityError:  # the same image, attached by a request racing this one
        _discard(key)
        db.session.expire(entry, ["photos"])
        existing = _same_image(entry, image.sha256)
        if existing is None:
            raise
        return existing
    audit.record(AuditAction.CREATE, photo, actor=actor, object_type="photo", entry_id=entry.id,
                 width=photo.width, height=photo.height, byte_size=photo.byte_size, offered=photo.has_offer)
    return photo


def add_photo(entry: Entry, data: bytes, *, actor: User, filename: str | None = None,
              offer: dict | None = None) -> Photo:
    """Check, strip, store and attach one photo; flushes and audits (the caller commits).

    `filename` is never stored or used for the key (it may name a person or a place); `offer` is what a
    client read from the EXIF before resizing, used when the bytes carry none.
    """
    return attach_photo(entry, prepare_photo(data, offer=offer), actor=actor)


def remove_photo(photo: Photo, *, actor: User) -> None:
    """Take a photo off its entry (the caller checked can_remove_photo) and delete its files."""
    entry, key = photo.entry, photo.storage_key
    entry.photos.remove(photo)
    db.session.flush()
    audit.record(AuditAction.ERASE, actor=actor, object_type="photo", object_id=photo.id, entry_id=entry.id)
    _discard(key)


def visible_photo(user: User, photo_id: int) -> Photo | None:
    """A photo of an entry the user may open, else None (the route answers 404)."""
    return db.session.scalar(sa.select(Photo).join(Entry, Photo.entry_id == Entry.id)
                             .where(Photo.id == photo_id, visible_entries(user)))


def open_photo(user: User, photo: Photo, *, thumbnail: bool = False, **details) -> tuple[Photo, bytes] | None:
    """A visible photo and its bytes, the viewing audited (with `details`: the reason for access); None when
    its file is gone."""
    try:
        data = photo_bytes(photo, thumbnail=thumbnail)
    except PhotoMissing:
        return None
    audit.consulted(photo, actor=user, object_type="photo", entry_id=photo.entry_id,
                    size="thumbnail" if thumbnail else "full", **details)
    return photo, data


# --- the offer ------------------------------------------------------------------------------------

def _differs(entry: Entry, photo: Photo) -> bool:
    new_time = photo.offered_at is not None and abs(photo.offered_at - entry.occurred_at) > OFFER_TIME_SLACK
    if photo.offered_lat is None:
        return new_time
    if not entry.has_location:
        return True
    return new_time or distance_m(entry.lat, entry.lon, photo.offered_lat, photo.offered_lon) > OFFER_PLACE_SLACK_M


def pending_offer(entry: Entry) -> Photo | None:
    """The first photo whose EXIF time or place differs from the entry's, while the entry is editable."""
    if not entry.is_editable_state:
        return None
    return next((photo for photo in entry.photos if photo.has_offer and _differs(entry, photo)), None)


def _entry_input(entry: Entry, actor: User):
    """The entry as it is, as typed input (its JSON, read back by its kind's schema), without its place."""
    body = dump_entry(entry, viewer=actor)
    fields = entry_input_schema(entry.kind)._declared_fields
    body = {name: body[name] for name in fields if name in body} | {
        "lat": None, "lon": None, "accuracy_m": None, "location_source": "none", "postcode": None, "beat_id": None}
    return load_entry_input(entry.kind, body, entry.client_key)


def use_offer(photo: Photo, *, actor: User) -> Entry:
    """Give the entry the photo's time and place, through update_entry (revision, audit, beat, patrol).

    Only what the photo offers changes: without a GPS place the entry keeps its point (a point from a
    postcode is then kept as a point); a beat chosen by hand stays chosen.
    """
    entry = photo.entry
    kept = entry.beat_id if entry.is_beat_overridden else None
    if photo.offered_lat is not None:
        place = PlaceInput(lat=photo.offered_lat, lon=photo.offered_lon, source="gps",
                           location_text=entry.location_text, beat_id=kept)
    else:
        place = PlaceInput(lat=entry.lat, lon=entry.lon, accuracy_m=entry.accuracy_m,
                           source=entry.location_source.value, location_text=entry.location_text, beat_id=kept)
    data = replace(_entry_input(entry, actor), occurred_at=photo.offered_at or entry.occurred_at, place=place)
    for each in entry.photos:
        each.clear_offer()
    try:
        return update_entry(entry, data, actor=actor)
    except EntryRejected as error:
        raise PhotoRejected("The photo's time and place can't be used: " + error.message) from None


def dismiss_offer(photo: Photo, *, actor: User) -> None:
    for each in photo.entry.photos:
        each.clear_offer()
    db.session.flush()
    audit.record(AuditAction.UPDATE, photo, actor=actor, object_type="photo", entry_id=photo.entry_id,
                 fields=["offer"], decision="dismissed")
