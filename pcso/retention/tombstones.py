"""What a disposed-of entry leaves: its pages and the API answer 410 Gone to those who could have seen it.

The tombstone (ErasedRecord) keeps the facts can_view_entry() decides on (author, SPOC, kind, marking,
beat, whether it was still a draft), never its content, so the same rule says who may learn that it was
disposed of: they get "410 Gone" with the date; anyone else gets the 404 they would have had before.
POLE records have no tombstone answer: they were visible only through their entries' links, and those
are gone, so no one could see them now (404).
"""
from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa
from werkzeug.exceptions import HTTPException

from ..access import can_view_entry
from ..extensions import db
from ..models import EntryStatus, ErasedRecord, User
from ..timeutil import format_london


class RecordErased(HTTPException):
    """410 Gone, for a record disposed of under the retention rules; the message carries the date."""

    code = 410

    def __init__(self, erased: ErasedRecord):
        super().__init__(description=gone_message(erased))
        self.erased = erased


def gone_message(erased: ErasedRecord) -> str:
    return (f"This record was disposed of under the force's retention rules on "
            f"{format_london(erased.erased_at, '%d %B %Y')}.")


def erased_entry(entry_id: int) -> ErasedRecord | None:
    return db.session.scalar(sa.select(ErasedRecord).where(
        ErasedRecord.record_type == "entry", ErasedRecord.record_id == entry_id))


def could_have_seen(user: User, erased: ErasedRecord) -> bool:
    """can_view_entry() on what the tombstone kept (the one rule, not a copy of it)."""
    stand_in = SimpleNamespace(
        id=erased.record_id, author_id=erased.author_id, kind=erased.kind, marking=erased.marking,
        beat_id=erased.beat_id, spoc_id=erased.spoc_id,
        status=EntryStatus.DRAFT if erased.was_draft else EntryStatus.SUBMITTED)
    return can_view_entry(user, stand_in)


def raise_if_erased(user: User, entry_id: int) -> None:
    """Called when an entry is not found: 410 for those who could have seen it, else nothing (404)."""
    erased = erased_entry(entry_id)
    if erased is not None and could_have_seen(user, erased):
        raise RecordErased(erased)
