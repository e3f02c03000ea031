"""Idempotency-Key on creates (a review decision here): replay, different body, in flight, missing."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from pcso.api import idempotency
from pcso.entries.forms import CLIENT_KEY
from pcso.extensions import db
from pcso.models import EntryReview, IdempotencyKey, Role
from pcso.timeutil import utcnow
from tests import factories
from tests.api.helpers import bearer, key, problem, token

OLD_TRAFFORD = factories.OLD_TRAFFORD


@pytest.fixture
def world(app):
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    supervisor = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD])
    entry = factories.asb(author, OLD_TRAFFORD)
    db.session.commit()
    return supervisor, entry, token(supervisor)


def reviews() -> int:
    return db.session.scalar(sa.select(sa.func.count(EntryReview.id)))


def decide(client, entry, secret, body, idem):
    entry_id = entry if isinstance(entry, int) else entry.id
    return client.post(f"/api/v1/entries/{entry_id}/reviews", json=body,
                       headers=bearer(secret, **({"Idempotency-Key": idem} if idem else {})))


def test_the_same_key_and_body_replays_the_first_answer(app, world):
    supervisor, entry, secret = world
    client, idem = app.test_client(), key()
    body = {"decision": "return", "comment": "Add the victim's risk level"}
    first = decide(client, entry, secret, body, idem)
    assert first.status_code == 201 and first.get_json()["decision"] == "returned"
    again = decide(client, entry, secret, body, f'"{idem}"')  # the RFC 8941 quoted form is the same key
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true" and again.headers["Location"] == first.headers["Location"]
    assert reviews() == 1
    # without the key, the same body is a new request: the entry has been decided
    assert decide(client, entry, secret, body, key()).status_code == 409


def test_the_same_key_with_another_body_is_422(app, world):
    supervisor, entry, secret = world
    client, idem = app.test_client(), key()
    assert decide(client, entry, secret, {"decision": "return", "comment": "One"}, idem).status_code == 201
    response = decide(client, entry, secret, {"decision": "return", "comment": "Two"}, idem)
    assert response.status_code == 422 and problem(response)["type"].endswith("idempotency-key-reused")
    assert reviews() == 1


def test_the_same_key_and_body_with_another_query_is_another_request(app):
    """?submit=true with a key a draft was made with is not a replay of the draft (found by schemathesis)."""
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    client, idem, secret = app.test_client(), key(), token(author)
    body = {"occurred_at": utcnow().replace(microsecond=0).isoformat(), "mode": "foot", "purpose": "Tram stop",
            "postcode": "M15 4AD"}
    assert client.post("/api/v1/patrols", json=body, headers=bearer(secret, **{"Idempotency-Key": idem})).status_code == 201
    other = client.post("/api/v1/patrols?submit=true", json=body, headers=bearer(secret, **{"Idempotency-Key": idem}))
    assert other.status_code == 422 and problem(other)["type"].endswith("idempotency-key-reused")
    bad = client.post("/api/v1/patrols?submit=null", json=body, headers=bearer(secret, **{"Idempotency-Key": idem}))
    assert bad.status_code == 422


@pytest.mark.parametrize("idem", [None, "", "short", "has spaces in it", "x" * 65])
def test_a_missing_or_malformed_key_is_400(app, world, idem):
    supervisor, entry, secret = world
    response = decide(app.test_client(), entry, secret, {"decision": "approve"}, idem)
    assert response.status_code == 400 and problem(response)["errors"]["Idempotency-Key"]
    assert reviews() == 0


def test_keys_are_per_user(app, world):
    supervisor, entry, secret = world
    other = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD])
    second = factories.asb(factories.user(Role.PCSO, beats=[OLD_TRAFFORD]), OLD_TRAFFORD)
    db.session.commit()
    idem, body = key(), {"decision": "approve"}
    assert decide(app.test_client(), entry, secret, body, idem).status_code == 201
    answer = decide(app.test_client(), second, token(other), body, idem)
    assert answer.status_code == 201 and "Idempotent-Replayed" not in answer.headers
    assert reviews() == 2


def test_an_error_releases_the_key_for_a_corrected_retry(app, world):
    supervisor, entry, secret = world
    client, idem = app.test_client(), key()
    refused = decide(client, entry, secret, {"decision": "return", "comment": "  "}, idem)
    assert refused.status_code == 422 and problem(refused)["errors"]["comment"]
    assert db.session.scalar(sa.select(sa.func.count(IdempotencyKey.id))) == 0
    assert decide(client, entry, secret, {"decision": "return", "comment": "Say where"}, idem).status_code == 201


def test_a_request_still_in_flight_answers_409(app, world, monkeypatch):
    supervisor, entry, secret = world
    claimed, release = threading.Event(), threading.Event()

    def wait_after_claim():
        if threading.current_thread().name == "first":
            claimed.set()
            assert release.wait(10)

    monkeypatch.setattr(idempotency, "after_claim", wait_after_claim)
    idem, body, answers, entry_id = key(), {"decision": "approve", "comment": "Good"}, {}, entry.id
    db.session.commit()  # this thread holds no transaction (on SQLite it would hold the write lock)

    def send(name):
        answers[name] = decide(app.test_client(), entry_id, secret, body, idem)

    first = threading.Thread(target=send, args=("first",), name="first")
    first.start()
    assert claimed.wait(10)
    second = threading.Thread(target=send, args=("second",), name="second")
    second.start()
    second.join(10)
    release.set()
    first.join(10)
    assert answers["second"].status_code == 409
    assert problem(answers["second"])["type"].endswith("idempotency-key-in-flight")
    assert answers["first"].status_code == 201
    replay = decide(app.test_client(), entry, secret, body, idem)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert reviews() == 1


def test_keys_are_kept_30_days_then_purged(app, world):
    supervisor, entry, secret = world
    assert decide(app.test_client(), entry, secret, {"decision": "approve"}, key()).status_code == 201
    row = db.session.scalars(sa.select(IdempotencyKey)).one()
    assert idempotency.purge_idempotency_keys() == 0
    from datetime import timedelta
    row.created_at = utcnow() - timedelta(days=31)
    db.session.commit()
    with pytest.raises(ValueError):
        idempotency.purge_idempotency_keys(older_than_days=7)
    assert idempotency.purge_idempotency_keys() == 1


def test_the_key_pattern_is_the_entry_forms_client_key():
    assert idempotency.KEY.pattern == CLIENT_KEY.pattern


def test_a_claim_whose_request_died_is_taken_over(app, world):
    """A claim left in flight by a request that died after committing it (its worker killed, the database
    restarted before the release). PostgreSQL: no transaction holds the claim's row, so the retry takes it over
    at once. SQLite (no row locks): once it is IDEMPOTENCY_IN_FLIGHT_SECONDS old."""
    supervisor, entry, secret = world
    idem, body = key(), {"decision": "approve"}
    client = app.test_client()
    fingerprint = None
    with app.test_request_context(f"/api/v1/entries/{entry.id}/reviews", method="POST", json=body):
        fingerprint = idempotency.fingerprint()
    row = IdempotencyKey(user_id=supervisor.id, key=idem, method="POST", path=f"/api/v1/entries/{entry.id}/reviews",
                         fingerprint=fingerprint, created_at=utcnow())
    db.session.add(row)
    db.session.commit()
    if db.engine.dialect.name == "sqlite":
        assert decide(client, entry, secret, body, idem).status_code == 409  # still fresh: in flight
        from datetime import timedelta
        row.created_at = utcnow() - timedelta(seconds=app.config["IDEMPOTENCY_IN_FLIGHT_SECONDS"] + 1)
        db.session.commit()
    assert decide(client, entry, secret, body, idem).status_code == 201 and reviews() == 1
    replay = decide(client, entry, secret, body, idem)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true" and reviews() == 1
