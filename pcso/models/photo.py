"""A photo attached to an entry. The image itself is in the photo store (pcso/photos/storage.py: a folder
under instance/ or an S3 bucket), never in the database, under a random key that says nothing about the
entry, the officer or the file's name. What the row keeps is what serving and checking need.

`offered_at`/`offered_lat`/`offered_lon` are the time and place the photo's EXIF carried (read before the
metadata was stripped), kept only while its author may still use them for the entry (a draft or returned
entry) and cleared once they decide or the entry is submitted.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime
from .user import User


class Photo(db.Model):
    __tablename__ = "photo"
    __table_args__ = (
        # The same image twice on one entry is one photo (a re-sent form, an outbox retry without its key).
        sa.UniqueConstraint("entry_id", "sha256", name="uq_photo_entry_id_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"))  # led by the unique
    storage_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(32))
    width: Mapped[int]
    height: Mapped[int]
    byte_size: Mapped[int]
    thumbnail_size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))  # of the stored (stripped) bytes
    position: Mapped[int] = mapped_column(default=0)
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offered_lat: Mapped[float | None]
    offered_lon: Mapped[float | None]

    entry: Mapped["Entry"] = relationship(back_populates="photos")  # noqa: F821
    uploaded_by: Mapped[User] = relationship()

    @property
    def has_offer(self) -> bool:
        return self.offered_at is not None or self.offered_lat is not None

    def clear_offer(self) -> None:
        self.offered_at = self.offered_lat = self.offered_lon = None

    def __repr__(self) -> str:
        return f"<Photo {self.id} of entry {self.entry_id}>"
