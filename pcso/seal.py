"""The sealing key: the server's RSA-OAEP key pair that phones seal finalised sensitive entries to.

The phone makes a random AES-256-GCM key per entry, encrypts the entry's JSON with it, and wraps the
AES key with this public key (RSA-OAEP, SHA-256 and MGF1-SHA-256, as WebCrypto's "RSA-OAEP" with
hash SHA-256 does). Only the server can open it; the phone cannot read it back.

Keys are PEM files (PKCS#8, mode 0600) in SEAL_KEY_DIR (instance/seal_keys/ by default), made by
`flask seal-key init` / `rotate`, never by create_app. The newest file is the current key; the older
ones stay and still open what was sealed to them (an entry may wait on a phone for days). A key's id
(kid) is the first 16 hex characters of the SHA-256 of its public key's DER.
"""
from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

KEY_BITS = 3072
ALG = "RSA-OAEP-256+A256GCM"
SUFFIX = ".pem"
IV_BYTES = 12
TAG_BYTES = 16
OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


class SealingNotSetUp(RuntimeError):
    """No sealing key: run `flask seal-key init`."""


class UnknownKey(LookupError):
    """Sealed to a key this server does not hold."""


class BadSeal(ValueError):
    """Not base64url, the wrong sizes, or it does not decrypt (tampered, or not sealed to that key)."""


@dataclass(frozen=True)
class SealKey:
    kid: str
    private: rsa.RSAPrivateKey
    path: Path

    @property
    def public(self) -> rsa.RSAPublicKey:
        return self.private.public_key()


def key_dir(config=None) -> Path:
    config = config if config is not None else current_app.config
    configured = config.get("SEAL_KEY_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "seal_keys"


def kid_of(public: rsa.RSAPublicKey) -> str:
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def _listing(folder: Path) -> tuple[tuple[str, int], ...]:
    if not folder.is_dir():
        return ()
    return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.iterdir() if p.name.endswith(SUFFIX)))


@lru_cache(maxsize=8)
def _load(folder: str, listing: tuple[tuple[str, int], ...]) -> tuple[SealKey, ...]:
    """The keys, newest first (file names start with a sortable UTC time). Cached until the folder changes."""
    keys = []
    for name, _ in sorted(listing, reverse=True):
        path = Path(folder) / name
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(private, rsa.RSAPrivateKey):
            raise SealingNotSetUp(f"{path} is not an RSA private key")
        keys.append(SealKey(kid=kid_of(private.public_key()), private=private, path=path))
    return tuple(keys)


def keys(folder: Path | None = None) -> tuple[SealKey, ...]:
    folder = folder or key_dir()
    return _load(str(folder), _listing(folder))


def current_key(folder: Path | None = None) -> SealKey:
    found = keys(folder)
    if not found:
        raise SealingNotSetUp("No sealing key: run `flask seal-key init`.")
    return found[0]


def make_key(folder: Path, *, stamp: str) -> SealKey:
    """A new key pair written as the newest file (0600, in a 0700 folder). `stamp`: a sortable UTC time."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    kid = kid_of(private.public_key())
    existing = [name for name, _ in _listing(folder)]
    number = len(existing) + 1
    path = folder / f"{stamp}-{number:03d}-{kid}{SUFFIX}"
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return SealKey(kid=kid, private=private, path=path)


def _b64url(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(key: SealKey) -> dict:
    """The public key as a JWK that WebCrypto imports for RSA-OAEP with SHA-256 (wrapKey)."""
    numbers = key.public.public_numbers()
    return {"kty": "RSA", "n": _b64url(numbers.n), "e": _b64url(numbers.e), "alg": "RSA-OAEP-256",
            "ext": True, "key_ops": ["encrypt", "wrapKey"]}


def b64url_decode(value: str, field: str) -> bytes:
    if not isinstance(value, str) or not value or any(c not in _B64URL for c in value) or len(value) % 4 == 1:
        raise BadSeal(field)
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def open_sealed(kid: str, wrapped_key: str, iv: str, ciphertext: str, folder: Path | None = None) -> bytes:
    """The plaintext of a sealed entry. Raises SealingNotSetUp, UnknownKey or BadSeal (naming the field)."""
    held = {key.kid: key for key in keys(folder)}
    if not held:
        raise SealingNotSetUp("No sealing key: run `flask seal-key init`.")
    key = held.get(kid)
    if key is None:
        raise UnknownKey(kid)
    wrapped, nonce, sealed = (b64url_decode(wrapped_key, "wrapped_key"), b64url_decode(iv, "iv"),
                              b64url_decode(ciphertext, "ciphertext"))
    if len(wrapped) != KEY_BITS // 8:
        raise BadSeal("wrapped_key")
    if len(nonce) != IV_BYTES:
        raise BadSeal("iv")
    if len(sealed) < TAG_BYTES:
        raise BadSeal("ciphertext")
    try:
        aes_key = key.private.decrypt(wrapped, OAEP)
    except ValueError:
        raise BadSeal("wrapped_key") from None
    if len(aes_key) != 32:
        raise BadSeal("wrapped_key")
    try:
        return AESGCM(aes_key).decrypt(nonce, sealed, None)
    except InvalidTag:
        raise BadSeal("ciphertext") from None
