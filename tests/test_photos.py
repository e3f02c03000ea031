"""Photos of entries: what is taken and what refused, what is stripped, who may see them, the form, the offer."""
from __future__ import annotations

import io
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from pcso.extensions import db
from pcso.models import AsbIncident, AuditAction, AuditEvent, Entry, EntryStatus, LocationSource, Photo, Role
from pcso.photos.images import read_offer
from pcso.photos.services import PhotoRejected, add_photo, photo_offer
from pcso.photos.storage import THUMB, photo_bytes, photo_store
from pcso.timeutil import to_london, utcnow
from tests import factories
from tests.factories import image_bytes, signed_in, soup

OLD_TRAFFORD = factories.OLD_TRAFFORD
TAKEN = "2026:12:01 14:02:00"  # London time (GMT in December), as a phone writes it
TAKEN_UTC = datetime(2026, 12, 1, 14, 2, tzinfo=timezone.utc)
GPS = factories.GPS_M15_4AD


@pytest.fixture
def officer(app):
    person = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    return person


@pytest.fixture
def draft(officer):
    entry = factories.asb(officer, OLD_TRAFFORD, status=EntryStatus.DRAFT)
    db.session.commit()
    return entry


def stored(photo: Photo) -> Image.Image:
    return Image.open(io.BytesIO(photo_bytes(photo)))


# --- the service: taken, cleaned, refused --------------------------------------------------------------------------

def test_a_real_photo_is_taken_stripped_and_capped_at_1600px(app, draft, officer):
    original = image_bytes(4000, 3000, gps=GPS, taken=TAKEN)
    assert read_offer(original)["lat"] is not None  # the test image does carry GPS

    photo = add_photo(draft, original, actor=officer, filename="Sam Smith's car.jpg")
    db.session.commit()

    image = stored(photo)
    assert image.format == "JPEG" and image.size == (1600, 1200) == (photo.width, photo.height)
    assert not image.getexif() and "exif" not in image.info and "icc_profile" not in image.info
    data = photo_bytes(photo)
    assert b"Exif" not in data and b"GPS" not in data and b"http://ns.adobe.com/xap" not in data
    assert photo.byte_size == len(data) and photo.content_type == "image/jpeg"
    assert "Sam" not in photo.storage_key and len(photo.storage_key) >= 32  # random, not from the name
    assert Path(app.config["PHOTO_DIR"]).resolve() != Path(app.static_folder).resolve()
    assert photo.created_at.tzinfo is not None and photo.uploaded_by_id == officer.id
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.object_type == "photo"))
    assert event.action == AuditAction.CREATE and event.object_id == photo.id
    assert event.details["entry_id"] == draft.id and "Sam" not in str(event.details)
    thumbnail = Image.open(io.BytesIO(photo_bytes(photo, thumbnail=True)))
    assert max(thumbnail.size) == 320 and not thumbnail.getexif()


def test_the_offer_is_read_before_stripping_and_kept_on_the_row(app, draft, officer):
    original = image_bytes(gps=GPS, taken=TAKEN)
    assert photo_offer(original) == {"taken_at": TAKEN_UTC, "lat": pytest.approx(GPS[0], abs=1e-5),
                                     "lon": pytest.approx(GPS[1], abs=1e-5)}
    photo = add_photo(draft, original, actor=officer)
    assert photo.offered_at == TAKEN_UTC and photo.offered_lat == pytest.approx(GPS[0], abs=1e-5)
    assert photo_offer(photo_bytes(photo)) == {"taken_at": None, "lat": None, "lon": None}


def test_exif_orientation_is_applied_before_stripping(app, draft, officer):
    # 600 wide, 400 tall, left half red; Orientation 6 means "turn 90 degrees clockwise to view".
    photo = add_photo(draft, image_bytes(600, 400, orientation=6), actor=officer)
    image = stored(photo).convert("RGB")
    assert image.size == (400, 600)
    top, bottom = image.getpixel((200, 20)), image.getpixel((200, 580))
    assert top[0] > 150 and top[2] < 100  # the red half is now on top
    assert bottom[2] > 150 and bottom[0] < 100


@pytest.mark.parametrize("data, words", [
    (b"just some text, not a photo", "not a photo Beatbook can read"),
    (image_bytes(fmt="GIF"), "GIF image"),
    (image_bytes(fmt="BMP"), "BMP image"),
    (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64, "HEIC"),
    (image_bytes(1200, 900)[:4000], "damaged or incomplete"),
    (b"", "empty"),
])
def test_what_is_not_a_jpeg_png_or_webp_photo_is_refused_with_a_reason(app, draft, officer, data, words):
    with pytest.raises(PhotoRejected) as refused:
        add_photo(draft, data, actor=officer)
    assert words in refused.value.message
    assert not db.session.scalars(sa.select(Photo)).all()


