"""What the entry pages share: the form for a kind, the form turned into typed input, errors put back on
the form, and the detail page. Views call these; the review pages re-show the detail page from here."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import abort, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, DateTimeLocalField, FieldList

from ..access import (
    LOGGERS, RAISE_FROM_KINDS, can_decide_amendment, can_edit_entry, can_raise_intelligence, can_review_entry,
    can_review_risk,
)
from ..auth.forms import EmptyForm
from ..beats.services import beat_labels
from ..extensions import db
from ..numbers import loads_json
from ..models import (
    AsbIncident, Entry, EntryKind, IntelligenceReport, LinkRole, Patrol, School, SecurityMarking, User,
)
from ..photos.services import PhotoRejected, PreparedPhoto, attach_photo, check_count, pending_offer, prepare_photo
from ..review.amendments import shown_value
from ..review.forms import AmendmentDecisionForm, review_form_for
from ..risk.forms import RiskReviewForm
from ..risk.services import assessments_of, latest_assessments, victims_of
from ..timeutil import to_london, utcnow
from ..web import positive_int
from .data import EntryInput
from .errors import EntryRejected
from .forms import EndPatrolForm, load_place_rows, organisations_from_form, places_from_form
from .kinds.common import load_links
from .queries import entry_map_points, get_visible_entry, recent_visible_entries, reports_raised_from
from .registry import kind_of
from .services import links_shown, record_links_shown, record_shown

ADD_ROW = {"add-person": "people", "add-vehicle": "vehicles", "add-place": "places",
           "add-organisation": "organisations"}
# The people an intelligence report raised from an entry starts with, in the same roles (a welfare
# check's child stays its subject). Victims, reporters and witnesses are left out: any of them may be
# the source, and a link naming them would point at who told us. The officer adds them by hand when
# the intelligence is about them.
RAISED_ROLES = frozenset({LinkRole.SUBJECT, LinkRole.SUSPECT, LinkRole.ASSOCIATE, LinkRole.MENTIONED})


def london_now():
    return to_london(utcnow()).replace(tzinfo=None, second=0, microsecond=0)


def make_form(kind: EntryKind, obj=None, *, user: User | None = None, formdata=None):
    """The kind's form: `formdata` (a MultiDict) instead of the request's for the phone's queued forms (the API
    checks their CSRF in a header), made for `user` (the signed-in officer unless said)."""
    user = user or current_user
    extra = {} if formdata is None else {"formdata": formdata, "meta": {"csrf": False}}
    if kind == EntryKind.SCHOOL_VISIT:
        extra["schools"] = db.session.scalars(sa.select(School).order_by(School.name))
        extra["near_beats"] = user.beat_ids
    if kind == EntryKind.WELFARE_CHECK:
        extra["spocs"] = db.session.scalars(
            sa.select(User).where(User.role.in_(LOGGERS), User.is_enabled).order_by(User.display_name))
    form = kind_of(kind).form(obj=obj, beats=beat_labels(), **extra)
    if obj is None and request.method == "GET" and formdata is None:
        form.occurred_at.data = london_now()
        if kind == EntryKind.WELFARE_CHECK:
            form.spoc_id.data = str(user.id)
    if obj is not None and request.method == "GET":
        form.load_location(obj)
        kind_of(kind).load_form(form, obj)
        load_place_rows(form, obj)
    return form


def form_input(kind: EntryKind, form) -> EntryInput:
    """A validated form as the services take it."""
    raised_from = getattr(form, "raised_from", None)
    return EntryInput(
        kind=kind, client_key=form.client_key.data, occurred_at=form.occurred_at_utc,
        summary=(form.summary.data or "").strip(), fields=kind_of(kind).from_form(form), place=form.place_input(),
        marking=SecurityMarking(form.marking.data) if form.marking.data else None,
        raised_from_id=raised_from.id if raised_from is not None else None,
        places=places_from_form(form.places), organisations=organisations_from_form(form.organisations))


def added_row(form) -> bool:
    """'Add another person/vehicle' posts the form back with one more empty row; nothing is saved."""
    rows = getattr(form, ADD_ROW.get(request.form.get("action", ""), ""), None)
    if request.method != "POST" or rows is None:
        return False
    if len(rows) < rows.max_entries:
        rows.append_entry()
    return True


def is_submit() -> bool:
    """True when the officer pressed Submit rather than Save draft."""
    return request.form.get("action") == "submit"


def reject(form, error: EntryRejected) -> None:
    """Undo the attempt, and put the services' refusals on the form."""
    db.session.rollback()
    show_errors(form, error)


# --- photos sent with the form -------------------------------------------------------------------

