"""Photos through the API (idempotent), in an S3-compatible store (moto's server over real HTTP), and in the PDF."""
from __future__ import annotations

import io
import re
import socket

import pytest
import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import EntryStatus, Photo, Role
from pcso.photos.storage import THUMB, PhotoMissing, S3Store, photo_bytes, store_from_config
from tests import factories
from tests.api.helpers import bearer, key, problem, token
from tests.factories import image_bytes, signed_in

OLD_TRAFFORD = factories.OLD_TRAFFORD


@pytest.fixture
def author(app):
    person = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    return person


def upload(client, secret, entry_id, data: bytes, idempotency_key: str, **fields):
    return client.post(f"/api/v1/entries/{entry_id}/photos", content_type="multipart/form-data",
                       data={"photo": (io.BytesIO(data), "IMG_2041.jpg"), **fields},
                       headers=bearer(secret, **{"Idempotency-Key": idempotency_key}))


def test_the_author_adds_a_photo_and_a_replay_stores_nothing_twice(app, client, author):
    entry = factories.asb(author, OLD_TRAFFORD, status=EntryStatus.DRAFT)
    db.session.commit()
    secret, same_key, data = token(author), key(), image_bytes(2400, 1800, gps=factories.GPS_M15_4AD)

    first = upload(client, secret, entry.id, data, same_key)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["width"] == 1600 and body["height"] == 1200 and body["url"] == f"/photos/{body['id']}"
    assert body["offer"]["lat"] == pytest.approx(53.464903, abs=1e-5) and first.headers["Location"] == body["url"]

    again = upload(client, secret, entry.id, data, same_key)  # a new multipart boundary, the same photo
    assert again.status_code == 201 and again.get_json() == body
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 1

    other = upload(client, secret, entry.id, image_bytes(colour=(0, 0, 0)), same_key)
    assert other.status_code == 422 and problem(other)["title"]  # the same key for another photo

    shown = client.get(f"/api/v1/entries/{entry.id}", headers=bearer(secret)).get_json()
    assert shown["photos"] == [{"id": body["id"], "url": body["url"], "thumbnail_url": body["thumbnail_url"],
                                "width": 1600, "height": 1200}]


def test_photos_may_follow_a_submitted_entry_but_not_an_approved_one_nor_anothers(app, client, author):
    submitted = factories.asb(author, OLD_TRAFFORD)
    approved = factories.asb(author, OLD_TRAFFORD, status=EntryStatus.APPROVED)
    colleague = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    secret = token(author)
    response = upload(client, secret, submitted.id, image_bytes(), key())
    assert response.status_code == 201 and response.get_json()["offer"] is None  # nothing left to decide
    assert upload(client, secret, approved.id, image_bytes(), key()).status_code == 403
    assert upload(client, token(colleague), submitted.id, image_bytes(), key()).status_code == 403
    assert upload(client, secret, 999_999, image_bytes(), key()).status_code == 404


def test_the_api_refuses_bad_photos_with_problems(app, client, author):
    entry = factories.asb(author, OLD_TRAFFORD, status=EntryStatus.DRAFT)
    db.session.commit()
    secret = token(author)
    refused = upload(client, secret, entry.id, b"GIF89a not really", key())
    assert refused.status_code == 422 and "JPEG, PNG or WebP" in problem(refused)["errors"]["photo"][0]
    missing = client.post(f"/api/v1/entries/{entry.id}/photos", content_type="multipart/form-data",
                          data={"other": "x"}, headers=bearer(secret, **{"Idempotency-Key": key()}))
    assert missing.status_code == 422 and problem(missing)["errors"]["photo"]
    huge = upload(client, secret, entry.id, b"\xff\xd8" + b"x" * (9 * 1024 * 1024), key())
    assert huge.status_code == 413 and "one photo of at most 8 MB" in problem(huge)["detail"]
    for number in range(app.config["PHOTO_MAX_COUNT"]):
        assert upload(client, secret, entry.id, image_bytes(64, 64, colour=(number * 40, 0, 0)), key()).status_code == 201
    full = upload(client, secret, entry.id, image_bytes(64, 64, colour=(0, 255, 0)), key())
    assert full.status_code == 409 and "6 photos at most" in problem(full)["detail"]


def test_the_openapi_document_describes_the_upload(client):
    operation = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/entries/{entry_id}/photos"]["post"]
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["photo"] and schema["properties"]["photo"]["format"] == "binary"
    assert {"$ref": "#/components/parameters/IDEMPOTENCY_KEY"} in operation["parameters"]


# --- the S3 backend, against moto's S3 server (the real protocol over HTTP on localhost) ------------------------------

@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_app(app, s3_endpoint, monkeypatch):
    config = {"PHOTO_STORAGE": "s3", "PHOTO_S3_ENDPOINT": s3_endpoint, "PHOTO_S3_BUCKET": "beatbook-photos",
              "PHOTO_S3_ACCESS_KEY": "testing", "PHOTO_S3_SECRET_KEY": "testing"}
    store = store_from_config(config)
    store.client.create_bucket(Bucket="beatbook-photos")
    monkeypatch.setitem(app.extensions, "beatbook_photo_store", store)
    yield store
    for item in store.client.list_objects_v2(Bucket="beatbook-photos").get("Contents", []):
        store.client.delete_object(Bucket="beatbook-photos", Key=item["Key"])
    store.client.delete_bucket(Bucket="beatbook-photos")


def test_photos_go_to_an_s3_bucket_are_served_from_it_and_removed_from_it(app, s3_app, author):
    assert isinstance(s3_app, S3Store)
    draft = factories.asb(author, OLD_TRAFFORD, status=EntryStatus.DRAFT)
    photo = factories.photo(draft, width=2000, height=1000)
    db.session.commit()
    keys = {item["Key"] for item in s3_app.client.list_objects_v2(Bucket="beatbook-photos")["Contents"]}
    assert keys == {photo.storage_key, photo.storage_key + THUMB}
    head = s3_app.client.head_object(Bucket="beatbook-photos", Key=photo.storage_key)
    assert head["ContentType"] == "image/jpeg" and head["ContentLength"] == photo.byte_size

    browser = signed_in(app, author)
    assert browser.get(f"/photos/{photo.id}").data == photo_bytes(photo)
    assert browser.post(f"/photos/{photo.id}/remove").status_code == 302
    assert "Contents" not in s3_app.client.list_objects_v2(Bucket="beatbook-photos")
    with pytest.raises(PhotoMissing):
        s3_app.get(photo.storage_key)


# --- the entry's PDF ---------------------------------------------------------------------------------------------

def test_the_entrys_pdf_carries_its_photos_scaled_to_fit(app, author):
    entry = factories.asb(author, OLD_TRAFFORD)
    factories.photo(entry, width=1600, height=1200)
    factories.photo(entry, width=600, height=1600, colour=(0, 200, 0))
    db.session.commit()
    response = signed_in(app, author).post(f"/entries/{entry.id}/pdf", data={"purpose": "Evidence pack for the ASB case review, ref 24/117",
                                                                             "recipient": "Trafford Council ASB team"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    objects = [o for o in re.findall(rb"obj\s*<<(.*?)>>\s*stream", response.data, re.S) if b"/Subtype /Image" in o]
    sizes = {(int(re.search(rb"/Width (\d+)", o)[1]), int(re.search(rb"/Height (\d+)", o)[1])) for o in objects}
    assert sizes == {(1600, 1200), (600, 1600)}, objects
