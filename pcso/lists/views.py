"""Filtered lists of entries, and their exports (CSV, GeoJSON, PDF), each recorded as a disclosure.

GET  /lists/entries                   the filtered list (filters: pcso/lists/filters.py), audited as a search
GET  /lists/entries/export            the export form for the same filters: format, purpose, recipient
POST /lists/entries/export            OFFICIAL: records the disclosure, commits, then streams the file;
                                      OFFICIAL-SENSITIVE: records a request for a second person's approval
GET  /exports                         requests waiting for a decision, and the user's own
GET  /exports/<id>                    one request: its decision form, or its download button
POST /exports/<id>/decision           approve or refuse (someone other than the requester)
POST /exports/<id>/download           the requester downloads an approved export (a disclosure, then the file)
GET  /entries/<id>/pdf                the export form for one entry
POST /entries/<id>/pdf                records the disclosure, commits, then renders the PDF

Bulk exports are for supervisors and analysts (access.EXPORTERS); one entry's PDF for whoever may open it.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user

from ..access import EXPORTERS, READERS, can_decide_export_request, require
from ..auth.forms import EmptyForm
from ..beats.services import all_beats
from ..database import read_only_from_here, writes_on_read
from ..entries.queries import get_visible_entry
from ..extensions import db
from ..jobs import runner as jobs
from ..models import AsbType, EntryKind, NsirCategory, PatrolMode, RiskLevel, SecurityMarking
from ..timeutil import london_today
from ..web import positive_int, same_origin_get
from .exports import FORMATS, export_filename, export_stream, export_summary
from .filters import LISTED_STATUSES, EntryFilter, FilterError
from .approvals import (
    ExportRefused, decide_export, download_export, export_queues, export_size, frozen_filter, get_export_request,
    request_export,
)
from .forms import EntryExportForm, ExportDecisionForm, ListExportForm
from .pdf_export import entry_pdf
from .services import (
    entries_page, export_ids, record_disclosure, record_entry_disclosure, record_export_form, record_list_shown,
    record_list_view, visible_person_name,
)

bp = Blueprint("lists", __name__)

PER_PAGE = 25


def _filters() -> EntryFilter:
    try:
        return EntryFilter.from_args(request.args)
    except FilterError as error:
        abort(400, description=str(error))


def _description(filters: EntryFilter, beats) -> str:
    return filters.describe(beat_names={b.id: b.name for b in beats},
                            person_name=visible_person_name(filters, current_user))


@bp.get("/lists/entries")
@require(*READERS)
@writes_on_read
@same_origin_get(with_query_only=True)
def entries():
    filters = _filters()
    clauses = filters.clauses(current_user, today=london_today())
    page = entries_page(clauses, page=request.args.get("page", 1, type=positive_int), per_page=PER_PAGE)
    record_list_shown(page.items, filters, actor=current_user)
    if not filters.is_empty:
        record_list_view(filters, page.total, actor=current_user)
        db.session.commit()
    beats = all_beats()
    return render_template("lists/entries.html", page=page, filters=filters, beats=beats,
                           description=_description(filters, beats), kinds=list(EntryKind),
                           statuses=LISTED_STATUSES, nsir_choices=list(NsirCategory), asb_types=list(AsbType),
                           modes=list(PatrolMode), risks=list(RiskLevel))


def _download(stream, fmt: str) -> Response:
    db.session.commit()  # the disclosure is on record before a byte leaves
    read_only_from_here()  # and the download holds no write lock (SQLite)
    response = Response(stream_with_context(stream), mimetype=FORMATS[fmt].mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{export_filename(fmt, london_today())}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _ask_for_approval(filters: EntryFilter, summary, form):
    asked = request_export(filters, summary, fmt=form.format.data, purpose=form.purpose.data,
                           recipient=form.recipient.data, actor=current_user)
    db.session.commit()
    flash("Export requested. Another supervisor or analyst must approve it before you can download it.", "success")
    return redirect(url_for("lists.export_request", request_id=asked.id))


def _export_in_background(filters: EntryFilter, summary, form):
    """The job records the disclosure (naming exactly the rows it writes) and writes the file; the user
    follows it on the job's page (pcso/jobs/views.py)."""
    job_id = jobs.launch("list_export", {
        "filters": filters.to_args(), "fmt": form.format.data, "purpose": form.purpose.data,
        "recipient": form.recipient.data, "max_id": summary.max_id,
        "description": _description(filters, all_beats())}, actor=current_user)
    return redirect(url_for("jobs.show", job_id=job_id), code=303)


