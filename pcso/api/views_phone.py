"""/api/v1 for the phone: the sealing key, sealed entries, a fresh CSRF token, and discarded outbox entries.

The contracts (docs/SECURITY.md says why):
- GET /seal-key: {kid, alg, jwk}: the current RSA-OAEP-256 public key; 503 when sealing is not set up.
- POST /sealed (Idempotency-Key, which becomes the entry's client key): {kid, wrapped_key, iv, ciphertext},
  base64url; opened, it is {"kind": "<slug>", "submit": bool, "body": {...}} and is logged as
  POST /api/v1/<slug>?submit=... would be: 201 (200: logged already). Refused: 202 {"status": "held", ...},
  kept as the author's to fix at /entries/held/<id>. A seal that does not open: 422.
- GET /csrf-token: {token} for the browser session (to send as X-CSRFToken).
- POST /outbox/discarded: {count, kinds}: 204, audited with the counts only.
"""
from __future__ import annotations

import marshmallow as ma
from flask import jsonify

from ..access import ALL_ROLES, LOGGERS
from ..models import EntryKind
from . import services_seal
from .auth import api_require, api_user, authenticate
from .blueprint import api_blueprint
from .idempotency import idempotent, request_key
from .schemas import Strict, example

bp = api_blueprint("api_phone", "The phone: sealing key, sealed entries, CSRF token, discarded outbox entries")
B64URL = ma.validate.Regexp(r"^[A-Za-z0-9_-]+$", error="Must be base64url, without padding.")
SLUGS = [kind.slug for kind in EntryKind]


@example({"kid": "3f9a0c1d2e4b5a69", "alg": "RSA-OAEP-256+A256GCM",
          "jwk": {"kty": "RSA", "n": "sXch...", "e": "AQAB", "alg": "RSA-OAEP-256", "ext": True,
                  "key_ops": ["encrypt", "wrapKey"]}})
class SealKeySchema(ma.Schema):
    kid = ma.fields.String(required=True, metadata={"description": "First 16 hex of SHA-256 of the key's DER"})
    alg = ma.fields.String(required=True, validate=ma.validate.Equal("RSA-OAEP-256+A256GCM"))
    jwk = ma.fields.Dict(required=True, metadata={"description": "For WebCrypto importKey('jwk', ..., "
                                                                  "{name: 'RSA-OAEP', hash: 'SHA-256'}, false, ['wrapKey'])"})


@example({"kid": "3f9a0c1d2e4b5a69", "wrapped_key": "Qm9n" * 128, "iv": "AAECAwQFBgcICQoL",
          "ciphertext": "c2VhbGVkIGVudHJ5IGFuZCBpdHMgdGFn"})
class SealedEntrySchema(Strict):
    kid = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[0-9a-f]{16}$"),
                           metadata={"description": "The kid of the key it was sealed to (GET /seal-key)"})
    wrapped_key = ma.fields.String(required=True, validate=[B64URL, ma.validate.Length(max=1024)], metadata={
        "description": "The entry's AES-256-GCM key, wrapped with RSA-OAEP (SHA-256)"})
    iv = ma.fields.String(required=True, validate=[B64URL, ma.validate.Length(equal=16)],
                          metadata={"description": "AES-GCM's 12-byte IV"})
    ciphertext = ma.fields.String(required=True, validate=[B64URL, ma.validate.Length(min=22, max=2_000_000)],
                                  metadata={"description": "AES-GCM output of the UTF-8 JSON "
                                            '{"kind": "<slug>", "submit": bool, "body": {...}}, its 16-byte tag last'})


@example({"status": "held", "id": 4, "url": "/entries/held/4", "errors": {"summary": "Enter a short summary"}})
class HeldSchema(ma.Schema):
    status = ma.fields.String(required=True, validate=ma.validate.Equal("held"))
    id = ma.fields.Integer(required=True)
    url = ma.fields.String(required=True, metadata={"description": "The page where its author fixes it"})
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)


@example({"token": "IjkzYjA1...Zg.aBcD"})
class CsrfTokenSchema(ma.Schema):
    token = ma.fields.String(required=True, metadata={"description": "Send it as X-CSRFToken"})


@example({"count": 2, "kinds": {"asb-incidents": 1, "welfare-checks": 1}})
class DiscardedSchema(Strict):
    count = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=500))
    kinds = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.OneOf(SLUGS)),
                           values=ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=500)),
                           required=True, validate=ma.validate.Length(min=1))


@bp.route("/seal-key", methods=["GET"])
@api_require(*LOGGERS)
@bp.response(200, SealKeySchema)
def seal_key():
    """The public key to seal finalised sensitive entries to (503 when sealing is not set up here)."""
    return services_seal.seal_key()


@bp.route("/sealed", methods=["POST"])
@api_require(*LOGGERS)
@idempotent
@bp.arguments(SealedEntrySchema)
@bp.response(201, {"type": "object"}, description="The entry logged (200: one logged already with this key)")
@bp.alt_response(202, schema=HeldSchema, description="Refused, and held as yours to fix at `url`", success=True)
def sealed(args: dict):
    """Log a sealed entry. Needs an Idempotency-Key, which becomes its client key; refused: held (202)."""
    body, status, headers = services_seal.create_sealed(api_user(), args, request_key())
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers)
    return response


@bp.route("/csrf-token", methods=["GET"])
@api_require(*ALL_ROLES)
@bp.response(200, CsrfTokenSchema)
def csrf_token():
    """A fresh CSRF token for the signed-in browser session (403 with a personal access token)."""
    return services_seal.csrf_token(authenticate()[1])


@bp.route("/outbox/discarded", methods=["POST"])
@api_require(*LOGGERS)
@bp.arguments(DiscardedSchema)
@bp.response(204, description="Recorded")
def outbox_discarded(args: dict):
    """Record that unsent entries were discarded on the phone: their count and kinds only, never content."""
    services_seal.record_discarded(api_user(), args["count"], args["kinds"])
    return "", 204
