"""Tokens and clients for the API tests."""
from __future__ import annotations

import base64
import json
import os
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pcso.api.tokens import create_token
from pcso.extensions import db
from pcso.models import TokenScope, User


def token(user: User, scope: TokenScope = TokenScope.WRITE, days: int = 30, name: str = "Test") -> str:
    _, secret = create_token(user, name=name, scope=scope, days=days, actor=user)
    db.session.commit()
    return secret


def bearer(secret: str, **extra) -> dict:
    return {"Authorization": f"Bearer {secret}", **extra}


def key() -> str:
    return str(uuid.uuid4())


def problem(response) -> dict:
    assert response.mimetype == "application/problem+json", (response.status_code, response.get_data(as_text=True))
    body = response.get_json()
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == response.status_code
    return body


def _b64url_int(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def seal(seal_key: dict, plaintext, *, iv: bytes | None = None) -> dict:
    """Seal as the phone's WebCrypto does: a fresh AES-256-GCM key encrypts the UTF-8 JSON (ciphertext || 16-byte
    tag, 12-byte IV), and RSA-OAEP with SHA-256 (MGF1 SHA-256) wraps the AES key with the JWK from GET /seal-key."""
    jwk = seal_key["jwk"]
    public = rsa.RSAPublicNumbers(_b64url_int(jwk["e"]), _b64url_int(jwk["n"])).public_key()
    aes_key, iv = os.urandom(32), iv or os.urandom(12)
    raw = plaintext if isinstance(plaintext, bytes) else json.dumps(plaintext).encode("utf-8")
    wrapped = public.encrypt(aes_key, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                                                   label=None))
    return {"kid": seal_key["kid"], "wrapped_key": b64url(wrapped), "iv": b64url(iv),
            "ciphertext": b64url(AESGCM(aes_key).encrypt(iv, raw, None))}
