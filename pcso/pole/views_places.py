"""Locations and organisations: their pages (new, edit, an organisation's profile) and type-ahead suggestions.

The location profile is pole.location (pcso/pole/views.py), shared with people and vehicles."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import LOGGERS, READERS, can_merge_records, require
from ..database import writes_on_read
from ..entries.queries import entry_map_points
from ..extensions import db
from ..models import Location, Organisation
from . import network_view, queries
from .network import NetworkFilter, NetworkFilterError, build_network
from .network_view import record_network_shown
from .locations import (
    LocationRejected, create_location, create_organisation, suggest_locations, suggest_organisations,
    update_location, update_organisation,
)
from .forms import MergeForm
from .place_forms import LocationPageForm, OrganisationPageForm
from .place_merge import possible_place_duplicates
from .services import RecordNotFound, record_profile_view, record_records_shown, visible_record

bp = Blueprint("places", __name__)

MAX_SUGGESTIONS = 8


def _query_text() -> str:
    """The typed text, from a JSON body: addresses and names stay out of URLs and access logs."""
    data = request.get_json(silent=True)
    return str(data.get("q") or "")[:120] if isinstance(data, dict) else ""


def _suggested(found, *, object_type: str, name) -> dict:
    record_records_shown([s.record for s in found], actor=current_user, object_type=object_type)
    return {"results": [{"id": s.record.id, "name": name(s.record), "reason": s.reason,
                         "label": f"{name(s.record)} · {s.reason}"} for s in found]}


@bp.post("/locations/suggest")
@require(*LOGGERS)
def suggest_location():
    text = _query_text().strip()
    found = suggest_locations(current_user, text, limit=MAX_SUGGESTIONS) if len(text) >= 2 else []
    return jsonify(_suggested(found, object_type="location", name=lambda record: record.address))


@bp.post("/organisations/suggest")
@require(*LOGGERS)
def suggest_organisation():
    found = suggest_organisations(current_user, _query_text(), limit=MAX_SUGGESTIONS)
    return jsonify(_suggested(found, object_type="organisation", name=lambda record: record.name))


def _visible(model, record_id: int):
    """The live record (a merged one leads to its survivor) the viewer may see, else 404."""
    try:
        return visible_record(model, record_id, current_user)
    except RecordNotFound:
        abort(404)


def _refused(form, error: LocationRejected, prefix: str = "") -> None:
    """The service's refusals beside their fields ("address-postcode" on the organisation form's address)."""
    db.session.rollback()
    for name, message in error.errors.items():
        target = form.address.form if name.startswith("address-") and hasattr(form, "address") else form
        field = getattr(target, name.removeprefix("address-"), None) or target.street
        field.errors = [*field.errors, message]


@bp.route("/locations/new", methods=["GET", "POST"])
@require(*LOGGERS)
def new_location():
    form = LocationPageForm()
    if form.validate_on_submit():
        try:
            location = create_location(form.data_in(), actor=current_user)
        except LocationRejected as error:
            _refused(form, error)
        else:
            db.session.commit()
            flash("Place saved.", "success")
            return redirect(url_for("pole.location", location_id=location.id))
    return render_template("places/location_form.html", form=form, location=None), 400 if form.errors else 200


@bp.route("/locations/<int:location_id>/edit", methods=["GET", "POST"])
@require(*LOGGERS)
@writes_on_read
def edit_location(location_id: int):
    location = _visible(Location, location_id)
    form = LocationPageForm()
    if form.validate_on_submit():
        try:
            update_location(location, form.data_in(), actor=current_user)
        except LocationRejected as error:
            _refused(form, error)
        else:
            db.session.commit()
            flash("Place updated.", "success")
            return redirect(url_for("pole.location", location_id=location_id))
    elif request.method == "GET":
        form.load(location)
    record_records_shown([location], actor=current_user)
    return render_template("places/location_form.html", form=form, location=location), 400 if form.errors else 200


@bp.route("/organisations/new", methods=["GET", "POST"])
@require(*LOGGERS)
def new_organisation():
    form = OrganisationPageForm()
    if form.validate_on_submit():
        try:
            organisation = create_organisation(form.data_in(), actor=current_user)
        except LocationRejected as error:
            _refused(form, error)
        else:
            db.session.commit()
            flash("Organisation saved.", "success")
            return redirect(url_for("places.organisation", organisation_id=organisation.id))
    return render_template("places/organisation_form.html", form=form, organisation=None), 400 if form.errors else 200


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@require(*LOGGERS)
@writes_on_read
def edit_organisation(organisation_id: int):
    organisation = _visible(Organisation, organisation_id)
    form = OrganisationPageForm()
    if form.validate_on_submit():
        try:
            update_organisation(organisation, form.data_in(), actor=current_user)
        except LocationRejected as error:
            _refused(form, error)
        else:
            db.session.commit()
            flash("Organisation updated.", "success")
            return redirect(url_for("places.organisation", organisation_id=organisation_id))
    elif request.method == "GET":
        form.load(organisation)
    record_records_shown([organisation, organisation.location], actor=current_user)
    return (render_template("places/organisation_form.html", form=form, organisation=organisation),
            400 if form.errors else 200)


def _network(record):
    """The associates network to two steps, as on the other profiles (pcso/pole/network.py)."""
    try:
        return build_network(current_user, record, NetworkFilter.from_args(request.args))
    except NetworkFilterError as problem:
        abort(400, description=str(problem))


@bp.get("/organisations/<int:organisation_id>")
@require(*READERS)
@writes_on_read
def organisation(organisation_id: int):
    record = _visible(Organisation, organisation_id)
    if record.id != organisation_id:
        return redirect(url_for("places.organisation", organisation_id=record.id))
    network = _network(record)
    timeline = queries.timeline(current_user, record)
    associates = queries.associates(current_user, record)
    duplicates = possible_place_duplicates(current_user, record) if can_merge_records(current_user) else []
    merged_from = queries.merged_from(record)
    record_profile_view(record, entries=timeline.total, actor=current_user, joined=bool(associates), shown=[
        *timeline.entries, *(a.record for a in associates), record.location, *(d.record for d in duplicates),
        *(m.record for m in merged_from)])
    record_network_shown(network, actor=current_user)
    page = render_template("pole/profile.html", kind="organisation", record=record, timeline=timeline,
                           associates=associates, points=entry_map_points(timeline.entries), merged_from=merged_from,
                           duplicates=duplicates, merge_form=MergeForm(formdata=None), network=network,
                           network_view=network_view)
    db.session.commit()  # after rendering, as the other profiles: a commit expires what the page reads
    return page
