"""Two-person approval of OFFICIAL-SENSITIVE bulk exports (CSV, GeoJSON).

A supervisor or analyst asks for the export with its purpose and recipient; the filter is frozen then (its GET
parameters, the London date named sets are read on, and the highest entry id listed), never the data. A
different supervisor or analyst approves or refuses it. Only then can the requester download it: once, or as
often as needed until it expires (EXPORT_APPROVAL_SINGLE_USE, EXPORT_APPROVAL_MINUTES). Audited: the request
(create), the decision (review: requester, format, filters, count, marking, expiry; the purpose and recipient
are the request's own, and the download's) and each download (disclose, with purpose and recipient, the
request and its approver), the download's disclosure committed before a byte leaves. Services flush and audit; views commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from werkzeug.datastructures import MultiDict

from .. import audit
from ..access import WELFARE_READERS, can_decide_export_request, can_view_export_request
from ..extensions import db
from ..models import AuditAction, Entry, EntryKind, ExportRequest, ExportRequestStatus, User
from ..timeutil import to_london, utcnow
from .exports import ExportSummary, export_stream, export_summary
from .filters import EntryFilter, FilterError
from .services import export_ids, record_disclosure

QUEUE_LIMIT = 200


class ExportRefused(ValueError):
    """The request can't be decided or downloaded (already decided, expired, used): a message for the page."""


def request_export(filters: EntryFilter, summary: ExportSummary, *, fmt: str, purpose: str, recipient: str,
                   actor: User, **details) -> ExportRequest:
    request = ExportRequest(requester_id=actor.id, format=fmt, filters=filters.to_args(), max_id=summary.max_id,
                            count=summary.count, marking=summary.marking.value, purpose=purpose, recipient=recipient,
                            status=ExportRequestStatus.PENDING)
    db.session.add(request)
    db.session.flush()
    audit.record(AuditAction.CREATE, request, actor=actor, object_type="export_request", format=fmt,
                 filters=filters.to_audit(), count=summary.count, marking=summary.marking.value,
                 conditions_apply=summary.conditions_count, **details)
    return request


def get_export_request(user: User, request_id: int) -> ExportRequest | None:
    """The request, if the user may see it (its requester, or a possible approver); None otherwise (404)."""
    found = db.session.get(ExportRequest, request_id)
    return found if found is not None and can_view_export_request(user, found) else None


@dataclass(frozen=True)
class ExportQueues:
    to_decide: list[ExportRequest]
    mine: list[ExportRequest]


def export_queues(user: User) -> ExportQueues:
    """Others' requests waiting for a decision (oldest first), and the user's own (newest first)."""
    waiting = db.session.scalars(
        sa.select(ExportRequest).where(ExportRequest.status == ExportRequestStatus.PENDING,
                                       ExportRequest.requester_id != user.id)
        .order_by(ExportRequest.created_at, ExportRequest.id).limit(QUEUE_LIMIT)).all()
    mine = db.session.scalars(
        sa.select(ExportRequest).where(ExportRequest.requester_id == user.id)
        .order_by(ExportRequest.created_at.desc(), ExportRequest.id.desc()).limit(QUEUE_LIMIT)).all()
    return ExportQueues(to_decide=list(waiting), mine=list(mine))


def _lock(request: ExportRequest) -> None:
    """Re-read under a row lock (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises)."""
    db.session.execute(sa.select(ExportRequest.id).where(ExportRequest.id == request.id).with_for_update())
    db.session.refresh(request)


def decide_export(request: ExportRequest, *, approve: bool, comment: str | None, actor: User) -> ExportRequest:
    _lock(request)
    if request.status != ExportRequestStatus.PENDING:
        raise ExportRefused("This export has been decided already.")
    if not can_decide_export_request(actor, request):
        raise ExportRefused("Someone other than its requester approves an export.")
    comment = (comment or "").strip() or None
    if not approve and comment is None:
        raise ExportRefused("Say why you refuse it: the requester sees your reason.")
    if approve and actor.role not in WELFARE_READERS and _holds_welfare_checks(request):
        raise ExportRefused("It holds welfare checks on children: a supervisor, who may read them, approves it.")
    now = utcnow()
    request.decided_by_id, request.decided_at, request.comment = actor.id, now, comment
    if approve:
        request.status = ExportRequestStatus.APPROVED
        request.expires_at = now + timedelta(minutes=current_app.config["EXPORT_APPROVAL_MINUTES"])
    else:
        request.status = ExportRequestStatus.REFUSED
    db.session.flush()
    audit.record(AuditAction.REVIEW, request, actor=actor, object_type="export_request",
                 decision="approved" if approve else "refused", requester_id=request.requester_id,
                 format=request.format, filters=request.filters, count=request.count, marking=request.marking,
                 commented=comment is not None,
                 expires_at=request.expires_at.isoformat() if request.expires_at else None)
    return request


def _holds_welfare_checks(request: ExportRequest) -> bool:
    """Whether the frozen export holds a welfare check (need to know: only those who may read them approve it)."""
    clauses = frozen_filter(request).clauses(request.requester, today=to_london(request.created_at).date())
    return db.session.scalar(sa.select(sa.exists().where(
        *clauses, Entry.kind == EntryKind.WELFARE_CHECK, Entry.id <= (request.max_id or 0))))


def frozen_filter(request: ExportRequest) -> EntryFilter:
    try:
        return EntryFilter.from_args(MultiDict([(name, value) for name, values in request.filters.items()
                                                for value in (values if isinstance(values, list) else [values])]))
    except FilterError as error:  # a named set removed since, say
        raise ExportRefused(f"This export's filter can no longer be read: {error}") from None


def download_export(request: ExportRequest, *, actor: User, description: str):
    """Record the download as a disclosure (flush) and return the file's stream: the view commits first.

    The rows are the frozen filter's, read with the requester's access now, up to the id listed when it was
    asked for: nothing logged since, and nothing they may no longer see.
    """
    _lock(request)
    if request.requester_id != actor.id:
        raise ExportRefused("Only the person who asked for this export can download it.")
    if request.status == ExportRequestStatus.DOWNLOADED:
        raise ExportRefused("This export has been downloaded already: it was approved for one download.")
    if request.status != ExportRequestStatus.APPROVED:
        raise ExportRefused("This export has not been approved.")
    now = utcnow()
    if request.is_expired(now):
        raise ExportRefused("The approval has expired: ask for the export again.")
    filters = frozen_filter(request)
    clauses = filters.clauses(actor, today=to_london(request.created_at).date())
    summary = export_summary(clauses, max_id=request.max_id if request.max_id is not None else 0)
    request.downloads += 1
    request.last_download_at = now
    if current_app.config["EXPORT_APPROVAL_SINGLE_USE"]:
        request.status = ExportRequestStatus.DOWNLOADED
    event = record_disclosure(filters, summary, fmt=request.format, purpose=request.purpose,
                              recipient=request.recipient, actor=actor, export_request=request.id,
                              approved_by=request.decided_by_id, ids=export_ids(clauses, summary))
    return export_stream(request.format, clauses, summary, event=event, actor=actor, purpose=request.purpose,
                         recipient=request.recipient, filters=filters, description=description, approval=request)


def export_size(request: ExportRequest, *, actor: User) -> int:
    """How many rows a download of the request would write now (0 when its filter can't be read)."""
    try:
        filters = frozen_filter(request)
    except ExportRefused:
        return 0
    clauses = filters.clauses(actor, today=to_london(request.created_at).date())
    return export_summary(clauses, max_id=request.max_id if request.max_id is not None else 0).count
