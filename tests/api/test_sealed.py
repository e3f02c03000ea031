"""Sealed entries: the phone seals to the server's key (as WebCrypto does), the server opens and logs it once;
what it refuses is held as its author's to fix on the web, never lost."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from pcso import seal as sealing
from pcso.entries.schema import load_entry_input
from pcso.entries.services import log_entry
from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, Entry, EntryKind, EntryStatus, HeldSubmission, Role
from pcso.timeutil import to_london, utcnow
from tests import factories
from tests.api.helpers import b64url, bearer, key, problem, seal, token
from tests.test_entry_json import body as entry_body

OLD_TRAFFORD = factories.OLD_TRAFFORD


@pytest.fixture
def officer(app):
    person = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    return person, token(person)


def seal_key(client, secret) -> dict:
    response = client.get("/api/v1/seal-key", headers=bearer(secret))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def post_sealed(client, secret, sealed: dict, idem: str):
    return client.post("/api/v1/sealed", json=sealed, headers=bearer(secret, **{"Idempotency-Key": idem}))


def json_body(kind: EntryKind, **extra) -> dict:
    made = entry_body(kind, **extra)
    db.session.commit()  # the SPOC it names
    return made


def entries() -> int:
    return db.session.scalar(sa.select(sa.func.count(Entry.id)))


def test_the_seal_key_is_a_webcrypto_rsa_oaep_256_jwk(app, officer):
    _, secret = officer
    found = seal_key(app.test_client(), secret)
    jwk = found["jwk"]
    assert found["alg"] == "RSA-OAEP-256+A256GCM" and len(found["kid"]) == 16
    assert (jwk["kty"], jwk["alg"], jwk["e"], jwk["ext"], jwk["key_ops"]) == (
        "RSA", "RSA-OAEP-256", "AQAB", True, ["encrypt", "wrapKey"])
    assert "d" not in jwk and "p" not in jwk  # public parts only
    assert sealing.current_key().kid == found["kid"]
    assert sealing.current_key().public.key_size == 3072


@pytest.mark.parametrize("kind", [EntryKind.WELFARE_CHECK, EntryKind.INTELLIGENCE_REPORT], ids=str)
def test_pcso_sends_a_sealed_entry_it_is_logged_once_and_a_replay_changes_nothing(app, officer, kind):
    person, secret = officer
    client, idem = app.test_client(), key()
    sealed = seal(seal_key(client, secret), {"kind": kind.slug, "submit": True, "body": json_body(kind)})
    first = post_sealed(client, secret, sealed, idem)
    assert first.status_code == 201, first.get_json()
    entry = db.session.get(Entry, first.get_json()["id"])
    assert (entry.kind, entry.status, entry.client_key, entry.author_id) == (kind, EntryStatus.SUBMITTED, idem, person.id)
    assert first.headers["Location"] == f"/api/v1/entries/{entry.id}"
    again = post_sealed(client, secret, sealed, idem)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true" and entries() == 1


def test_the_same_entry_sealed_again_under_its_key_is_the_same_entry(app, officer):
    person, secret = officer
    client, idem = app.test_client(), key()
    found = seal_key(client, secret)
    plain = {"kind": "asb-incidents", "body": json_body(EntryKind.ASB_INCIDENT)}
    # Saved first through the web form under that client key (the phone had signal): the sealed copy finds it.
    log_entry(load_entry_input(EntryKind.ASB_INCIDENT, plain["body"], idem), actor=person)
    db.session.commit()
    assert post_sealed(client, secret, seal(found, plain), idem).status_code == 200 and entries() == 1


def test_a_refused_sealed_entry_is_held_for_its_author_and_the_answer_replays(app, officer):
    person, secret = officer
    client, idem = app.test_client(), key()
    body = json_body(EntryKind.WELFARE_CHECK, summary="", child_words="I'm fine")
    sealed = seal(seal_key(client, secret), {"kind": "welfare-checks", "submit": True, "body": body})
    response = post_sealed(client, secret, sealed, idem)
    assert response.status_code == 202, response.get_json()
    answer = response.get_json()
    held = db.session.get(HeldSubmission, answer["id"])
    assert answer == {"status": "held", "id": held.id, "url": f"/entries/held/{held.id}",
                      "errors": {"summary": "Enter a short summary"}}
    assert (held.author_id, held.kind, held.client_key) == (person.id, EntryKind.WELFARE_CHECK, idem)
    assert json.loads(held.body) == body and entries() == 0
    again = post_sealed(client, secret, sealed, idem)
    assert again.status_code == 202 and again.get_json() == answer and again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(sa.select(sa.func.count(HeldSubmission.id))) == 1
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.object_type == "held_submission")).one()
    assert (event.action, event.object_id, event.details) == (
        AuditAction.CREATE, held.id, {"kind": "welfare_check", "fields": ["summary"]})
    assert "fine" not in json.dumps(event.details)  # never the content


def test_a_body_its_schema_refuses_is_held_too(app, officer):
    _, secret = officer
    client = app.test_client()
    body = json_body(EntryKind.ASB_INCIDENT, nsir_category="bogus")
    response = post_sealed(client, secret, seal(seal_key(client, secret), {"kind": "asb-incidents", "body": body}),
                           key())
    assert response.status_code == 202 and "nsir_category" in response.get_json()["errors"]


def _garbage(found: dict) -> dict[str, dict]:
    good = seal(found, {"kind": "asb-incidents", "body": {}})
    flipped = good["ciphertext"][:-2] + ("AA" if good["ciphertext"][-2:] != "AA" else "BB")
    return {
        "unknown kid": {**good, "kid": "0123456789abcdef"},
        "tampered ciphertext": {**good, "ciphertext": flipped},
        "wrapped for another key": {**good, "wrapped_key": b64url(b"x" * 384)},
        "short wrapped key": {**good, "wrapped_key": b64url(b"x" * 20)},
        "not JSON inside": seal(found, b"\xff\xfe not json"),
        "JSON but no kind": seal(found, {"body": {}}),
        "unknown kind": seal(found, {"kind": "burglaries", "body": {}}),
        "body not an object": seal(found, {"kind": "asb-incidents", "body": "x"}),
        "not base64url": {**good, "iv": "!!!!!!!!!!!!!!!!"},
        "missing field": {key: value for key, value in good.items() if key != "ciphertext"},
    }


@pytest.mark.parametrize("case", ["unknown kid", "tampered ciphertext", "wrapped for another key", "short wrapped key",
                                  "not JSON inside", "JSON but no kind", "unknown kind", "body not an object",
                                  "not base64url", "missing field"])
def test_a_seal_that_does_not_open_is_a_4xx_problem_and_nothing_is_kept(app, officer, case):
    _, secret = officer
    client = app.test_client()
    response = post_sealed(client, secret, _garbage(seal_key(client, secret))[case], key())
    assert response.status_code == 422, response.get_data(as_text=True)
    problem(response)
    assert entries() == 0 and db.session.scalar(sa.select(sa.func.count(HeldSubmission.id))) == 0


def test_an_unknown_kid_says_so(app, officer):
    _, secret = officer
    client = app.test_client()
    response = post_sealed(client, secret, _garbage(seal_key(client, secret))["unknown kid"], key())
    body = problem(response)
    assert body["type"].endswith("problem-seal-key-unknown") and "kid" in body["errors"]


def test_an_entry_sealed_to_an_older_key_still_opens_after_rotation(app, officer, tmp_path):
    _, secret = officer
    client = app.test_client()
    saved, app.config["SEAL_KEY_DIR"] = app.config["SEAL_KEY_DIR"], str(tmp_path)
    try:
        sealing.make_key(tmp_path, stamp="20261201T000000000000Z")
        old = seal_key(client, secret)
        sealing.make_key(tmp_path, stamp="20261202T000000000000Z")
        assert seal_key(client, secret)["kid"] != old["kid"]  # the newest is current
        sealed = seal(old, {"kind": "asb-incidents", "body": json_body(EntryKind.ASB_INCIDENT)})
        assert post_sealed(client, secret, sealed, key()).status_code == 201
    finally:
        app.config["SEAL_KEY_DIR"] = saved


def test_without_a_sealing_key_both_endpoints_answer_503(app, officer, tmp_path):
    _, secret = officer
    client = app.test_client()
    found = seal_key(client, secret)
    saved, app.config["SEAL_KEY_DIR"] = app.config["SEAL_KEY_DIR"], str(tmp_path / "none")
    try:
        response = client.get("/api/v1/seal-key", headers=bearer(secret))
        assert response.status_code == 503 and problem(response)["type"].endswith("problem-sealing-not-set-up")
        sealed = seal(found, {"kind": "asb-incidents", "body": json_body(EntryKind.ASB_INCIDENT)})
        response = post_sealed(client, secret, sealed, key())
        assert response.status_code == 503 and problem(response)["type"].endswith("problem-sealing-not-set-up")
    finally:
        app.config["SEAL_KEY_DIR"] = saved
    assert entries() == 0


def test_the_analyst_may_not_send_or_fetch_the_key(app):
    analyst = factories.user(Role.ANALYST)
    db.session.commit()
    secret = token(analyst)
    client = app.test_client()
    assert client.get("/api/v1/seal-key", headers=bearer(secret)).status_code == 403
    assert client.post("/api/v1/sealed", json={}, headers=bearer(secret, **{"Idempotency-Key": key()})).status_code == 403


# --- the phone's outbox seals the web form's own [name, value] pairs (as POST /api/v1/forms/<slug> takes them) ---

def welfare_fields(spoc_id: int, **changes) -> list[list[str]]:
    fields = {"client_key": "ignored-the-key-wins", "csrf_token": "stale", "occurred_at": _now(),
              "summary": "Planned visit", "child_name": "Riley Morgan", "child_born_on": "2012-03-04",
              "spoc_id": str(spoc_id), "visit_type": "planned", "is_seen_alone": "yes", "risk_level": "medium",
              "child_words": "I'm fine", "location_source": "none", "postcode": "M15 4AD"} | changes
    return [[name, value] for name, value in fields.items()] + [["indicators", "new_phone"], ["indicators", "drugs"]]


def _now() -> str:
    return to_london(utcnow()).strftime("%Y-%m-%dT%H:%M")


def test_a_sealed_welfare_form_is_checked_as_the_page_checks_it_and_logged_once(app, officer):
    person, secret = officer
    client, idem = app.test_client(), key()
    sealed = seal(seal_key(client, secret), {"kind": "welfare-checks", "submit": True,
                                             "fields": welfare_fields(person.id)})
    first = post_sealed(client, secret, sealed, idem)
    assert first.status_code == 201, first.get_json()
    entry = db.session.get(Entry, first.get_json()["id"])
    assert (entry.kind, entry.status, entry.client_key) == (EntryKind.WELFARE_CHECK, EntryStatus.SUBMITTED, idem)
    assert entry.child_words == "I'm fine" and set(entry.indicators) == {"new_phone", "drugs"}
    assert post_sealed(client, secret, sealed, idem).get_json() == first.get_json() and entries() == 1


def test_a_sealed_form_the_page_would_refuse_is_held_with_the_pages_messages(app, officer):
    person, secret = officer
    client = app.test_client()
    fields = welfare_fields(person.id, summary="", child_born_on="2031-01-01")
    response = post_sealed(client, secret, seal(seal_key(client, secret), {"kind": "welfare-checks", "fields": fields}),
                           key())
    assert response.status_code == 202, response.get_json()
    answer = response.get_json()
    assert answer["errors"]["summary"] == "Enter a short summary" and entries() == 0
    assert json.loads(db.session.get(HeldSubmission, answer["id"]).body) == {"fields": fields}


def test_an_envelope_with_both_or_neither_of_body_and_fields_is_refused(app, officer):
    _, secret = officer
    client = app.test_client()
    found = seal_key(client, secret)
    for plain in ({"kind": "asb-incidents", "body": {}, "fields": []}, {"kind": "asb-incidents"},
                  {"kind": "asb-incidents", "fields": [["summary"]]}, {"kind": "asb-incidents", "fields": [["a", 1]]}):
        response = post_sealed(client, secret, seal(found, plain), key())
        assert problem(response)["type"].endswith("problem-seal-plaintext"), plain
    assert db.session.scalar(sa.select(sa.func.count(HeldSubmission.id))) == 0