def _chosen_files(form) -> list:
    return [item for item in (form.photos.data or []) if getattr(item, "filename", None)]


def _offers(form) -> list:
    """What the phone read from each photo's EXIF before resizing, in the order of the files (or nothing)."""
    try:
        offers = loads_json(form.photo_offers.data or "[]")
    except ValueError:
        return []
    return offers if isinstance(offers, list) else []


def form_photos(form, entry: Entry | None = None) -> list[PreparedPhoto]:
    """Every chosen photo checked before anything is saved: one refused refuses the save (PhotoRejected)."""
    files = _chosen_files(form)
    check_count(entry, len(files))
    offers = _offers(form)
    return [prepare_photo(item.read(), offer=offers[index] if index < len(offers) else None)
            for index, item in enumerate(files)]


def attach_photos(entry: Entry, prepared: list[PreparedPhoto]) -> None:
    for photo in prepared:
        attach_photo(entry, photo, actor=current_user)


def reject_photos(form, error: PhotoRejected) -> None:
    """Nothing is saved; the photo's problem goes on the photos field and everything typed stays."""
    db.session.rollback()
    form.photos.errors = [f"{error.message} Choose the photos again: the rest of the form is kept as you typed it"]


def show_errors(form, error: EntryRejected) -> None:
    """Each refusal beside its field (or above the form when no field has that name)."""
    for name, message in error.errors.items():
        field = getattr(form, name, None)
        (field.errors if field is not None and hasattr(field, "errors") else form.form_errors).append(message)


def render_form(form, kind: EntryKind, entry=None, patrol=None, status: int = 200, held=None, action=None,
                amendment_form=None):
    if request.method == "POST" and _chosen_files(form) and not form.photos.errors:  # a file input is never refilled
        form.photos.errors.append("Choose the photos again: the rest of the form is kept as you typed it")
    # What the form shows of records: the entry being changed, the one a report is raised from, the patrol.
    shown = [record for record in (entry, getattr(form, "raised_from", None), patrol) if record is not None]
    if shown:
        record_shown(shown, actor=current_user, object_type="entry")
    if held is not None:
        record_shown(held, actor=current_user, object_type="held_submission")
    return render_template("entries/form.html", form=form, kind=kind, spec=kind_of(kind), entry=entry,
                           patrol=patrol, held=held, action=action, button_form=EmptyForm(),
                           amendment_form=amendment_form), status


def amendment_input(entry: Entry, amendment) -> EntryInput:
    """The amendment's kept edit form read again, as its author's, into the services' input.
    Raises EntryRejected when it no longer passes the form's own checks."""
    form = make_form(entry.kind, obj=entry, user=amendment.author, formdata=MultiDict(amendment.form))
    raise_from(form, prefill=False, user=amendment.author)
    if not form.validate():
        problems = {name: (errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], str)
                           else "Check this field") for name, errors in form.errors.items()}
        raise EntryRejected(problems or {"_form": "The amendment no longer passes the form's checks"})
    return form_input(entry.kind, form)


def _form_value(field, value) -> list[str]:
    """A JSON value as the strings the form's field would have been posted with."""
    if isinstance(field, BooleanField):
        return ["y"] if value is True else []
    if isinstance(value, bool):  # a yes/no radio group (welfare: seen alone)
        return ["yes" if value else "no"]
    if isinstance(field, DateTimeLocalField) and isinstance(value, str):
        try:
            return [to_london(datetime.fromisoformat(value.replace("Z", "+00:00"))).strftime("%Y-%m-%dT%H:%M")]
        except ValueError:
            return [value]
    if isinstance(value, list):
        return [str(item) for item in value if isinstance(item, (str, int, float))]
    return [str(value)] if isinstance(value, (str, int, float)) else []


def held_formdata(form, held) -> MultiDict:
    """A held submission's flat JSON body as form data: the same names, lists of people and vehicles
    as their rows (people-0-name), times in London. Keys the form does not have are left out."""
    data = MultiDict({"client_key": held.client_key})
    pairs = held.data.get("fields")
    if isinstance(pairs, list):  # sent as the form's own [name, value] pairs: as they were typed
        for name, value in (pair for pair in pairs if isinstance(pair, list) and len(pair) == 2):
            if name not in ("client_key", "csrf_token", "action"):
                data.add(str(name), str(value))
        return data
    body = {name: value for name, value in held.data.items() if value is not None and name != "client_key"}
    if "raised_from_id" in held.errors:  # the entry it was raised from is not one the officer may open
        body.pop("raised_from_id", None)
    for name, value in body.items():
        field = form._fields.get(name)
        if isinstance(field, FieldList):
            for index, row in enumerate(value if isinstance(value, list) else []):
                for key, item in (row.items() if isinstance(row, dict) else ()):
                    data.setlist(f"{name}-{index}-{key}", _form_value(None, item))
        elif field is not None:
            data.setlist(name, _form_value(field, value))
    return data


