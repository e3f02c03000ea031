"""The audit viewer (/audit): by person, by record, by action and date, unusual access, and the CSV export.

Auditors only (professional standards). Every page is itself a VIEW of 'audit' in the log, and an export a
DISCLOSE with its purpose and recipient. The pages are GET searches: a navigation from another site
(Sec-Fetch-Site: cross-site) shows the form without running the search (nothing recorded, nothing shown).
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_login import current_user

from ..access import AUDITORS, require
from ..database import read_only_from_here, writes_on_read
from ..extensions import db
from ..models import AuditAction
from ..timeutil import london_today
from .forms import AuditExportForm
from .queries import (
    RECORD_TYPES, AuditFilterError, AuditQuery, count_events, detail_items, event_page, latest_event_id, listed_summary,
    month_start, recent_sensitive_records, record_meta, with_linked_entries,
)
from .reasons import reason_label
from .services import export_stream, record_audit_export, record_audit_view
from .unusual import unusual_access

bp = Blueprint("audit", __name__, url_prefix="/audit")
MODES = {"people": "By officer", "records": "By record", "events": "By action and date"}


def _cross_site() -> bool:
    return request.headers.get("Sec-Fetch-Site") == "cross-site"


def _query(*, default_month: bool) -> AuditQuery:
    try:
        return AuditQuery.from_args(request.args, default_month=default_month)
    except AuditFilterError as error:
        abort(400, description=str(error))


def _with_linked(query: AuditQuery):
    """A person's (vehicle's...) events with those of the entries it is linked to, unless ?linked=no."""
    meta = record_meta(query.record_type, query.record_id) if query.has_record else None
    if meta is not None and meta.linked and request.args.get("linked") != "no":
        query = with_linked_entries(query, meta)
    return query, meta


def _search(mode: str, query: AuditQuery, ready: bool, meta=None):
    """Run the query and record the page, or show the form alone (nothing asked yet, or asked from elsewhere)."""
    page = None
    if ready and not _cross_site():
        page = event_page(query)
        record_audit_view(mode, query, actor=current_user, results=len(page.rows))
        db.session.commit()
    return render_template("audit/events.html", mode=mode, modes=MODES, query=query, page=page, meta=meta,
                           cross_site=ready and _cross_site(), record_types=RECORD_TYPES, actions=list(AuditAction),
                           reason_label=reason_label, detail_items=detail_items, listed_summary=listed_summary)


@bp.get("/")
@require(*AUDITORS)
@writes_on_read
def index():
    recent = recent_sensitive_records()
    record_audit_view("home", None, actor=current_user, results=len(recent))
    db.session.commit()
    return render_template("audit/index.html", recent=recent, record_types=RECORD_TYPES, modes=MODES,
                           month_from=month_start(london_today()))


@bp.get("/people")
@require(*AUDITORS)
@writes_on_read
def people():
    query = _query(default_month=True)
    return _search("people", query, ready=query.actor is not None)


@bp.get("/records")
@require(*AUDITORS)
@writes_on_read
def records():
    query, meta = _with_linked(_query(default_month=False))
    return _search("records", query, ready=meta is not None, meta=meta)


@bp.get("/events")
@require(*AUDITORS)
@writes_on_read
def events():
    query = _query(default_month=True)
    meta = record_meta(query.record_type, query.record_id) if query.has_record else None
    return _search("events", query, ready=True, meta=meta)


@bp.get("/unusual")
@require(*AUDITORS)
@writes_on_read
def unusual():
    query = _query(default_month=False)
    to_on = query.to_on or london_today()
    from_on = query.from_on or to_on.replace(day=1)
    report = None if _cross_site() else unusual_access(from_on, to_on)
    if report is not None:
        record_audit_view("unusual", query, actor=current_user, results=report.total,
                          window=[from_on.isoformat(), to_on.isoformat()])
        db.session.commit()
    return render_template("audit/unusual.html", report=report, from_on=from_on, to_on=to_on)


@bp.route("/export", methods=["GET", "POST"])
@require(*AUDITORS)
@writes_on_read
def export():
    query, _ = _with_linked(_query(default_month=not request.args.get("id")))
    form, up_to = AuditExportForm(), latest_event_id()
    rows = count_events(query, up_to=up_to) if not _cross_site() else None
    if rows is not None and form.validate_on_submit():
        event = record_audit_export(query, rows=rows, up_to=up_to, purpose=form.purpose.data,
                                    recipient=form.recipient.data, actor=current_user)
        stream = export_stream(query, event=event, rows=rows, up_to=up_to, actor=current_user,
                               purpose=form.purpose.data, recipient=form.recipient.data)
        db.session.commit()  # the disclosure is on record before a byte leaves
        read_only_from_here()  # and the download holds no write lock (SQLite)
        response = Response(stream_with_context(stream), mimetype="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = f'attachment; filename="beatbook-audit-{london_today()}.csv"'
        return response
    if rows is not None:
        record_audit_view("export-form", query, actor=current_user, results=rows)
        db.session.commit()
    return render_template("audit/export.html", form=form, query=query, rows=rows), \
        400 if request.method == "POST" else 200
