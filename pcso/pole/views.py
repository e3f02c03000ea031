"""POLE records: profiles of people, vehicles and places; merging duplicates (people, vehicles, places and
organisations); type-ahead for the forms."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import LOGGERS, MERGERS, READERS, can_merge_records, can_view_record, require
from ..database import writes_on_read
from ..entries.queries import entry_map_points
from ..extensions import db
from ..models import Location, Organisation, Person, Vehicle, name_key, normalise_vrm
from . import match_keys, matching, network_view, queries, suggest  # noqa: F401  match_keys: the flush hook
from .forms import MergeForm
from .records import profile_extras
from .network import NetworkFilter, NetworkFilterError, build_network
from .network_view import record_network_shown
from .place_merge import merge_places, place_merge_refusal, possible_place_duplicates
from .services import (
    MergeForbidden, MergeRefused, RecordNotFound, merge_people, merge_refusal, merge_vehicles, record_profile_view,
    record_records_shown, survivor, visible_record,
)

bp = Blueprint("pole", __name__)

MAX_SUGGESTIONS = 8


def _typed() -> dict:
    """The typed text (and a date of birth or age), from a JSON body: names stay out of URLs and access logs."""
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _person_query(data: dict) -> matching.Query:
    """What was typed for a person; a date of birth or age that can't be read is a 400 naming it."""
    born_on = age = None
    if data.get("born_on"):
        try:
            born_on = date.fromisoformat(str(data["born_on"])[:10])
        except ValueError:
            abort(400, description="The date of birth must be a date like 1998-07-14.")
        if born_on > date.today():
            abort(400, description="The date of birth can't be in the future.")
    if data.get("age") not in (None, ""):
        try:
            age = int(str(data["age"]))
        except ValueError:
            abort(400, description="The age must be a whole number of years.")
        if not 0 <= age <= 120:
            abort(400, description="The age must be between 0 and 120.")
    return matching.Query(str(data.get("q") or "")[:120], born_on=born_on, age=age)


def _year_or_age(person: Person) -> str:
    if person.born_on is not None:
        return f"b. {person.born_on.year}"
    return f"about {person.approx_age}" if person.approx_age is not None else ""


@bp.post("/people/suggest")
@require(*LOGGERS)
def suggest_people():
    query = _person_query(_typed())
    if len(name_key(query.text).replace(" ", "")) < 2:
        return jsonify(results=[])
    found = suggest.suggest_people(current_user, query, limit=MAX_SUGGESTIONS)
    record_records_shown([s.record for s in found], actor=current_user, object_type="person")
    return jsonify(results=[_suggested_person(s) for s in found])


def _suggested_person(s: suggest.Suggestion) -> dict:
    """One offer: tier "likely" (offer it before a new record is made), "possible" (nothing typed tells it
    apart) or "begins" (only the name's beginning matched), and the reasons why."""
    p = s.record
    return {"id": p.id, "name": p.full_name, "born_on": p.born_on.isoformat() if p.born_on else None,
            "year_or_age": _year_or_age(p), "reason": s.match.reason, "tier": s.tier, "is_likely": s.is_likely,
            "label": ", ".join(part for part in (p.full_name, _year_or_age(p)) if part)}


@bp.post("/vehicles/suggest")
@require(*LOGGERS)
def suggest_vehicles():
    vrm = normalise_vrm(str(_typed().get("q") or "")[:40])
    if len(vrm) < 2:
        return jsonify(results=[])
    found = suggest.suggest_vehicles(current_user, vrm, limit=MAX_SUGGESTIONS)
    record_records_shown([s.record for s in found], actor=current_user, object_type="vehicle")
    return jsonify(results=[
        {"id": v.id, "vrm": v.vrm, "make": v.make, "model": v.model, "colour": v.colour,
         "reason": s.match.reason, "tier": s.tier, "is_likely": s.is_likely,
         "label": f"{matching.format_vrm(v.vrm)} {v.summary}".strip()}
        for s in found for v in [s.record]
    ])


# --- profiles --------------------------------------------------------------------------------------

PROFILE = {Person: ("pole.person", "person_id"), Vehicle: ("pole.vehicle", "vehicle_id"),
           Location: ("pole.location", "location_id"), Organisation: ("places.organisation", "organisation_id")}