def test_png_and_webp_are_taken(app, draft, officer):
    for fmt in ("PNG", "WEBP"):
        add_photo(draft, image_bytes(300, 200, fmt=fmt, colour=(10, 200, 10)), actor=officer)
    assert [p.content_type for p in draft.photos] == ["image/jpeg", "image/jpeg"]


def test_a_decompression_bomb_is_refused_from_its_header(app, draft, officer):
    bomb = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(bomb, format="PNG")  # 400 million pixels in ~50 KB
    assert len(bomb.getvalue()) < 200_000
    with pytest.raises(PhotoRejected) as refused:
        add_photo(draft, bomb.getvalue(), actor=officer)
    assert "million pixels" in refused.value.message or "too many pixels" in refused.value.message


def test_size_and_count_limits(app, draft, officer):
    app.config["PHOTO_MAX_BYTES"], before = 50_000, app.config["PHOTO_MAX_BYTES"]
    try:
        with pytest.raises(PhotoRejected) as refused:
            add_photo(draft, image_bytes(2000, 1500, quality=100), actor=officer)
        assert refused.value.reason == "too_large" and "the limit is" in refused.value.message
    finally:
        app.config["PHOTO_MAX_BYTES"] = before
    for number in range(app.config["PHOTO_MAX_COUNT"]):
        add_photo(draft, image_bytes(200, 100, colour=(number * 30, 10, 10)), actor=officer)
    with pytest.raises(PhotoRejected) as refused:
        add_photo(draft, image_bytes(200, 100, colour=(250, 250, 0)), actor=officer)
    assert refused.value.reason == "too_many" and "6 photos at most" in refused.value.message


def test_the_same_image_twice_is_one_photo(app, draft, officer):
    data = image_bytes()
    first = add_photo(draft, data, actor=officer)
    assert add_photo(draft, data, actor=officer) is first
    assert len(draft.photos) == 1


# --- the route: the entry's rule, no-store, audited ----------------------------------------------------------------

def test_the_author_sees_the_photo_with_safe_headers_and_each_view_is_audited(app, draft, officer):
    photo = factories.photo(draft)
    db.session.commit()
    browser = signed_in(app, officer)
    response = browser.get(f"/photos/{photo.id}")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.data == photo_bytes(photo)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == f'inline; filename="photo-{photo.id}.jpg"'
    assert browser.get(f"/photos/{photo.id}/thumbnail").data == photo_bytes(photo, thumbnail=True)
    views = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.VIEW,
                                                           AuditEvent.object_type == "photo")
                               .order_by(AuditEvent.id)).all()  # a partitioned table keeps no row order
    assert [(v.object_id, v.actor_id, v.details["size"]) for v in views] == [
        (photo.id, officer.id, "full"), (photo.id, officer.id, "thumbnail")]


def test_a_photo_of_an_entry_you_may_not_open_is_404(app, draft, officer):
    colleague = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    outsider = factories.user(Role.PCSO, beats=["E05015239"])
    analyst = factories.user(Role.ANALYST)
    draft_photo = factories.photo(draft)
    submitted = factories.asb(officer, OLD_TRAFFORD)
    submitted_photo = factories.photo(submitted)
    welfare_photo = factories.photo(factories.welfare(officer, beat_code=OLD_TRAFFORD))
    db.session.commit()
    assert signed_in(app, colleague).get(f"/photos/{draft_photo.id}").status_code == 404  # a draft is its author's
    assert signed_in(app, colleague).get(f"/photos/{submitted_photo.id}").status_code == 200  # same beat
    assert signed_in(app, outsider).get(f"/photos/{submitted_photo.id}/thumbnail").status_code == 404
    assert signed_in(app, analyst).get(f"/photos/{welfare_photo.id}").status_code == 404
    assert signed_in(app, colleague).get("/photos/999999").status_code == 404
    refused = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == AuditAction.VIEW, AuditEvent.object_type == "photo", AuditEvent.actor_id != colleague.id))
    assert refused == 0  # nothing recorded as seen by those refused


def test_the_author_removes_a_photo_of_a_draft_and_its_files_go(app, draft, officer):
    photo = factories.photo(draft)
    db.session.commit()
    key, store = photo.storage_key, photo_store()
    page = soup(signed_in(app, officer).get(f"/entries/{draft.id}"))
    assert page.select_one("[data-testid=photos] img")["src"] == f"/photos/{photo.id}/thumbnail"
    assert page.select_one("[data-testid=photo-link]")["href"] == f"/photos/{photo.id}"
    response = signed_in(app, officer).post(f"/photos/{photo.id}/remove")
    assert response.location == f"/entries/{draft.id}"
    db.session.expire_all()
    assert db.session.get(Photo, photo.id) is None
    for name in (key, key + THUMB):
        with pytest.raises(LookupError):
            store.get(name)