@bp.route("/lists/entries/export", methods=["GET", "POST"])
@require(*EXPORTERS)
@same_origin_get
def export():
    filters = _filters()
    form = ListExportForm()
    if request.method == "GET" and request.args.get("format") in FORMATS:
        form.format.data = request.args["format"]
    clauses = filters.clauses(current_user, today=london_today())
    summary = export_summary(clauses)
    if form.validate_on_submit():
        if summary.needs_approval:  # OFFICIAL-SENSITIVE: a second person approves it first
            return _ask_for_approval(filters, summary, form)
        if summary.count > current_app.config["EXPORT_JOB_ROWS"]:  # too big for a request: a background job
            return _export_in_background(filters, summary, form)
        event = record_disclosure(filters, summary, fmt=form.format.data, purpose=form.purpose.data,
                                  recipient=form.recipient.data, actor=current_user, ids=export_ids(clauses, summary))
        # Everything the file is read from is read before the commit (no second, write-locking transaction).
        stream = export_stream(form.format.data, clauses, summary, event=event, actor=current_user,
                               purpose=form.purpose.data, recipient=form.recipient.data, filters=filters,
                               description=_description(filters, all_beats()))
        return _download(stream, form.format.data)
    status = 400 if request.method == "POST" else 200
    record_export_form(None, filters, actor=current_user)
    return render_template("lists/export.html", form=form, filters=filters, summary=summary,
                           description=_description(filters, all_beats())), status


@bp.get("/exports")
@require(*EXPORTERS)
def export_requests():
    return render_template("lists/export_requests.html", queues=export_queues(current_user),
                           describe=_request_description)


def _request_description(asked) -> str:
    """What the request would export, in words; a person named in it is a consultation of their record."""
    try:
        filters = frozen_filter(asked)
    except ExportRefused:
        return "A filter that can no longer be read"
    record_export_form(None, filters, actor=current_user)
    return _description(filters, all_beats())


def _request_page(asked, *, form=None, status: int = 200):
    if form is None and can_decide_export_request(current_user, asked):
        form = ExportDecisionForm()
    return render_template("lists/export_request.html", asked=asked, form=form, button_form=EmptyForm(),
                           description=_request_description(asked)), status


@bp.get("/exports/<int:request_id>")
@require(*EXPORTERS)
def export_request(request_id: int):
    asked = get_export_request(current_user, request_id) or abort(404)
    return _request_page(asked)


@bp.post("/exports/<int:request_id>/decision")
@require(*EXPORTERS)
def decide_export_request(request_id: int):
    asked = get_export_request(current_user, request_id) or abort(404)
    if asked.requester_id == current_user.id:
        abort(403)  # a second person decides
    form = ExportDecisionForm()
    decision = request.form.get("decision")
    if decision not in ("approve", "refuse"):
        form.validate_on_submit()
        form.form_errors.append("Choose Approve or Refuse")
        return _request_page(asked, form=form, status=400)
    if not form.validate_on_submit():
        return _request_page(asked, form=form, status=400)
    try:
        decide_export(asked, approve=decision == "approve", comment=form.comment.data, actor=current_user)
    except ExportRefused as error:
        db.session.rollback()
        form.form_errors.append(str(error))
        return _request_page(get_export_request(current_user, request_id) or abort(404), form=form, status=409)
    db.session.commit()
    flash("Export approved: its requester can download it now." if decision == "approve"
          else "Export refused: its requester sees your reason.", "success")
    return redirect(url_for("lists.export_requests"))


@bp.post("/exports/<int:request_id>/download")
@require(*EXPORTERS)
def download_export_request(request_id: int):
    asked = get_export_request(current_user, request_id) or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400, "The form has expired: reload the page and try again")
    if export_size(asked, actor=current_user) > current_app.config["EXPORT_JOB_ROWS"]:  # too big for a request
        job_id = jobs.launch("approved_export", {"request_id": asked.id, "description": _request_description(asked)},
                             actor=current_user)
        return redirect(url_for("jobs.show", job_id=job_id), code=303)
    try:
        stream = download_export(asked, actor=current_user, description=_request_description(asked))
    except ExportRefused as error:
        db.session.rollback()
        flash(str(error), "error")
        return _request_page(get_export_request(current_user, request_id) or abort(404), status=409)
    return _download(stream, asked.format)


@bp.route("/entries/<int:entry_id>/pdf", methods=["GET", "POST"])
@require(*READERS)
def entry_export(entry_id: int):
    entry = get_visible_entry(current_user, entry_id) or abort(404)
    form = EntryExportForm()
    if form.validate_on_submit():
        record_entry_disclosure(entry, purpose=form.purpose.data, recipient=form.recipient.data, actor=current_user)
        db.session.commit()  # the disclosure is on record first,
        read_only_from_here()  # and the PDF renders outside that transaction: no write lock held (SQLite)
        document = entry_pdf(entry, viewer=current_user, purpose=form.purpose.data, recipient=form.recipient.data)
        db.session.rollback()  # end the read the rendering began
        response = Response(document, mimetype="application/pdf")
        response.headers["Content-Disposition"] = (
            f'attachment; filename="beatbook-entry-{entry.id}-{london_today().isoformat()}.pdf"')
        return response
    status = 400 if request.method == "POST" else 200
    record_export_form(entry, None, actor=current_user)
    return render_template("lists/entry_export.html", form=form, entry=entry,
                           sensitive=entry.marking == SecurityMarking.OFFICIAL_SENSITIVE), status