def _profile(model, record_id: int):
    """The profile of a record the viewer can see; a merged-away record sends them to its survivor."""
    record = queries.get_record(model, record_id)
    if record is not None and record.is_merged:
        live = survivor(record)
        if live is None or live.is_merged or not can_view_record(current_user, live):
            abort(404)
        flash(f"The record you opened was merged into this one on {record.merged_at:%d %b %Y}.", "info")
        endpoint, parameter = PROFILE[model]
        return redirect(url_for(endpoint, **{parameter: live.id}))
    if record is None or not can_view_record(current_user, record):
        abort(404)
    try:
        network = build_network(current_user, record, NetworkFilter.from_args(request.args))
    except NetworkFilterError as problem:
        abort(400, description=str(problem))
    timeline = queries.timeline(current_user, record)
    duplicates = []
    if can_merge_records(current_user):
        find = {Person: queries.possible_duplicates, Vehicle: queries.possible_vehicle_duplicates,
                Location: possible_place_duplicates}.get(model)
        duplicates = find(current_user, record) if find else []
    associates, merged_from = queries.associates(current_user, record), queries.merged_from(record)
    extras = profile_extras(current_user, record)  # addresses, keeper, vehicles kept: pcso/pole/records.py
    record_profile_view(record, entries=timeline.total, actor=current_user, joined=bool(associates), shown=[
        *timeline.entries, *(a.record for a in associates), *(d.record for d in duplicates),
        *(m.record for m in merged_from), *extras.shown])
    record_network_shown(network, actor=current_user)
    page = render_template(
        "pole/profile.html", kind=model.__tablename__, record=record, timeline=timeline,
        associates=associates, points=entry_map_points(timeline.entries),
        merged_from=merged_from, duplicates=duplicates, merge_form=MergeForm(formdata=None), extras=extras,
        network=network, network_view=network_view)
    db.session.commit()  # after rendering: a commit expires every loaded entry, and reloading is a query each
    return page


@bp.get("/people/<int:person_id>")
@require(*READERS)
@writes_on_read
def person(person_id: int):
    return _profile(Person, person_id)


@bp.get("/vehicles/<int:vehicle_id>")
@require(*READERS)
@writes_on_read
def vehicle(vehicle_id: int):
    return _profile(Vehicle, vehicle_id)


@bp.get("/locations/<int:location_id>")
@require(*READERS)
@writes_on_read
def location(location_id: int):
    return _profile(Location, location_id)


# --- merging ---------------------------------------------------------------------------------------

MERGE = {Person: merge_people, Vehicle: merge_vehicles, Location: merge_places, Organisation: merge_places}
REFUSAL = {Person: merge_refusal, Location: place_merge_refusal, Organisation: place_merge_refusal}


def _merge(model, record_id: int):
    """First post: both records side by side. Second post (action=merge, with a reason): merge."""
    try:
        keep = visible_record(model, record_id, current_user)
    except RecordNotFound:
        abort(404)
    form = MergeForm()
    if not form.validate_on_submit():
        abort(400, description=" ".join(m for messages in form.errors.values() for m in messages) or None)
    try:
        other = visible_record(model, form.other_id.data, current_user)
    except RecordNotFound:
        abort(404)
    if other.id == keep.id:
        abort(400, description="A record can't be merged into itself.")
    refused = REFUSAL[model](keep, other, actor=current_user) if model in REFUSAL else None
    if refused is not None and form.is_merge:  # a rule, not a race: said on the page, as a 4xx
        return _compare(model, keep, other, form, refused), 403 if isinstance(refused, MergeForbidden) else 409
    if form.is_merge and form.reason_given():
        endpoint, parameter = PROFILE[model]
        keep_id = keep.id
        try:
            MERGE[model](keep, other, actor=current_user, reason=form.reason.data.strip())
        except MergeRefused as refused:
            db.session.rollback()
            flash(str(refused), "error")
        else:
            db.session.commit()
            flash("Records merged. Every entry of the other record is now linked here.", "success")
        return redirect(url_for(endpoint, **{parameter: keep_id}))
    return _compare(model, keep, other, form, refused), 400 if form.is_merge else 200


def _compare(model, keep, other, form, refused: MergeRefused | None) -> str:
    """The two records side by side, with the merge form (or why they can't be merged)."""
    sides = [(record, queries.timeline(current_user, record, limit=1)) for record in (keep, other)]
    # The comparison shows both records (and each one's latest entry): consultation of both.
    record_records_shown([keep, other, *(entry for _, line in sides for entry in line.entries)], actor=current_user,
                         screen="merge-comparison")
    return render_template("pole/merge.html", model=model.__tablename__, keep=keep, other=other, sides=sides,
                           form=form, refused=str(refused) if refused is not None else None)


@bp.post("/people/<int:person_id>/merge")
@require(*MERGERS)
def merge_person(person_id: int):
    return _merge(Person, person_id)


@bp.post("/vehicles/<int:vehicle_id>/merge")
@require(*MERGERS)
def merge_vehicle(vehicle_id: int):
    return _merge(Vehicle, vehicle_id)


@bp.post("/locations/<int:location_id>/merge")
@require(*MERGERS)
def merge_location(location_id: int):
    return _merge(Location, location_id)


@bp.post("/organisations/<int:organisation_id>/merge")
@require(*MERGERS)
def merge_organisation(organisation_id: int):
    return _merge(Organisation, organisation_id)
