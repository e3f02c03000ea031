"""What the suggestion pages and the briefing (page, PDF, API) share: the audit of what fed them, the map points,
and the handling conditions of the intelligence behind them."""
from __future__ import annotations

import sqlalchemy as sa

from .. import audit
from ..extensions import db
from ..models import HandlingCode, IntelligenceReport, User
from .services import params_from, record_suggestions, suggest_patrols


def record_shown_suggestions(viewer: User, suggestions: list, **details) -> None:
    """A suggestion shows figures drawn from entries (counts, places, times): a consultation of those entries
    (DPA 2018 s.62), named in the request's one view event."""
    audit.consulted(suggestion_entry_ids(suggestions), actor=viewer, object_type="entry", suggestions=[s.id for s in suggestions if s.id], **details)


def map_points(suggestions: list) -> list[dict]:
    """The map's points (static/js/app.js): each links to its place in the list."""
    return [{"lat": s.lat, "lon": s.lon, "url": f"#suggestion-{s.id or s.rank}", "kind": "patrol",
             "label": f"{s.rank}. {s.reason}"} for s in suggestions]


def briefing_suggestions(viewer: User, beat_ids, *, now, config, consulted: bool = True) -> list:
    """The briefing's section: the officer's beats' suggestions, kept like the page's. The page and the API name
    their entries in the request's view event (`consulted`); the PDF names them in its disclosure instead."""
    params = params_from(config)
    suggestions = suggest_patrols(viewer, beat_ids, now=now, params=params)
    record_suggestions(viewer, suggestions, now=now, params=params)
    if consulted:
        record_shown_suggestions(viewer, suggestions)
    return suggestions


def suggestion_entry_ids(suggestions: list) -> list[int]:
    return sorted({entry_id for s in suggestions for entry_id in s.entry_ids})


def handling_conditions(suggestions: list) -> dict[str, list[str]]:
    """{suggestion key: the conditions of the handling code C intelligence it counts}: the conditions travel with
    whatever is drawn from the report when it leaves the system (the PDF, the API), as with the report itself."""
    ids = suggestion_entry_ids(suggestions)
    if not ids:
        return {}
    found = dict(db.session.execute(
        sa.select(IntelligenceReport.id, IntelligenceReport.handling_conditions)
        .where(IntelligenceReport.id.in_(ids), IntelligenceReport.handling_code == HandlingCode.CONDITIONS)).all())
    conditions = {}
    for s in suggestions:
        texts = sorted({found[i] for i in s.entry_ids if i in found and found[i]})
        if texts:
            conditions[s.key] = texts
    return conditions
