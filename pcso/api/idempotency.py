"""Idempotency-Key on every API create (draft-ietf-httpapi-idempotency-key-header).

- no key: 400; a key that is not 8-64 letters, digits or hyphens (quoted or bare): 400;
- a new key: the row is committed as in flight first, then the work runs; its 2xx answer (status,
  body, Location) is stored in the same transaction as the work, and the request commits once there;
- the same key and the same body again: the stored answer, replayed (Idempotent-Replayed: true);
- the same key and another body: 422; the same key while the first request still runs: 409.
An error answer stores nothing: the key is released, so a corrected request may use it again
(as Stripe does for requests that fail before they run). Keys are per user, kept 30 days at least.

A claim whose request died (its worker killed, the database restarted under it: the release could not run) is
taken over by the next try with the same key: on PostgreSQL at once, as the live request holds its claim's row
locked (FOR UPDATE) from the claim to its one commit, and a row no one holds belongs to no live request; on
SQLite, which has no row locks, once it is IDEMPOTENCY_IN_FLIGHT_SECONDS old (longer than gunicorn's --timeout:
by then its worker has been killed). Until then the retry answers 409 with Retry-After.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from copy import deepcopy
from datetime import timedelta
from functools import wraps

import sqlalchemy as sa
from flask import current_app, request

from ..extensions import db
from ..models import IdempotencyKey, User
from ..numbers import loads_json
from ..timeutil import utcnow
from .auth import api_user
from .errors import abort

HEADER = "Idempotency-Key"
KEY = re.compile(r"^[A-Za-z0-9-]{8,64}$")  # the entry form's CLIENT_KEY: a key can be an entry's client key
KEEP_DAYS = 30
PARAMETER = {
    "name": HEADER, "in": "header", "required": True,
    "description": "A unique key for this create (a UUID): a retry with the same key and body replays the "
                   "first answer. 8-64 letters, digits or hyphens; an RFC 8941 string (quoted) or bare.",
    "schema": {"type": "string", "pattern": "^([A-Za-z0-9-]{8,64}|\"[A-Za-z0-9-]{8,64}\")$",
               "example": "\"8e03978e-40d5-43e8-bc93-6894a57f9324\""},
}


def request_key() -> str:
    raw = request.headers.get(HEADER)
    if raw is None or not raw.strip():
        abort(400, "Send an Idempotency-Key header (a new UUID for each new create).",
              problem="idempotency-key-missing", errors={HEADER: ["Missing."]})
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not KEY.match(key):
        abort(400, "The Idempotency-Key must be 8 to 64 letters, digits or hyphens (a UUID).",
              problem="idempotency-key-missing", errors={HEADER: ["Not a valid key."]})
    return key


def _multipart() -> bytes:
    """A multipart body by what it carries: its fields and each file's SHA-256, sorted. Not its raw bytes:
    the boundary is new each time a client builds the same form, and the same photo must replay."""
    parts = sorted(["field", name, value] for name, value in request.form.items(multi=True))
    for name, upload in request.files.items(multi=True):
        digest = hashlib.sha256(upload.stream.read()).hexdigest()
        upload.stream.seek(0)
        parts.append(["file", name, digest])
    return json.dumps(sorted(parts), separators=(",", ":")).encode()


def fingerprint() -> str:
    """SHA-256 of the method, the path with its query and the body (canonical JSON when it parses; a multipart body by its
    fields and files' digests)."""
    if request.mimetype == "multipart/form-data":
        canonical = _multipart()
    else:
        body = request.get_data(cache=True)
        try:
            canonical = json.dumps(loads_json(body or b"null"), sort_keys=True, separators=(",", ":")).encode()
        except ValueError:
            canonical = body
    # The query string counts (?submit=true is another request): a replay never skips its validation.
    target = request.full_path if request.query_string else request.path
    return hashlib.sha256(request.method.encode() + b" " + target.encode() + b"\n" + canonical).hexdigest()


def claim(user: User, key: str, digest: str, token) -> tuple[int | None, IdempotencyKey | None]:
    """Commit the key as in flight (its created_at, `token`, says whose claim it is): (its row's id, None); or
    (None, the row that holds the key already)."""
    row = IdempotencyKey(user_id=user.id, key=key, method=request.method, path=request.path[:200],
                         fingerprint=digest, created_at=token)
    db.session.add(row)
    try:
        db.session.flush()
        row_id = row.id
        db.session.commit()
        return row_id, None
    except sa.exc.IntegrityError:
        db.session.rollback()
    return None, db.session.scalar(sa.select(IdempotencyKey).where(IdempotencyKey.user_id == user.id,
                                                                   IdempotencyKey.key == key))


def _complete(row_id: int, response) -> None:
    """The answer stored with the claim's row, by its id (one UPDATE: no read of the row first)."""
    db.session.execute(sa.update(IdempotencyKey).where(IdempotencyKey.id == row_id).values(
        completed_at=utcnow(), status_code=response.status_code, response=response.get_json(silent=True),
        location=response.headers.get("Location")))


def release(user: User, key: str) -> None:
    db.session.rollback()
    db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.user_id == user.id, IdempotencyKey.key == key,
                                                       IdempotencyKey.completed_at.is_(None)))
    db.session.commit()


