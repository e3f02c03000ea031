"""Sealed entries and the phone's outbox through the API: open a sealed entry, log it as POST /api/v1/<slug>
would, and hold what is refused as its author's to fix (the phone can't read it back to fix it itself).

Nothing here logs or echoes the plaintext: refusals name fields and reasons, audit events ids and counts.
"""
from __future__ import annotations

import json

from flask import url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from marshmallow import ValidationError

from .. import audit, seal
from ..entries.errors import EntryNotFound, EntryRejected
from ..entries.held import hold_submission
from ..entries.schema import dump_entry, load_entry_input
from ..entries.services import log_entry
from ..extensions import db
from ..models import AuditAction, EntryKind, User
from .errors import abort
from .services_entries import client_key_for

NOT_SET_UP = "Sealing is not set up on this server (flask seal-key init): keep the entry encrypted on the phone."


def seal_key() -> dict:
    try:
        key = seal.current_key()
    except seal.SealingNotSetUp:
        abort(503, NOT_SET_UP, problem="sealing-not-set-up")
    return {"kid": key.kid, "alg": seal.ALG, "jwk": seal.public_jwk(key)}


def _plaintext(args: dict) -> bytes:
    try:
        return seal.open_sealed(args["kid"], args["wrapped_key"], args["iv"], args["ciphertext"])
    except seal.SealingNotSetUp:
        abort(503, NOT_SET_UP, problem="sealing-not-set-up")
    except seal.UnknownKey:
        abort(422, "This entry was sealed to a key this server does not hold: it can't be opened.",
              problem="seal-key-unknown", errors={"kid": ["Not a sealing key of this server."]})
    except seal.BadSeal as error:
        abort(422, "The sealed entry does not open: it is damaged or was not sealed to this key.",
              problem="seal-invalid", errors={str(error): ["Does not decrypt or decode."]})


def _kind(value) -> EntryKind | None:
    if not isinstance(value, str):
        return None
    return EntryKind.from_slug(value) or next((kind for kind in EntryKind if kind.value == value), None)


def open_envelope(args: dict) -> tuple[EntryKind, bool, dict]:
    """The sealed {"kind", "submit", "body"}, or a 422 naming what is wrong with it (never its content)."""
    try:
        envelope = json.loads(_plaintext(args).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        envelope = None
    if not isinstance(envelope, dict):
        abort(422, "The sealed entry is not a JSON object.", problem="seal-plaintext",
              errors={"ciphertext": ["Not a JSON object once opened."]})
    errors = {}
    kind = _kind(envelope.get("kind"))
    if kind is None:
        errors["kind"] = ["Not a kind of entry: use its URL slug, e.g. asb-incidents."]
    if not isinstance(envelope.get("submit", False), bool):
        errors["submit"] = ["Must be true or false."]
    if not isinstance(envelope.get("body"), dict):
        errors["body"] = ["Must be the entry's JSON object."]
    if errors or set(envelope) - {"kind", "submit", "body"}:
        abort(422, "The sealed entry is not {kind, submit, body}.", problem="seal-plaintext",
              errors=errors or {"_schema": ["Only kind, submit and body."]})
    return kind, envelope.get("submit", False), envelope["body"]


def _messages(messages) -> dict[str, str]:
    """marshmallow's messages ({field: [..]} or nested for rows) as {field: first message}."""
    def first(value) -> str:
        if isinstance(value, dict):
            key, inner = next(iter(value.items()))
            return (f"Row {key + 1}: " if isinstance(key, int) else f"{key}: ") + first(inner)
        if isinstance(value, list) and value:
            return first(value[0])
        return str(value)
    if not isinstance(messages, dict):
        return {"_schema": first(messages)}
    return {str(field): first(value) for field, value in messages.items()}


def _held(user: User, kind: EntryKind, key: str, body: dict, errors: dict[str, str]):
    held = hold_submission(user, kind, key, body, errors)
    url = url_for("entries.held", held_id=held.id)
    return {"status": "held", "id": held.id, "url": url, "errors": errors}, 202, {"Location": url}


def create_sealed(user: User, args: dict, idempotency_key: str):
    """(body, status, headers): 201/200 the entry, as POST /api/v1/<slug>; 202 held when it is refused."""
    kind, submit, body = open_envelope(args)
    key = client_key_for(idempotency_key)
    try:
        data = load_entry_input(kind, body, key)
    except ValidationError as error:
        return _held(user, kind, key, body, _messages(error.messages))
    try:
        with db.session.begin_nested():  # a refusal undoes whatever it had done (records found or made)
            entry, created = log_entry(data, actor=user, submit=submit)
    except EntryRejected as error:
        return _held(user, kind, key, body, error.errors)
    except EntryNotFound:
        return _held(user, kind, key, body, {"raised_from_id": "The entry it is raised from is not one you may open"})
    location = url_for("api_entries.entry", entry_id=entry.id)
    return dump_entry(entry, viewer=user), 201 if created else 200, {"Location": location}


def csrf_token(token) -> dict:
    if token is not None or not current_user.is_authenticated:
        abort(403, "A CSRF token is for the signed-in browser; a personal access token needs none.",
              problem="forbidden")
    return {"token": generate_csrf()}


def record_discarded(user: User, count: int, kinds: dict[str, int]) -> None:
    if sum(kinds.values()) != count:
        abort(422, "The counts by kind must add up to count.", errors={"kinds": ["Must add up to count."]})
    audit.record(AuditAction.ERASE, actor=user, object_type="outbox", count=count, kinds=dict(sorted(kinds.items())))
    db.session.commit()
