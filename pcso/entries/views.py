from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import audit
from ..access import (
    LOGGERS, RAISE_FROM_KINDS, READERS, can_edit_entry, can_raise_intelligence, can_review_entry, require,
)
from ..auth.forms import EmptyForm
from ..beats.services import all_beats
from ..database import writes_on_read
from ..extensions import db
from ..models import AuditAction, EntryKind, EntryStatus, IntelligenceReport, LinkRole, Patrol, School, User
from ..timeutil import from_london, to_london, utcnow
from ..web import positive_int
from .forms import (
    AsbIncidentForm, EndPatrolForm, IntelligenceReportForm, PatrolForm, SchoolVisitForm, WelfareCheckForm,
)
from .queries import (
    entry_map_points, get_visible_entry, my_entries, recent_visible_entries, reports_raised_from,
)
from .services import EntryRejected, end_patrol, log_entry, open_patrol, record_view, submit_entry, update_entry

bp = Blueprint("entries", __name__)

FORM_FOR = {
    EntryKind.PATROL: PatrolForm,
    EntryKind.ASB_INCIDENT: AsbIncidentForm,
    EntryKind.SCHOOL_VISIT: SchoolVisitForm,
    EntryKind.WELFARE_CHECK: WelfareCheckForm,
    EntryKind.INTELLIGENCE_REPORT: IntelligenceReportForm,
}
KIND_BY_SLUG = {kind.slug: kind for kind in EntryKind}


def _make_form(kind: EntryKind, obj=None):
    extra = {}
    if kind == EntryKind.SCHOOL_VISIT:
        extra["schools"] = db.session.scalars(sa.select(School).order_by(School.name))
        extra["near_beats"] = current_user.beat_ids
    if kind == EntryKind.WELFARE_CHECK:
        extra["spocs"] = db.session.scalars(
            sa.select(User).where(User.role.in_(LOGGERS), User.is_enabled).order_by(User.display_name))
    form = FORM_FOR[kind](obj=obj, beats=all_beats(), **extra)
    if obj is None and request.method == "GET":
        form.occurred_at.data = to_london(utcnow()).replace(tzinfo=None, second=0, microsecond=0)
        if kind == EntryKind.WELFARE_CHECK:
            form.spoc_id.data = str(current_user.id)
    return form


ADD_ROW = {"add-person": "people", "add-vehicle": "vehicles"}


def _added_row(form) -> bool:
    """'Add another person/vehicle' posts the form back with one more empty row; nothing is saved."""
    rows = getattr(form, ADD_ROW.get(request.form.get("action", ""), ""), None)
    if request.method != "POST" or rows is None:
        return False
    if len(rows) < rows.max_entries:
        rows.append_entry()
    return True


def _save_action() -> bool:
    """True when the officer pressed Submit rather than Save draft."""
    return request.form.get("action") == "submit"


def _reject(form, error: EntryRejected) -> None:
    db.session.rollback()
    field = getattr(form, error.field, None)
    (field.errors if field is not None else form.form_errors).append(error.message)


@bp.get("/entries")
@require(*LOGGERS)
@writes_on_read
def index():
    kind = KIND_BY_SLUG.get(request.args.get("kind", ""))
    beat_id = request.args.get("beat", type=positive_int)
    status = EntryStatus(request.args["status"]) if request.args.get("status") in set(EntryStatus) else None
    page = my_entries(current_user, kind=kind, beat_id=beat_id, status=status,
                      page=request.args.get("page", 1, type=positive_int))
    if kind or beat_id or status:
        audit.record(AuditAction.SEARCH, actor=current_user, object_type="entry", scope="mine",
                     kind=kind.value if kind else None, beat_id=beat_id,
                     status=status.value if status else None, results=page.total)
        db.session.commit()
    return render_template("entries/index.html", page=page, kind=kind, beat_id=beat_id, status=status,
                           kinds=list(EntryKind), beats=all_beats())


@bp.get("/entries/new")
@require(*LOGGERS)
def choose():
    return render_template("entries/choose.html", kinds=list(EntryKind), patrol=open_patrol(current_user))