def _all_fields(form):
    for field in form:
        if isinstance(field, FieldList):
            for row in field.entries:
                yield from (_all_fields(row.form) if hasattr(row, "form") else [row])
        yield field


def render_held(held, *, patrol=None):
    """The kind's new-entry form, filled from the held body, the server's reasons on the fields; it posts
    to the normal new-entry page under the same client key, which resolves the held submission."""
    form = make_form(held.kind)  # the page's own form (with its CSRF token), then filled from the held body
    form.process(formdata=held_formdata(form, held))
    by_id = {field.id: field for field in _all_fields(form)}
    for name, message in (held.errors or {"_form": "This entry could not be accepted"}).items():
        field = by_id.get(name)  # a name (summary) or a row's field id (people-0-name)
        if field is None or isinstance(field, FieldList) or field.type == "HiddenField":
            form.form_errors.append(message)
        else:
            field.errors = [*field.errors, message]
    return render_form(form, held.kind, patrol=patrol, held=held, action=url_for("entries.new", slug=held.kind.slug))


def raise_from(form, *, prefill: bool, user: User | None = None) -> None:
    """The entry an intelligence report is raised from: ?from=<id> on a new form, then the hidden field.

    An entry the officer may not open (or not raise from) answers 404, as if it did not exist.
    A new form is filled from it: place, time, people, vehicles.
    """
    if not hasattr(form, "raised_from_id"):
        return
    first_visit = prefill and request.method == "GET"
    raw = request.args.get("from") if first_visit else form.raised_from_id.data
    if not raw:
        return
    user = user or current_user
    try:
        source = get_visible_entry(user, positive_int(raw))
    except ValueError:
        abort(404)
    if source is None or not can_raise_intelligence(user, source):
        abort(404)
    form.raised_from = source
    if first_visit:
        form.raised_from_id.data = str(source.id)
        form.load_location(source)
        form.location_text.data = source.location_text
        people = [item for item in source.people_links if item.role in RAISED_ROLES]
        load_links(form, people, source.vehicle_links)
        # The prefilled form shows the source's people (a welfare check's child) and vehicles: consultation.
        record_shown(source, actor=user, object_type="entry", raised_from=source.id)
        links_shown([*people, *source.vehicle_links], actor=user)


def _risk(entry, form) -> dict:
    """An ASB incident's victim risk assessments, and the review form for a supervisor (pcso/risk)."""
    if not isinstance(entry, AsbIncident):
        return {}
    victims = victims_of(entry)
    if form is None and victims and can_review_risk(current_user, entry):
        form = RiskReviewForm(formdata=None, victims=victims)
    return {"risk_assessments": assessments_of(entry), "risk_form": form if victims else None,
            "risk_latest": latest_assessments((person.id for person in victims), current_user)}


def render_detail(entry, *, end_form=None, review_form=None, risk_form=None, amendment_form=None, status: int = 200):
    """The entry page, with the patrol-end, review, risk review and amendment decision forms where they apply
    (and their errors)."""
    if end_form is None:
        end_form = EndPatrolForm(ended_at=london_now())
    if review_form is None and can_review_entry(current_user, entry):
        review_form = review_form_for(entry)
    if amendment_form is None and can_decide_amendment(current_user, entry):
        amendment_form = AmendmentDecisionForm()
    logged = recent_visible_entries(current_user, patrol_id=entry.id) if isinstance(entry, Patrol) else []
    raised_from = (get_visible_entry(current_user, entry.raised_from_id)
                   if isinstance(entry, IntelligenceReport) and entry.raised_from_id else None)
    raised = reports_raised_from(current_user, entry) if entry.kind in RAISE_FROM_KINDS else []
    record_shown([entry, *logged, raised_from, *raised], actor=current_user, object_type="entry")
    record_links_shown(entry, actor=current_user)
    return render_template("entries/detail.html", entry=entry, spec=kind_of(entry.kind), logged=logged,
                           end_form=end_form, review_form=review_form, amendment_form=amendment_form,
                           shown_value=shown_value,
                           button_form=EmptyForm(),
                           points=entry_map_points([entry]), raised_from=raised_from, raised_reports=raised,
                           photo_offer=pending_offer(entry) if can_edit_entry(current_user, entry) else None,
                           **_risk(entry, risk_form)), status
