"""Where photo files live: never in the database, never under static/ (nothing serves them but the
access-checked route in pcso/photos/views.py).

PHOTO_STORAGE=local (the default): files in PHOTO_DIR (instance/photos), one folder per first two
characters of the key, written to a temporary name and renamed, so a reader never sees half a file.
PHOTO_STORAGE=s3: an S3-compatible bucket (AWS, MinIO, Ceph...) through boto3: PHOTO_S3_ENDPOINT (empty for
AWS itself), PHOTO_S3_BUCKET, PHOTO_S3_REGION, PHOTO_S3_ACCESS_KEY, PHOTO_S3_SECRET_KEY. The bucket should
be private; objects are written with no public ACL and read back only through the app.

Keys are random (new_key(): 32 characters from secrets), never derived from a file name, an entry or a
user; each photo has two objects: the image (`<key>`) and its thumbnail (`<key>-thumb`).
"""
from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Protocol

from flask import current_app

KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
THUMB = "-thumb"


class PhotoMissing(LookupError):
    """The store has no object under that key."""


def new_key() -> str:
    return secrets.token_urlsafe(24)  # 32 characters, 192 bits


def _checked(key: str) -> str:
    if not KEY.match(key.removesuffix(THUMB)):
        raise ValueError("not a photo storage key")
    return key


class PhotoStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...


class LocalStore:
    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        key = _checked(key)
        return self.folder / key[:2] / key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise PhotoMissing(key) from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Store:
    def __init__(self, *, bucket: str, endpoint: str | None = None, region: str = "us-east-1",
                 access_key: str | None = None, secret_key: str | None = None):
        import boto3  # only when S3 is configured: boto3 is slow to import  # noqa: PLC0415
        from botocore.config import Config  # noqa: PLC0415

        if not bucket:
            raise RuntimeError("PHOTO_STORAGE=s3 needs PHOTO_S3_BUCKET")
        self.bucket = bucket
        self.client = boto3.client(
            "s3", endpoint_url=endpoint or None, region_name=region, aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"},
                          connect_timeout=5, read_timeout=20))

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=_checked(key), Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=_checked(key))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise PhotoMissing(key) from None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=_checked(key))


def store_from_config(config) -> PhotoStore:
    kind = (config.get("PHOTO_STORAGE") or "local").lower()
    if kind == "local":
        return LocalStore(config["PHOTO_DIR"])
    if kind == "s3":
        return S3Store(bucket=config.get("PHOTO_S3_BUCKET", ""), endpoint=config.get("PHOTO_S3_ENDPOINT"),
                       region=config.get("PHOTO_S3_REGION") or "us-east-1",
                       access_key=config.get("PHOTO_S3_ACCESS_KEY"), secret_key=config.get("PHOTO_S3_SECRET_KEY"))
    raise RuntimeError(f"PHOTO_STORAGE must be 'local' or 's3', not {kind!r}")


def photo_store() -> PhotoStore:
    """The app's store, made once per app from its configuration."""
    store = current_app.extensions.get("beatbook_photo_store")
    if store is None:
        store = current_app.extensions["beatbook_photo_store"] = store_from_config(current_app.config)
    return store


def photo_bytes(photo, *, thumbnail: bool = False) -> bytes:
    """The stored image (or its thumbnail) of a Photo row."""
    return photo_store().get(photo.storage_key + (THUMB if thumbnail else ""))
