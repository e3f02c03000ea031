"""Editing people and vehicles: details, aliases, warning markers, addresses, a vehicle's keeper.

Whoever may see the record may edit it (access.can_edit_record); a record they may not see is a 404. Each
form posts to its own URL, and on a problem the whole page comes back with that form's errors (400).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ..access import EDITORS, require
from ..database import writes_on_read
from ..extensions import db
from ..models import AddressRole, Person, Sex, Vehicle
from . import records
from .record_forms import (
    AddressForm, AliasForm, CsrfOnlyForm, MarkerForm, PersonDetailsForm, RemoveAliasForm, RemoveMarkerForm, ReviewMarkerForm,
    VehicleDetailsForm,
)
from .records import EditRefused
from .services import RecordNotFound

bp = Blueprint("pole_records", __name__)


def _editable(model, record_id: int):
    try:
        return records.editable(model, record_id, current_user)
    except RecordNotFound:
        abort(404)


def _refused(form, error: EditRefused) -> None:
    target = getattr(form, error.field or "", None) or next(iter(form))
    target.errors = [*target.errors, str(error)]


def _person_page(person: Person, status: int = 200, *, failed: str | None = None, failed_form=None, **forms):
    places = records.places_to_pick(current_user, person)
    address_form = forms.pop("address_form", None) or AddressForm(formdata=None)
    address_form.set_places(places)
    markers = person.active_markers
    page = dict(details_form=PersonDetailsForm(formdata=None, obj=person, sex=person.sex.value),
                alias_form=AliasForm(formdata=None), marker_form=MarkerForm(formdata=None),
                address_form=address_form, csrf_form=CsrfOnlyForm(formdata=None),
                review_forms={m.id: ReviewMarkerForm(formdata=None, prefix=f"review-{m.id}") for m in markers},
                remove_forms={m.id: RemoveMarkerForm(formdata=None, prefix=f"remove-{m.id}") for m in markers})
    for name, form in forms.items():
        if name in ("review_forms", "remove_forms"):
            page[name].update(form)
        else:
            page[name] = form
    records.record_edit_view(person, [*places, *(item.location for item in person.addresses)], actor=current_user)
    return render_template("pole/person_edit.html", person=person, failed=failed, failed_form=failed_form,
                           **page), status


def _done(person: Person, message: str, anchor: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("pole_records.edit_person", person_id=person.id, _anchor=anchor), code=303)


def _attempt(person: Person, form_name: str, form, anchor: str, message: str, change):
    """Validate `form`, make the change (a function of the form), commit; or the page with the form's errors."""
    if form.validate_on_submit():
        try:
            change(form)
        except EditRefused as error:
            db.session.rollback()
            _refused(form, error)
        except RecordNotFound:
            db.session.rollback()
            abort(404)
        else:
            return _done(person, message, anchor)
    if not form.errors and not any(field.errors for field in form):
        abort(400)
    page_forms = {form_name: form} if "_forms" not in form_name else {form_name: {int(anchor.split("-")[1]): form}}
    return _person_page(person, 400, failed=anchor, failed_form=form, **page_forms)


@bp.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
@require(*EDITORS)
@writes_on_read
def edit_person(person_id: int):
    person = _editable(Person, person_id)
    if person.id != person_id:
        return redirect(url_for("pole_records.edit_person", person_id=person.id))
    form = PersonDetailsForm()
    if not form.is_submitted():
        return _person_page(person)
    return _attempt(person, "details_form", form, "details", "Details saved.", lambda f: records.update_person(
        person, actor=current_user, full_name=f.full_name.data, born_on=f.born_on.data, approx_age=f.approx_age.data,
        sex=Sex(f.sex.data), description=f.description.data))


@bp.post("/people/<int:person_id>/aliases")
@require(*EDITORS)
def add_alias(person_id: int):
    person = _editable(Person, person_id)
    return _attempt(person, "alias_form", AliasForm(), "aliases", "Other name added.",
                    lambda f: records.add_alias(person, f.alias.data, actor=current_user))


@bp.post("/people/<int:person_id>/aliases/remove")
@require(*EDITORS)
def remove_alias(person_id: int):
    person = _editable(Person, person_id)
    return _attempt(person, "remove_alias_form", RemoveAliasForm(), "aliases", "Other name removed.",
                    lambda f: records.remove_alias(person, f.alias.data, actor=current_user))