@bp.route("/<any('patrols','asb-incidents','school-visits','welfare-checks','intelligence-reports'):slug>/new",
          methods=["GET", "POST"])
@require(*LOGGERS)
def new(slug: str):
    kind = KIND_BY_SLUG[slug]
    form = _make_form(kind)
    _raise_from(form, prefill=True)
    if _added_row(form):
        return render_template("entries/form.html", form=form, kind=kind, entry=None, patrol=open_patrol(current_user))
    if form.validate_on_submit():
        try:
            entry, created = log_entry(kind, form, actor=current_user, submit=_save_action())
        except EntryRejected as error:
            _reject(form, error)
        else:
            db.session.commit()
            flash(f"{kind.label} saved." if created else "This was already saved: here it is.", "success")
            return redirect(url_for("entries.detail", entry_id=entry.id))
    status = 400 if request.method == "POST" else 200
    return render_template("entries/form.html", form=form, kind=kind, entry=None,
                           patrol=open_patrol(current_user)), status


@bp.get("/entries/<int:entry_id>")
@require(*READERS)
@writes_on_read
def detail(entry_id: int):
    entry = get_visible_entry(current_user, entry_id) or abort(404)
    record_view(entry, actor=current_user)
    db.session.commit()
    return render_detail(entry)


def render_detail(entry, *, end_form=None, review_form=None, status: int = 200):
    """The entry page, with the patrol-end and review forms where they apply (and their errors)."""
    from ..review.views import review_form_for

    if end_form is None:
        end_form = EndPatrolForm(ended_at=to_london(utcnow()).replace(tzinfo=None, second=0, microsecond=0))
    if review_form is None and can_review_entry(current_user, entry):
        review_form = review_form_for(entry)
    logged = recent_visible_entries(current_user, patrol_id=entry.id) if isinstance(entry, Patrol) else []
    raised_from = (get_visible_entry(current_user, entry.raised_from_id)
                   if isinstance(entry, IntelligenceReport) and entry.raised_from_id else None)
    raised = reports_raised_from(current_user, entry) if entry.kind in RAISE_FROM_KINDS else []
    return render_template("entries/detail.html", entry=entry, logged=logged, end_form=end_form,
                           review_form=review_form, button_form=EmptyForm(), points=entry_map_points([entry]),
                           raised_from=raised_from, raised_reports=raised), status


def _editable(entry_id: int):
    entry = get_visible_entry(current_user, entry_id) or abort(404)
    if not can_edit_entry(current_user, entry):
        abort(403)
    return entry


