"""A search someone ran, kept for a shift under an opaque id so its results page is a plain GET.

The search form posts (names never go into URLs); the view stores what was asked here and
redirects to /search/results/<id>, which Back, reload and bookmarks can open again without
resubmitting. The id is random (secrets.token_urlsafe, 192 bits), bound to the user who ran
the search and useless to anyone else, and the row expires (SEARCH_RESULTS_TTL_HOURS). Expired
rows are deleted whenever a new one is written (pcso/search/saved.py) and by
`flask search purge`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime


class SavedSearch(db.Model):
    __tablename__ = "saved_search"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # the opaque token itself
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # The search form's fields as submitted ({name: [values]}), without the CSRF token or the page.
    form_data: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at <= (now or utcnow())
