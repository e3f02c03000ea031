"""What the suggestion pages and the briefing section share: the audit of what fed them, and the map points."""
from __future__ import annotations

from .. import audit
from ..models import User
from .services import params_from, record_suggestions, suggest_patrols


def record_shown_suggestions(viewer: User, suggestions: list, **details) -> None:
    """A suggestion shows figures drawn from entries (counts, places, times): a consultation of those entries
    (DPA 2018 s.62), named in the request's one view event."""
    ids = sorted({entry_id for s in suggestions for entry_id in s.entry_ids})
    audit.consulted(ids, actor=viewer, object_type="entry", suggestions=[s.id for s in suggestions if s.id], **details)


def map_points(suggestions: list) -> list[dict]:
    """The map's points (static/js/app.js): each links to its place in the list."""
    return [{"lat": s.lat, "lon": s.lon, "url": f"#suggestion-{s.id or s.rank}", "kind": "patrol",
             "label": f"{s.rank}. {s.reason}"} for s in suggestions]


def briefing_suggestions(viewer: User, beat_ids, *, now, config) -> list:
    """The briefing's section: the officer's beats' suggestions, kept and audited like the page's."""
    params = params_from(config)
    suggestions = suggest_patrols(viewer, beat_ids, now=now, params=params)
    record_suggestions(viewer, suggestions, now=now, params=params)
    record_shown_suggestions(viewer, suggestions)
    return suggestions