@bp.route("/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@require(*LOGGERS)
def edit(entry_id: int):
    entry = _editable(entry_id)
    form = _make_form(entry.kind, obj=entry)
    _raise_from(form, prefill=False)
    if request.method == "GET":
        form.load_location(entry)
        _load_kind_fields(form, entry)
    elif _added_row(form):
        return render_template("entries/form.html", form=form, kind=entry.kind, entry=entry, patrol=None)
    elif form.validate_on_submit():
        try:
            update_entry(entry, form, actor=current_user, submit=_save_action())
        except EntryRejected as error:
            _reject(form, error)
        else:
            db.session.commit()
            flash("Submitted for review." if _save_action() else "Changes saved.", "success")
            return redirect(url_for("entries.detail", entry_id=entry.id))
    status = 400 if request.method == "POST" else 200
    return render_template("entries/form.html", form=form, kind=entry.kind, entry=entry, patrol=None), status


def _load_links(form, people: list, vehicles: list) -> None:
    """Fill the people and vehicle rows from links, keeping one empty row of each to add to."""
    while len(form.people) < len(people) + 1:
        form.people.append_entry()
    while len(form.vehicles) < len(vehicles) + 1:
        form.vehicles.append_entry()
    for row, item in zip(form.people, people, strict=False):
        row.form.person_id.data, row.form.name.data = str(item.person.id), item.person.full_name
        row.form.role.data, row.form.born_on.data = item.role.value, item.person.born_on
        row.form.description.data = item.note
    for row, item in zip(form.vehicles, vehicles, strict=False):
        vehicle = item.vehicle
        row.form.vrm.data, row.form.make.data = vehicle.vrm, vehicle.make
        row.form.model.data, row.form.colour.data = vehicle.model, vehicle.colour


def _load_kind_fields(form, entry) -> None:
    """What WTForms' obj= can't map by itself: linked records, ids as strings, yes/no radios."""
    if entry.kind in (EntryKind.ASB_INCIDENT, EntryKind.INTELLIGENCE_REPORT):
        _load_links(form, entry.people_links, entry.vehicle_links)
    elif entry.kind == EntryKind.SCHOOL_VISIT:
        form.school_id.data = str(entry.school_id)
        form.year_groups.data = [y.strip() for y in (entry.year_groups or "").split(",") if y.strip()]
    elif entry.kind == EntryKind.WELFARE_CHECK:
        form.spoc_id.data = str(entry.spoc_id)
        form.is_seen_alone.data = "yes" if entry.is_seen_alone else "no"
        if entry.child is not None:
            form.child_id.data = str(entry.child.id)
            form.child_name.data, form.child_born_on.data = entry.child.full_name, entry.child.born_on


# The people an intelligence report raised from an entry starts with, in the same roles (a welfare
# check's child stays its subject). Victims, reporters and witnesses are left out: any of them may be
# the source, and a link naming them would point at who told us. The officer adds them by hand when
# the intelligence is about them.
RAISED_ROLES = frozenset({LinkRole.SUBJECT, LinkRole.SUSPECT, LinkRole.ASSOCIATE, LinkRole.MENTIONED})


def _raise_from(form, *, prefill: bool) -> None:
    """The entry an intelligence report is raised from: ?from=<id> on a new form, then the hidden field.

    An entry the officer may not open (or not raise from) answers 404, as if it did not exist.
    A new form is filled from it: place, time, people, vehicles.
    """
    if not isinstance(form, IntelligenceReportForm):
        return
    first_visit = prefill and request.method == "GET"
    raw = request.args.get("from") if first_visit else form.raised_from_id.data
    if not raw:
        return
    try:
        source = get_visible_entry(current_user, positive_int(raw))
    except ValueError:
        abort(404)
    if source is None or not can_raise_intelligence(current_user, source):
        abort(404)
    form.raised_from = source
    if first_visit:
        form.raised_from_id.data = str(source.id)
        form.load_location(source)
        form.location_text.data = source.location_text
        _load_links(form, [item for item in source.people_links if item.role in RAISED_ROLES], source.vehicle_links)


@bp.post("/entries/<int:entry_id>/submit")
@require(*LOGGERS)
def submit(entry_id: int):
    entry = _editable(entry_id)
    try:
        submit_entry(entry, actor=current_user)
    except EntryRejected as error:
        db.session.rollback()
        flash(error.message, "error")
        return render_detail(entry, end_form=EndPatrolForm(), status=409)
    db.session.commit()
    flash(f"{entry.kind.label} submitted for review.", "success")
    return redirect(url_for("entries.detail", entry_id=entry_id))


@bp.post("/patrols/<int:patrol_id>/end")
@require(*LOGGERS)
def end(patrol_id: int):
    patrol = _editable(patrol_id)
    if not isinstance(patrol, Patrol):
        abort(404)
    form = EndPatrolForm()
    if form.validate_on_submit():
        try:
            end_patrol(patrol, from_london(form.ended_at.data), form.notes.data, actor=current_user)
            if _save_action():
                submit_entry(patrol, actor=current_user)
        except EntryRejected as error:
            _reject(form, error)
        else:
            db.session.commit()
            flash("Patrol ended and submitted for review." if _save_action()
                  else "Patrol ended. Submit it when your notes are complete.", "success")
            return redirect(url_for("entries.detail", entry_id=patrol_id))
    return render_detail(patrol, end_form=form, status=400)
