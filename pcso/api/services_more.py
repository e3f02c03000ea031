"""The API's search, review and briefing: the pages' services, with their validation and audit."""
from __future__ import annotations

from datetime import date

from flask import current_app, url_for
from werkzeug.datastructures import MultiDict

from ..access import can_review_entry
from ..briefing.services import add_patrol_plans, build_briefing, record_briefing
from ..lists.filters import EntryFilter, FilterError
from ..models import EntryStatus, IntelligenceReport, User, name_key, normalise_vrm
from ..review.services import ReviewRejected, approve, record_queue_view, return_to_author, review_queue
from ..search.services import SearchQuery, record_search, search
from .errors import abort
from .services import entry_summary, visible_entry


def _check_search(criteria: dict) -> dict[str, list[str]]:
    """The search form's own checks (pcso/search/forms.py), field by field."""
    errors = {}
    if criteria["person"] and len(name_key(criteria["person"])) < 2:
        errors["person"] = ["Give at least two letters of the name."]
    if criteria["vrm"] and len(normalise_vrm(criteria["vrm"])) < 2:
        errors["vrm"] = ["Give at least two letters or numbers of the registration."]
    if criteria.get("date_from") and criteria.get("date_to") and criteria["date_to"] < criteria["date_from"]:
        errors["date_to"] = ["The end date is before the start date."]
    if (criteria.get("lat") is None) != (criteria.get("lon") is None):
        errors["lat"] = ["Give both latitude and longitude."]
    return errors


def search_query(criteria: dict) -> SearchQuery:
    errors = _check_search(criteria)
    if errors:
        abort(422, errors=errors)
    near = (criteria["lat"], criteria["lon"]) if criteria.get("lat") is not None else None
    query = SearchQuery(
        text=criteria["q"].strip(), kinds=tuple(criteria["kinds"]), beat_id=criteria.get("beat_id"),
        date_from=criteria.get("date_from"), date_to=criteria.get("date_to"), author_id=criteria.get("author_id"),
        source_evaluation=criteria.get("source_evaluation"), assessment=criteria.get("assessment"),
        handling_code=criteria.get("handling_code"), nsir_category=criteria.get("nsir_category"),
        person=criteria["person"].strip(), vrm=criteria["vrm"].strip(), near=near, radius_m=criteria["radius_m"],
        page=criteria["page"])
    if query.is_empty:
        abort(422, "Give some words, a name, a registration or a filter to search for.",
              errors={"q": ["Nothing to search for."]})
    return query


def run_search(user: User, criteria: dict) -> dict:
    found = search(user, search_query(criteria))
    record_search(found, actor=user)
    return {"total": found.total, "page": found.page, "pages": found.pages, "is_capped": found.is_capped,
            "results": [dict(entry_summary(r.entry), distance_m=r.distance_m) for r in found.results],
            "people": [{"id": p.id, "label": p.full_name} for p in found.people],
            "vehicles": [{"id": v.id, "label": f"{v.vrm} {v.summary}".strip()} for v in found.vehicles]}


# --- review ------------------------------------------------------------------------------------

def queue(user: User, *, scope: str, beat_id: int | None) -> dict:
    items, total = review_queue(user, scope=scope, beat_id=beat_id)
    record_queue_view(items, actor=user, via="api")
    return {"total": total, "items": [{"entry": entry_summary(item.entry), "is_overdue": item.is_overdue,
                                       "waiting_hours": round(item.waiting.total_seconds() / 3600, 2)}
                                      for item in items]}


def decide(user: User, entry_id: int, decision: dict):
    """Approve or return an entry, as the review page does: 404 unless visible, 409 once decided, 403 own."""
    entry = visible_entry(user, entry_id)
    if entry.status != EntryStatus.SUBMITTED:
        abort(409, "This entry is no longer awaiting review: someone has decided on it already.")
    if not can_review_entry(user, entry):
        abort(403, "You can't review your own entry: someone else signs it off.")
    grading = decision.get("grading")
    try:
        if decision["decision"] == "return":
            return return_to_author(entry, actor=user, comment=decision.get("comment") or "")
        if isinstance(entry, IntelligenceReport) and grading is None:
            abort(422, errors={"grading": ["Grade the intelligence before approving it."]})
        if grading is not None and not isinstance(entry, IntelligenceReport):
            abort(422, errors={"grading": ["Only intelligence reports are graded."]})
        if grading and grading["handling_code"].value == "C" and not (grading.get("handling_conditions") or "").strip():
            abort(422, errors={"grading": {"handling_conditions": ["Handling code C needs its conditions."]}})
        return approve(entry, actor=user, comment=decision.get("comment"),
                       grading={k: getattr(v, "value", v) for k, v in grading.items()} if grading else None)
    except ReviewRejected as error:
        field = "comment" if "correct" in str(error) else "decision"
        abort(422 if field == "comment" else 409, str(error), errors={field: [str(error)]})


# --- briefing -----------------------------------------------------------------------------------

def briefing(user: User) -> dict:
    built = build_briefing(user)
    record_briefing(built, fmt="api")
    add_patrol_plans(built, config=current_app.config)  # the page's suggestions, named in the same view event
    return {"since": built.since, "counts": built.counts(), "marking": built.marking.value,
            "new_entries": [entry_summary(e) for e in built.new_entries],
            "intelligence": [entry_summary(e) for e in built.intelligence],
            "returned": [entry_summary(e) for e in built.returned],
            "drafts": [entry_summary(e) for e in built.drafts],
            "patrol_plans": [patrol_plan(s, built.plan_conditions.get(s.key, [])) for s in built.patrol_plans]}


def patrol_plan(s, conditions: list[str]) -> dict:
    return {"id": s.id, "rank": s.rank, "beat_id": s.beat_id, "place": s.place, "postcode": s.postcode, "lat": s.lat,
            "lon": s.lon, "radius_m": s.radius_m, "days": list(s.days), "hour_from": s.hour_from, "hours": s.hours,
            "when": s.when, "next_start": s.next_start, "next_end": s.next_end, "is_now": s.is_now,
            "reason": s.reason, "counts": s.counts, "handling_conditions": conditions,
            "start_url": url_for("patrol_plans.start", suggestion_id=s.id) if s.id else None}


# --- list filters ------------------------------------------------------------------------------

def entry_filter(args: dict) -> EntryFilter:
    """The loaded filter arguments as pcso/lists/filters.py reads them (the same names, the same rules)."""
    pairs = MultiDict()
    for name, value in args.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.add(name, item.isoformat() if isinstance(item, date) else str(item))
    try:
        return EntryFilter.from_args(pairs)
    except FilterError as error:
        abort(422, str(error), errors={"filters": [str(error)]})


