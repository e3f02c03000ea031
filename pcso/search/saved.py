"""Saved searches: what a search form asked, kept for a shift so its results page is a plain GET.

The form posts (names never go into URLs or access logs); save_search() keeps its fields under an
opaque random id bound to the user, and the results page /search/results/<id> runs the search
again from them. Back, reload and a bookmark open that page without resubmitting anything.

Purging: expired rows are deleted in the same transaction as every new row (an indexed range
delete, cheap), so the table holds at most the searches of the last SEARCH_RESULTS_TTL_HOURS
without a scheduler; `flask search purge` does the same by hand, e.g. from cron on a quiet system.
"""
from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from werkzeug.datastructures import MultiDict

from ..extensions import db
from ..models import SavedSearch, User
from ..timeutil import utcnow

TOKEN_BYTES = 24  # 192 bits; token_urlsafe gives 32 characters of [A-Za-z0-9_-]
NOT_KEPT = ("csrf_token", "page")  # the page is the results page's own ?page=


def submitted_terms(form) -> dict[str, list[str]]:
    """The form's fields as the browser sent them ({name: [values]}), only names the form declares."""
    return {field.name: [str(value) for value in field.raw_data or []]
            for field in form if field.name not in NOT_KEPT and field.raw_data}


def as_formdata(saved: SavedSearch) -> MultiDict:
    return MultiDict([(name, value) for name, values in saved.form_data.items() for value in values])


def ttl() -> timedelta:
    return timedelta(hours=current_app.config.get("SEARCH_RESULTS_TTL_HOURS", 8))


def purge_saved_searches() -> int:
    """Delete every expired saved search; returns how many. Flushes; the caller commits."""
    result = db.session.execute(sa.delete(SavedSearch).where(SavedSearch.expires_at <= utcnow()))
    return result.rowcount or 0


def save_search(user: User, terms: dict[str, Any]) -> SavedSearch:
    """Keep `terms` for `user` under a new opaque id until the TTL runs out; expired rows go first."""
    purge_saved_searches()
    now = utcnow()
    saved = SavedSearch(id=secrets.token_urlsafe(TOKEN_BYTES), user_id=user.id, form_data=terms,
                        created_at=now, expires_at=now + ttl())
    db.session.add(saved)
    db.session.flush()
    return saved


def saved_search_for(user: User, search_id: str) -> SavedSearch | None:
    """The user's own saved search with that id (expired or not), or None: another user's id is none."""
    return db.session.scalar(sa.select(SavedSearch).where(SavedSearch.id == search_id,
                                                          SavedSearch.user_id == user.id))
