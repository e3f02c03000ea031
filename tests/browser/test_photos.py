"""A PCSO at 390x844 adds a photo to an ASB incident: the phone resizes it before sending, the saved entry
shows its thumbnail and offers the photo's own time and place, and the photo opens."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import sqlalchemy as sa
from PIL import Image, ImageFilter
from playwright.sync_api import expect

from pcso.extensions import db
from pcso.models import AsbIncident, Photo, Role, User
from pcso.timeutil import to_london, utcnow
from tests import factories
from tests.browser.conftest import OLD_TRAFFORD, check_page, entry_id_from_url, flash, login, use_my_location
from tests.factories import _dms

PHOTO_GPS = (53.4571, -2.2766)  # Old Trafford still, ~1 km from the officer's fix


def camera_jpeg(taken_local: str) -> bytes:
    """A 4000x3000 camera-like JPEG (some texture, so it weighs what a photo does) with EXIF time and GPS."""
    image = Image.effect_noise((1000, 750), 60).convert("RGB").resize((4000, 3000)).filter(ImageFilter.SMOOTH)
    image.paste((180, 30, 30), (0, 0, 2000, 3000), mask=Image.new("L", (2000, 3000), 90))
    exif = Image.Exif()
    exif[0x8769] = {0x9003: taken_local}  # ExifIFD: DateTimeOriginal
    exif[0x8825] = {1: "N", 2: _dms(PHOTO_GPS[0]), 3: "W", 4: _dms(PHOTO_GPS[1])}  # GPS IFD
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92, exif=exif)
    return out.getvalue()


def uploaded_image(body: bytes) -> Image.Image:
    """The image in the multipart body the browser sent (the part named photos)."""
    part = re.search(rb'name="photos"; filename="[^"]*"\r\nContent-Type: image/jpeg\r\n\r\n(.*?)\r\n--', body, re.S)
    assert part, "no photo in the form the browser sent"
    return Image.open(io.BytesIO(part[1]))


def record_bodies(app, monkeypatch, path: str) -> list[bytes]:
    """The bodies of POSTs to `path` as the server received them (Playwright does not expose file uploads)."""
    bodies, inner = [], app.wsgi_app

    def recording(environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == path:
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            bodies.append(body)
            environ["wsgi.input"] = io.BytesIO(body)
        return inner(environ, start_response)

    monkeypatch.setattr(app, "wsgi_app", recording)
    return bodies


def test_pcso_adds_a_photo_resized_on_the_phone_and_uses_its_time_and_place(live_app, page, make_user, monkeypatch):
    officer = make_user()
    login(page, officer)
    taken = to_london(utcnow() - timedelta(hours=3)).replace(second=0, microsecond=0)
    original = camera_jpeg(taken.strftime("%Y:%m:%d %H:%M:%S"))

    page.goto("/asb-incidents/new")
    page.fill("#summary", "Fly-tipping behind the shops")
    page.check("input[name=nsir_category][value=environmental]")
    page.select_option("#asb_type", "littering_drugs")
    page.fill("#description", "A sofa and six bags of rubbish dumped by the bins.")
    use_my_location(page)

    photos = page.locator("input[type=file][name=photos]")
    photos.set_input_files([{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a photo"}])
    status = page.locator("[data-photos-status]")
    expect(status).to_contain_text("\u201cnotes.txt\u201d is not a photo")

    photos.set_input_files([{"name": "IMG_2041.jpg", "mimeType": "image/jpeg", "buffer": original}])
    expect(status).to_contain_text("1 photo ready to save.")
    expect(page.get_by_test_id("photo-preview")).to_be_visible()
    chosen = page.evaluate("() => { const f = document.querySelector('input[name=photos]').files[0];"
                           " return {name: f.name, size: f.size, type: f.type}; }")
    assert chosen["type"] == "image/jpeg" and chosen["size"] < len(original) / 3, (chosen, len(original))
    offers = page.locator("input[name=photo_offers]").input_value()
    assert '"lat":53.4571' in offers and '"taken_at":"' in offers
    page.get_by_test_id("photos-fields").scroll_into_view_if_needed()
    check_page(page, "photos-01-asb-form-with-photo")

    sent = record_bodies(live_app, monkeypatch, "/asb-incidents/new")
    page.get_by_role("button", name="Save as draft").click()
    expect(flash(page)).to_contain_text("ASB incident saved.")
    entry_id = entry_id_from_url(page)

    print(f"\nMEASURED original {len(original)} bytes, form body sent {len(sent[0])} bytes")
    image = uploaded_image(sent[0])
    assert max(image.size) == 1600 and image.size == (1600, 1200)  # resized on the phone
    assert len(sent[0]) < len(original) / 3
    assert not image.getexif()  # the canvas kept no EXIF; the offer came separately
    with live_app.app_context():
        photo = db.session.scalar(sa.select(Photo).where(Photo.entry_id == entry_id))
        assert (photo.width, photo.height) == (1600, 1200)
        assert photo.offered_lat == PHOTO_GPS[0] and photo.offered_at is not None
        photo_id = photo.id
        db.session.remove()

    thumbnail = page.get_by_test_id("photos").locator("img")
    expect(thumbnail).to_be_visible()
    assert page.evaluate("(img) => img.complete && img.naturalWidth", thumbnail.element_handle()) == 320
    offer = page.get_by_test_id("photo-offer")
    expect(offer).to_contain_text(f"This photo was taken at {taken.strftime('%H:%M')}")
    expect(offer).to_contain_text("near 53.45710, -2.27660")
    check_page(page, "photos-02-entry-with-thumbnail-and-offer")

    offer.get_by_role("button", name="Use its time and place").click()
    expect(flash(page)).to_contain_text("The entry now has the photo's time and place.")
    expect(page.get_by_test_id("photo-offer")).to_have_count(0)
    with live_app.app_context():
        entry = db.session.get(AsbIncident, entry_id)
        assert to_london(entry.occurred_at).replace(tzinfo=None) == taken.replace(tzinfo=None)
        assert (round(entry.lat, 4), round(entry.lon, 4)) == PHOTO_GPS
        db.session.remove()

    with page.expect_response(f"**/photos/{photo_id}") as opened:
        page.get_by_test_id("photo-link").click()
    response = opened.value
    assert response.status == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "no-store"
    page.screenshot(path=str(check_page.__globals__["ARTIFACTS"] / "photos-03-photo-opened.png"))


def test_a_reason_given_for_a_sensitive_entry_lets_its_page_show_its_photos(live_app, new_context, make_user, in_db,
                                                                           problems):
    """ACCESS_REASON=required: a supervisor opening a welfare check with a photo is asked why first (the photo
    is not shown, even by its address); once answered, the entry's page shows the thumbnail and the photo opens."""
    author, sergeant = make_user(name="Pat Walker"), make_user(Role.SUPERVISOR, name="Sam Sergeant")

    def welfare_with_photo():
        check = factories.welfare(db.session.get(User, author.id), beat_code=OLD_TRAFFORD, child_name="Casey Photo")
        return check.id, factories.photo(check).id

    check_id, photo_id = in_db(welfare_with_photo)
    problems.allow(rf"status of 403 .*\[\S*/photos/{photo_id}/thumbnail\]")  # asked for before the reason, on purpose
    before = live_app.config["ACCESS_REASON"]
    live_app.config["ACCESS_REASON"] = "required"
    try:
        page = new_context().new_page()
        login(page, sergeant)
        assert page.goto(f"/photos/{photo_id}/thumbnail").status == 403  # not before a reason
        expect(page.get_by_role("heading", name="Why are you opening this record?")).to_be_visible()
        page.goto(f"/entries/{check_id}")
        expect(page.locator("[data-testid=photos] img")).to_have_count(0)
        expect(page.locator("body")).not_to_contain_text("Casey")
        page.get_by_label("Safeguarding referral or meeting").check()
        page.get_by_role("button", name="Open the record").click()
        expect(page.get_by_test_id("entry-summary")).to_be_visible()
        thumbnail = page.locator("[data-testid=photos] img").first
        expect(thumbnail).to_be_visible()
        thumbnail.scroll_into_view_if_needed()
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
        check_page(page, "photos-04-after-reason")
        page.get_by_test_id("photo-link").first.click()
        page.wait_for_load_state()
        assert page.evaluate("() => document.images.length && document.images[0].naturalWidth") > 0
    finally:
        live_app.config["ACCESS_REASON"] = before
