"""Filtered lists of entries, and their exports (CSV, GeoJSON, PDF), each recorded as a disclosure.

GET  /lists/entries                   the filtered list (filters: pcso/lists/filters.py), audited as a search
GET  /lists/entries/export            the export form for the same filters: format, purpose, recipient
POST /lists/entries/export            records the disclosure, commits, then streams the file
GET  /entries/<id>/pdf                the export form for one entry
POST /entries/<id>/pdf                records the disclosure and returns the PDF
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_login import current_user

from ..access import READERS, require
from ..beats.services import all_beats
from ..database import read_only_from_here, writes_on_read
from ..entries.queries import get_visible_entry
from ..extensions import db
from ..models import AsbType, EntryKind, NsirCategory, PatrolMode, RiskLevel, SecurityMarking
from ..timeutil import london_today
from ..web import positive_int, same_origin_get
from .exports import FORMATS, export_filename, export_stream, export_summary
from .filters import LISTED_STATUSES, EntryFilter, FilterError
from .forms import EntryExportForm, ListExportForm
from .pdf_export import entry_pdf
from .services import (
    entries_page, record_disclosure, record_entry_disclosure, record_list_view, visible_person_name,
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
    if not filters.is_empty:
        record_list_view(filters, page.total, actor=current_user)
        db.session.commit()
    beats = all_beats()
    return render_template("lists/entries.html", page=page, filters=filters, beats=beats,
                           description=_description(filters, beats), kinds=list(EntryKind),
                           statuses=LISTED_STATUSES, nsir_choices=list(NsirCategory), asb_types=list(AsbType),
                           modes=list(PatrolMode), risks=list(RiskLevel))


@bp.route("/lists/entries/export", methods=["GET", "POST"])
@require(*READERS)
@same_origin_get
def export():
    filters = _filters()
    form = ListExportForm()
    if request.method == "GET" and request.args.get("format") in FORMATS:
        form.format.data = request.args["format"]
    clauses = filters.clauses(current_user, today=london_today())
    summary = export_summary(clauses)
    if form.validate_on_submit():
        event = record_disclosure(filters, summary, fmt=form.format.data, purpose=form.purpose.data,
                                  recipient=form.recipient.data, actor=current_user)
        # Everything the file needs is read before the commit: nothing after it may touch the session,
        # or the request would open a second (write-locking, on SQLite) transaction for the download.
        stream = export_stream(form.format.data, clauses, summary, event=event, actor=current_user,
                               purpose=form.purpose.data, recipient=form.recipient.data, filters=filters,
                               description=_description(filters, all_beats()))
        db.session.commit()  # the disclosure is on record before a byte leaves
        read_only_from_here()  # and the download holds no write lock (SQLite)
        response = Response(stream_with_context(stream), mimetype=FORMATS[form.format.data].mimetype)
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{export_filename(form.format.data, london_today())}"')
        return response
    status = 400 if request.method == "POST" else 200
    return render_template("lists/export.html", form=form, filters=filters, summary=summary,
                           description=_description(filters, all_beats())), status


@bp.route("/entries/<int:entry_id>/pdf", methods=["GET", "POST"])
@require(*READERS)
def entry_export(entry_id: int):
    entry = get_visible_entry(current_user, entry_id) or abort(404)
    form = EntryExportForm()
    if form.validate_on_submit():
        record_entry_disclosure(entry, purpose=form.purpose.data, recipient=form.recipient.data, actor=current_user)
        document = entry_pdf(entry, viewer=current_user, purpose=form.purpose.data, recipient=form.recipient.data)
        db.session.commit()
        response = Response(document, mimetype="application/pdf")
        response.headers["Content-Disposition"] = (
            f'attachment; filename="beatbook-entry-{entry.id}-{london_today().isoformat()}.pdf"')
        return response
    status = 400 if request.method == "POST" else 200
    return render_template("lists/entry_export.html", form=form, entry=entry,
                           sensitive=entry.marking == SecurityMarking.OFFICIAL_SENSITIVE), status