def test_nobody_removes_a_photo_of_a_submitted_entry(app, officer):
    entry = factories.asb(officer, OLD_TRAFFORD)
    photo = factories.photo(entry)
    db.session.commit()
    assert signed_in(app, officer).post(f"/photos/{photo.id}/remove").status_code == 403
    assert db.session.get(Photo, photo.id) is not None


def test_deleting_an_entry_deletes_its_photo_rows(app, draft):
    factories.photo(draft)
    db.session.commit()
    db.session.execute(sa.delete(Entry).where(Entry.id == draft.id))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 0


# --- the form ----------------------------------------------------------------------------------------------------

def asb_form(**extra) -> dict:
    return factories.asb_form(**{"client_key": str(uuid.uuid4()), "summary": "Fly-tipping behind the shops",
                                 "description": "A sofa and bags of rubbish", **extra})


def test_photos_are_saved_with_the_entry_from_the_form(app, officer):
    browser = signed_in(app, officer)
    page = soup(browser.get("/asb-incidents/new"))
    form = page.select_one("form[data-entry-form]")
    assert form["enctype"] == "multipart/form-data"
    field = form.select_one("input[type=file][name=photos]")
    assert field["accept"] == "image/*" and field["capture"] == "environment" and field.has_attr("multiple")

    response = browser.post("/asb-incidents/new", content_type="multipart/form-data", data=asb_form(
        action="draft", photos=[(io.BytesIO(image_bytes(3000, 2000, gps=GPS, taken=TAKEN)), "IMG_0001.jpg"),
                                (io.BytesIO(image_bytes(500, 500, fmt="PNG")), "shot.png")]))
    entry = db.session.scalar(sa.select(AsbIncident))
    assert response.location == f"/entries/{entry.id}"
    assert [(p.width, p.height) for p in entry.photos] == [(1600, 1067), (500, 500)]


def test_a_refused_photo_keeps_everything_typed_and_saves_nothing(app, officer):
    browser = signed_in(app, officer)
    files_before = set(Path(app.config["PHOTO_DIR"]).rglob("*"))
    data = asb_form(action="submit", photos=[(io.BytesIO(image_bytes()), "good.jpg"),
                                             (io.BytesIO(b"%PDF-1.4 not a photo"), "notes.pdf")])
    response = browser.post("/asb-incidents/new", content_type="multipart/form-data", data=data)
    assert response.status_code == 400
    page = soup(response)
    message = page.select_one("#photos-error").get_text(" ", strip=True)
    assert "not a photo Beatbook can read" in message and "Choose the photos again" in message
    assert page.select_one("[data-testid=error-summary] a[href='#photos']") is not None
    assert page.select_one("#summary")["value"] == "Fly-tipping behind the shops"
    assert page.select_one("#description").get_text().strip() == "A sofa and bags of rubbish"
    assert page.select_one("input[name=client_key]")["value"] == data["client_key"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Entry)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 0
    assert set(Path(app.config["PHOTO_DIR"]).rglob("*")) == files_before  # nothing stored for the good one either


def test_too_many_photos_on_the_form_is_a_clear_400(app, officer):
    photos = [(io.BytesIO(image_bytes(100, 100, colour=(n * 30, 0, 0))), f"p{n}.jpg") for n in range(7)]
    response = signed_in(app, officer).post("/asb-incidents/new", content_type="multipart/form-data",
                                            data=asb_form(action="draft", photos=photos))
    assert response.status_code == 400
    assert "6 photos at most" in soup(response).select_one("#photos-error").get_text()


def test_a_form_too_big_even_for_photos_is_a_413_that_speaks_of_photos(app, officer):
    app.config["PHOTO_MAX_BYTES"], before = 20_000, app.config["PHOTO_MAX_BYTES"]
    try:
        response = signed_in(app, officer).post("/asb-incidents/new", content_type="multipart/form-data", data=asb_form(
            action="draft", photos=[(io.BytesIO(b"x" * (2 * 1024 * 1024 + 200_000)), "huge.jpg")]))
    finally:
        app.config["PHOTO_MAX_BYTES"] = before
    assert response.status_code == 413
    assert "photos" in soup(response).select_one("main p").get_text()


def test_an_entry_refused_for_its_fields_asks_for_the_photos_again(app, officer):
    response = signed_in(app, officer).post("/asb-incidents/new", content_type="multipart/form-data", data=asb_form(
        action="draft", summary="", photos=[(io.BytesIO(image_bytes()), "a.jpg")]))
    assert response.status_code == 400
    assert "Choose the photos again" in soup(response).select_one("#photos-error").get_text()


