"""Sealed entries and the phone's outbox through the API: open a sealed entry, log it as POST /api/v1/<slug>
would, and hold what is refused as its author's to fix (the phone can't read it back to fix it itself).

Nothing here logs or echoes the plaintext: refusals name fields and reasons, audit events ids and counts.
"""
from __future__ import annotations

from flask import url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from marshmallow import ValidationError
from werkzeug.exceptions import NotFound

from .. import audit, seal
from ..entries.errors import EntryNotFound, EntryRejected
from ..entries.held import hold_submission
from ..entries.pages import form_input, make_form, raise_from
from ..entries.schema import dump_entry, load_entry_input
from ..entries.services import log_entry
from ..extensions import db
from ..models import AuditAction, EntryKind, User
from ..numbers import has_json_nul, loads_json
from .errors import abort
from .services_entries import client_key_for
from .services_forms import MAX_FIELDS, form_data, problems

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


def _is_pairs(value) -> bool:
    return isinstance(value, list) and len(value) <= MAX_FIELDS and all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair) for pair in value)


def open_envelope(args: dict) -> tuple[EntryKind, bool, dict | list]:
    """The sealed {"kind", "submit", "body" | "fields"}, or a 422 naming what is wrong with it (never its content).

    "body": the flat JSON body POST /api/v1/<slug> takes; "fields": the web form's [name, value] pairs, as
    POST /api/v1/forms/<slug> takes them (what the phone's outbox queues)."""
    try:
        plaintext = _plaintext(args)
        envelope = None if has_json_nul(plaintext) else loads_json(plaintext.decode("utf-8"))
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
    content = [name for name in ("body", "fields") if name in envelope]
    if content == ["body"] and not isinstance(envelope["body"], dict):
        errors["body"] = ["Must be the entry's JSON object."]
    elif content == ["fields"] and not _is_pairs(envelope["fields"]):
        errors["fields"] = [f"Must be at most {MAX_FIELDS} [name, value] pairs of strings."]
    elif len(content) != 1:
        errors["body"] = ["Send the entry as body (its JSON) or as fields (its form's pairs), one of them."]
    if errors or set(envelope) - {"kind", "submit", "body", "fields"}:
        abort(422, "The sealed entry is not {kind, submit, body or fields}.", problem="seal-plaintext",
              errors=errors or {"_schema": ["Only kind, submit and body or fields."]})
    return kind, envelope.get("submit", False), envelope[content[0]]


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


def _held(user: User, kind: EntryKind, key: str, content: dict | list, errors: dict[str, str]):
    held = hold_submission(user, kind, key, content if isinstance(content, dict) else {"fields": content}, errors)
    url = url_for("entries.held", held_id=held.id)
    return {"status": "held", "id": held.id, "url": url, "errors": errors}, 202, {"Location": url}


NOT_RAISED_FROM = {"raised_from_id": "The entry it is raised from is not one you may open"}


def _input_from_form(user: User, kind: EntryKind, pairs: list, key: str):
    """The form's pairs checked as the page checks them: (EntryInput, form) or (None, {field id: message})."""
    form = make_form(kind, user=user, formdata=form_data(pairs, key))
    try:
        raise_from(form, prefill=False, user=user)
    except NotFound:
        return None, NOT_RAISED_FROM
    if not form.validate():
        return None, {name: messages[0] for name, messages in problems(form).items()}
    return form_input(kind, form), form


def create_sealed(user: User, args: dict, idempotency_key: str):
    """(body, status, headers): 201/200 the entry, as POST /api/v1/<slug> (or /forms/<slug>); 202 held if refused."""
    kind, submit, content = open_envelope(args)
    key = client_key_for(idempotency_key)
    form = None
    if isinstance(content, dict):
        try:
            data = load_entry_input(kind, content, key)
        except ValidationError as error:
            return _held(user, kind, key, content, _messages(error.messages))
    else:
        data, form = _input_from_form(user, kind, content, key)
        if data is None:
            return _held(user, kind, key, content, form)
    try:
        with db.session.begin_nested():  # a refusal undoes whatever it had done (records found or made)
            entry, created = log_entry(data, actor=user, submit=submit)
    except EntryRejected as error:
        errors = error.errors if form is None else {name: found[0] for name, found in problems(form, error.errors).items()}
        return _held(user, kind, key, content, errors)
    except EntryNotFound:
        return _held(user, kind, key, content, NOT_RAISED_FROM)
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
