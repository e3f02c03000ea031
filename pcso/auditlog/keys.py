"""The checkpoint signing key: Ed25519 (through `cryptography`), in files outside the database.

AUDIT_SIGNING_KEY_DIR (default instance/audit-keys/) holds `audit-<UTC time>-<key id>.key` (PKCS#8 PEM, mode 0600,
in a 0700 folder) and the public key beside it as `.pub` (SubjectPublicKeyInfo PEM). Made by `flask audit key init`
(and `make keys`), never by create_app. The newest private key signs; every .pub found verifies, so checkpoints
signed before a rotation still check. Verifying needs only the .pub files: a verifier elsewhere can be given those
alone. A key id is the first 16 hex digits of SHA-256 over the raw 32-byte public key.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app

PRIVATE_SUFFIX = ".key"
PUBLIC_SUFFIX = ".pub"
ORIGIN = "beatbook audit log v1"


class SigningNotSetUp(RuntimeError):
    """No signing key: run `flask audit key init`."""


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    private: Ed25519PrivateKey
    path: Path


def key_dir() -> Path:
    configured = current_app.config.get("AUDIT_SIGNING_KEY_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "audit-keys"


def key_id_of(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def checkpoint_message(tree_size: int, root_hash: bytes, signed_at: datetime) -> bytes:
    """What a checkpoint's signature covers: the log's name, the tree size, its root and when it was signed."""
    return f"{ORIGIN}\n{tree_size}\n{root_hash.hex()}\n{format_time(signed_at)}\n".encode("ascii")


def format_time(moment: datetime) -> str:
    """UTC, always with microseconds and a four-digit year: 2026-12-03T09:54:19.123456Z."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def make_key(folder: Path, *, stamp: str) -> SigningKey:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = Ed25519PrivateKey.generate()
    key_id = key_id_of(private.public_key())
    base = folder / f"audit-{stamp}-{key_id}"
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    descriptor = os.open(base.with_suffix(PRIVATE_SUFFIX), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    base.with_suffix(PUBLIC_SUFFIX).write_bytes(public)
    return SigningKey(key_id=key_id, private=private, path=base.with_suffix(PRIVATE_SUFFIX))


def current_key(folder: Path | None = None) -> SigningKey:
    folder = folder or key_dir()
    found = sorted(folder.glob(f"audit-*{PRIVATE_SUFFIX}")) if folder.is_dir() else []
    if not found:
        raise SigningNotSetUp(f"No audit signing key in {folder}: run `flask audit key init`.")
    path = found[-1]
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise SigningNotSetUp(f"{path} is not an Ed25519 private key")
    return SigningKey(key_id=key_id_of(private.public_key()), private=private, path=path)


def public_keys(folder: Path | None = None) -> dict[str, Ed25519PublicKey]:
    """Every public key in the folder, by key id."""
    folder = folder or key_dir()
    keys = {}
    for path in sorted(folder.glob(f"*{PUBLIC_SUFFIX}")) if folder.is_dir() else []:
        public = serialization.load_pem_public_key(path.read_bytes())
        if isinstance(public, Ed25519PublicKey):
            keys[key_id_of(public)] = public
    return keys


def sign(key: SigningKey, tree_size: int, root_hash: bytes, signed_at: datetime) -> bytes:
    return key.private.sign(checkpoint_message(tree_size, root_hash, signed_at))


def is_valid(public: Ed25519PublicKey, signature: bytes, tree_size: int, root_hash: bytes,
             signed_at: datetime) -> bool:
    try:
        public.verify(signature, checkpoint_message(tree_size, root_hash, signed_at))
    except InvalidSignature:
        return False
    return True