def test_photos_added_when_editing_a_draft(app, draft, officer):
    factories.photo(draft)
    db.session.commit()
    response = signed_in(app, officer).post(f"/entries/{draft.id}/edit", content_type="multipart/form-data",
                                            data=asb_form(action="draft", photos=[(io.BytesIO(image_bytes(
                                                300, 300, colour=(0, 250, 0))), "b.jpg")]))
    assert response.location == f"/entries/{draft.id}"
    db.session.expire_all()
    assert len(db.session.get(Entry, draft.id).photos) == 2


# --- the offer of the photo's time and place ------------------------------------------------------------------------

def test_the_offer_shows_then_updates_the_entry_through_its_services(app, officer):
    browser = signed_in(app, officer)
    response = browser.post("/asb-incidents/new", content_type="multipart/form-data", data=asb_form(
        action="draft", lat="", lon="", accuracy_m="", location_source="none", beat_id=str(factories.beat(OLD_TRAFFORD).id),
        photos=[(io.BytesIO(image_bytes(gps=GPS, taken=TAKEN)), "IMG.jpg")]))
    entry = db.session.scalar(sa.select(AsbIncident))
    assert entry is not None, soup(response).select_one("[data-testid=error-summary]")
    offer = soup(browser.get(f"/entries/{entry.id}")).select_one("[data-testid=photo-offer]")
    text = offer.get_text(" ", strip=True)
    assert "taken at 14:02 on 01 Dec 2026" in text and "near 53.46490, -2.26076" in text
    photo = entry.photos[0]

    response = browser.post(f"/photos/{photo.id}/use-offer")
    assert response.location == f"/entries/{entry.id}"
    db.session.expire_all()
    entry = db.session.get(AsbIncident, entry.id)
    assert entry.occurred_at == TAKEN_UTC
    assert (entry.lat, entry.lon) == (pytest.approx(GPS[0], abs=1e-5), pytest.approx(GPS[1], abs=1e-5))
    assert entry.location_source == LocationSource.GPS and entry.beat.code == OLD_TRAFFORD
    assert entry.description == "A sofa and bags of rubbish"  # everything else as it was
    assert not entry.photos[0].has_offer
    assert [r.action for r in entry.revisions] == ["created", "updated"]
    assert {"occurred_at", "lat", "lon"} <= set(entry.revisions[-1].changes)
    assert soup(browser.get(f"/entries/{entry.id}")).select_one("[data-testid=photo-offer]") is None


def test_dismissing_or_submitting_clears_the_offer(app, draft, officer):
    first = factories.photo(draft, gps=(53.47, -2.29), taken=TAKEN)
    db.session.commit()
    browser = signed_in(app, officer)
    assert soup(browser.get(f"/entries/{draft.id}")).select_one("[data-testid=photo-offer]") is not None
    browser.post(f"/photos/{first.id}/dismiss-offer")
    db.session.expire_all()
    assert not db.session.get(Photo, first.id).has_offer

    second = factories.photo(db.session.get(Entry, draft.id), gps=(53.47, -2.29), colour=(0, 0, 0))
    db.session.commit()
    assert second.has_offer
    browser.post(f"/entries/{draft.id}/submit")
    db.session.expire_all()
    assert not db.session.get(Photo, second.id).has_offer


def test_no_offer_is_kept_for_a_submitted_entry_or_when_nothing_differs(app, officer):
    submitted = factories.asb(officer, OLD_TRAFFORD)
    assert not factories.photo(submitted, gps=GPS, taken=TAKEN).has_offer
    draft = factories.asb(officer, OLD_TRAFFORD, status=EntryStatus.DRAFT, occurred_at=TAKEN_UTC)
    draft.lat, draft.lon = GPS
    factories.photo(draft, gps=GPS, taken=TAKEN)
    db.session.commit()
    assert soup(signed_in(app, officer).get(f"/entries/{draft.id}")).select_one("[data-testid=photo-offer]") is None


def test_a_client_offer_is_used_when_the_phone_resized_the_exif_away(app, draft, officer):
    photo = add_photo(draft, image_bytes(), actor=officer,
                      offer={"taken_at": "2026-12-01T14:02:00Z", "lat": "53.4649", "lon": "-2.2607"})
    assert photo.offered_at == TAKEN_UTC and photo.offered_lat == 53.4649
    nonsense = add_photo(draft, image_bytes(colour=(1, 2, 3)), actor=officer,
                         offer={"taken_at": "2999-01-01T00:00:00Z", "lat": "91", "lon": "x"})
    assert not nonsense.has_offer
    assert to_london(utcnow()).year >= 2026