def _row_locks() -> bool:
    return db.engine.dialect.name == "postgresql"


def _in_flight(row_id: int):
    return sa.select(IdempotencyKey.id).where(IdempotencyKey.id == row_id, IdempotencyKey.completed_at.is_(None))


def _hold(row_id: int, token) -> bool:
    """PostgreSQL: lock our claim's row until the request's one commit (a live request's claim is a locked row),
    and check the claim is still ours (another try may have taken it over between our claim and this lock)."""
    if not _row_locks():
        return True
    return db.session.execute(_in_flight(row_id).where(IdempotencyKey.created_at == token).with_for_update()
                              ).first() is not None


def _take_over(row: IdempotencyKey, token) -> bool:
    """Claim again (as `token`) a key whose request died in flight (a crash after the claim's commit), else False."""
    abandoned = row.created_at < token - timedelta(seconds=current_app.config["IDEMPOTENCY_IN_FLIGHT_SECONDS"])
    if not abandoned and _row_locks():  # no live request holds it: SKIP LOCKED finds it, and we hold it now
        abandoned = db.session.execute(_in_flight(row.id).with_for_update(skip_locked=True)).first() is not None
    taken = abandoned and db.session.execute(sa.update(IdempotencyKey).where(
        IdempotencyKey.id == row.id, IdempotencyKey.completed_at.is_(None)).values(created_at=token)).rowcount
    db.session.commit()
    return bool(taken)


def _still_in_flight():
    abort(409, "A request with this Idempotency-Key is still in progress.", problem="idempotency-key-in-flight",
          headers={"Retry-After": "1"})


def replay(row: IdempotencyKey):
    response = current_app.response_class(json.dumps(row.response), status=row.status_code,
                                          mimetype="application/json")
    if row.location:
        response.headers["Location"] = row.location
    response.headers["Idempotent-Replayed"] = "true"
    return response


def after_claim() -> None:
    """A seam between the claim's commit and the work (the in-flight race test waits here)."""


def idempotent(view: Callable) -> Callable:
    """For a create view that flushes and does not commit: the key's claim, replay and the one commit."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        user, key, digest, token = api_user(), request_key(), fingerprint(), utcnow()
        row_id, held = claim(user, key, digest, token)
        if held is not None:
            if held.fingerprint != digest:
                abort(422, "This Idempotency-Key was used with a different request.", problem="idempotency-key-reused")
            if not held.is_in_flight:
                return replay(held)
            if not _take_over(held, token):
                _still_in_flight()
            row_id = held.id
        if not _hold(row_id, token):
            _still_in_flight()
        after_claim()
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            release(user, key)
            raise
        if response.status_code >= 300:
            release(user, key)
            return response
        _complete(row_id, response)
        db.session.commit()
        return response

    wrapped._apidoc = deepcopy(getattr(wrapped, "_apidoc", {}))
    wrapped._apidoc.setdefault("arguments", {}).setdefault("parameters", []).append("IDEMPOTENCY_KEY")
    return wrapped


def purge_idempotency_keys(*, older_than_days: int = KEEP_DAYS) -> int:
    """Delete completed keys older than the retention (at least 30 days); returns how many."""
    if older_than_days < KEEP_DAYS:
        raise ValueError(f"keys are kept {KEEP_DAYS} days at least")
    cutoff = utcnow() - timedelta(days=older_than_days)
    result = db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    return result.rowcount