@bp.post("/people/<int:person_id>/markers")
@require(*EDITORS)
def add_marker(person_id: int):
    person = _editable(Person, person_id)
    return _attempt(person, "marker_form", MarkerForm(), "markers", "Warning marker set.", lambda f: records.add_marker(
        person, f.marker.data, actor=current_user, note=f.note.data, review_on=f.review_on.data))


@bp.post("/people/<int:person_id>/markers/<int:marker_id>/review")
@require(*EDITORS)
def review_marker(person_id: int, marker_id: int):
    person = _editable(Person, person_id)
    return _attempt(person, "review_forms", ReviewMarkerForm(prefix=f"review-{marker_id}"), f"marker-{marker_id}", "Marker reviewed.",
                    lambda f: records.review_marker(records.marker_of(person, marker_id), actor=current_user,
                                                    review_on=f.review_on.data, note=f.note.data))


@bp.post("/people/<int:person_id>/markers/<int:marker_id>/remove")
@require(*EDITORS)
def remove_marker(person_id: int, marker_id: int):
    person = _editable(Person, person_id)
    return _attempt(person, "remove_forms", RemoveMarkerForm(prefix=f"remove-{marker_id}"), f"marker-{marker_id}", "Marker removed.",
                    lambda f: records.remove_marker(records.marker_of(person, marker_id), actor=current_user,
                                                    note=f.reason.data))


@bp.post("/people/<int:person_id>/addresses")
@require(*EDITORS)
def add_address(person_id: int):
    person = _editable(Person, person_id)
    form = AddressForm()
    form.set_places(records.places_to_pick(current_user, person))
    return _attempt(person, "address_form", form, "addresses", "Address added.", lambda f: records.add_address(
        person, AddressRole(f.role.data), actor=current_user, location_id=f.location_id.data,
        address=f.address.data, postcode=f.postcode.data))


@bp.post("/people/<int:person_id>/addresses/<int:address_id>/remove")
@require(*EDITORS)
def remove_address(person_id: int, address_id: int):
    person = _editable(Person, person_id)
    return _attempt(person, "remove_address_form", CsrfOnlyForm(), "addresses", "Address removed.",
                    lambda f: records.remove_address(person, address_id, actor=current_user))


# --- a vehicle -------------------------------------------------------------------------------------

def _vehicle_page(vehicle: Vehicle, form: VehicleDetailsForm, status: int = 200):
    people = records.people_to_pick(current_user, vehicle)
    visible_keeper = records.profile_extras(current_user, vehicle).keeper
    form.set_people(people, visible_keeper)
    records.record_edit_view(vehicle, [*people, *([visible_keeper] if visible_keeper else [])], actor=current_user)
    return render_template("pole/vehicle_edit.html", vehicle=vehicle, form=form), status


def _save_vehicle(vehicle: Vehicle, form: VehicleDetailsForm):
    try:
        records.update_vehicle(vehicle, actor=current_user, vrm=form.vrm.data, make=form.make.data,
                               model=form.model.data, colour=form.colour.data, description=form.description.data,
                               keeper_id=form.chosen_keeper)
    except EditRefused as error:
        db.session.rollback()
        _refused(form, error)
        return _vehicle_page(vehicle, form, 400)
    db.session.commit()
    flash("Vehicle saved.", "success")
    return redirect(url_for("pole.vehicle", vehicle_id=vehicle.id), code=303)


@bp.route("/vehicles/<int:vehicle_id>/edit", methods=["GET", "POST"])
@require(*EDITORS)
@writes_on_read
def edit_vehicle(vehicle_id: int):
    vehicle = _editable(Vehicle, vehicle_id)
    if vehicle.id != vehicle_id:
        return redirect(url_for("pole_records.edit_vehicle", vehicle_id=vehicle.id))
    keeper = records.profile_extras(current_user, vehicle).keeper
    if not VehicleDetailsForm().is_submitted():
        return _vehicle_page(vehicle, VehicleDetailsForm(formdata=None, obj=vehicle, keeper_id=keeper.id if keeper else ""))
    form = VehicleDetailsForm()
    form.set_people(records.people_to_pick(current_user, vehicle), keeper)
    if not form.validate_on_submit():
        return _vehicle_page(vehicle, form, 400)
    return _save_vehicle(vehicle, form)
