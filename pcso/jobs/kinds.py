"""The app's job kinds. Each takes ids and plain values, reads with the requester's access at the time it runs,
and is idempotent (see pcso/jobs/__init__.py).

- list_export    a CSV/GeoJSON list export too large for the request (EXPORT_JOB_ROWS): the disclosure is
                 recorded and committed by the job before a byte is written, naming exactly the rows written
- approved_export the download of an approved OFFICIAL-SENSITIVE export too large for the request, the same way
- briefing_pdf   the printable shift briefing, its suggested patrols kept: the disclosure (naming them), then the
                 PDF (fpdf2 outside any transaction)
- audit_seal     seal the audit log (pcso/auditlog/sealing.py: one sealer at a time, a batch per transaction)
- audit_partitions  PostgreSQL: make audit_event's partitions for the coming months (pcso/auditlog/partitions.py)
- search_reindex rebuild entries' search text, a batch per transaction
- retention_apply carry out recorded disposals, one transaction per record (pcso/retention/erase.py)
- police_uk_import, beats_import, schools_import   the imports, each file checked whole before one transaction
                 (the files' paths are the server's: a worker on another machine needs them on a shared disk)
"""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from werkzeug.datastructures import MultiDict

from ..auditlog import keys, partitions, protection
from ..auditlog.sealing import seal
from ..beats.services import import_beats
from ..boundaries import BoundaryError, parse_boundaries
from ..briefing.pdf import briefing_pdf
from ..briefing.services import add_patrol_plans, build_briefing, record_briefing_disclosure
from ..context.police_uk import PoliceUkFileError, check_file
from ..context.police_uk_import import import_street_crimes
from ..database import reads_only
from ..extensions import db
from ..lists.exports import FORMATS, export_filename, export_stream, export_summary
from ..lists.filters import EntryFilter, FilterError
from ..lists.approvals import ExportRefused, download_export, get_export_request
from ..lists.services import export_ids, record_disclosure
from ..models import Entry, RetentionDecision
from ..schools.services import SchoolImportError, import_schools
from ..retention.erase import DisposalRefused, carry_out, delete_files, pending_disposals
from ..search.index import reindex_entries
from ..timeutil import london_today, to_london, utcnow
from .runner import JobContext, JobFailed, job_kind


@job_kind("list_export", label="List export")
def list_export(ctx: JobContext, *, filters: dict, fmt: str, purpose: str, recipient: str, max_id: int | None,
                description: str) -> dict:
    if fmt not in FORMATS:
        raise JobFailed("Unknown export format.")
    try:
        entry_filter = EntryFilter.from_args(MultiDict([(name, value) for name, values in filters.items()
                                                        for value in (values if isinstance(values, list) else [values])]))
    except FilterError as error:
        raise JobFailed(str(error)) from None
    clauses = entry_filter.clauses(ctx.actor, today=london_today())
    summary = export_summary(clauses, max_id=max_id)  # the rows as listed when it was asked for, at most
    if summary.needs_approval:  # an OFFICIAL-SENSITIVE row appeared since: that needs a second person
        raise JobFailed("The list now holds OFFICIAL-SENSITIVE entries: ask for the export again.")
    ctx.progress(0, summary.count, "Recording the disclosure", force=True)
    event = record_disclosure(entry_filter, summary, fmt=fmt, purpose=purpose, recipient=recipient,
                              actor=ctx.actor, ids=export_ids(clauses, summary), job=ctx.job_id)
    stream = export_stream(fmt, clauses, summary, event=event, actor=ctx.actor, purpose=purpose,
                           recipient=recipient, filters=entry_filter, description=description)
    db.session.commit()  # the disclosure is on record before a byte is written
    _write_file(ctx, stream, fmt, total=summary.count)
    return {"rows": summary.count, "format": fmt, "audit_event": event.id}


@job_kind("approved_export", label="Approved export")
def approved_export(ctx: JobContext, *, request_id: int, description: str) -> dict:
    """An approved OFFICIAL-SENSITIVE export too large for the request: the download is recorded (and, single use,
    spent) with its disclosure and committed before a byte is written; refused as the page would refuse it."""
    asked = get_export_request(ctx.actor, request_id)
    if asked is None:
        raise JobFailed("The export request was not found.")
    ctx.progress(0, None, "Recording the disclosure", force=True)
    try:
        stream = download_export(asked, actor=ctx.actor, description=description)
    except ExportRefused as error:
        raise JobFailed(str(error)) from None
    fmt = asked.format
    db.session.commit()  # the disclosure is on record before a byte is written
    return {**_write_file(ctx, stream, fmt, total=None), "format": fmt, "export_request": request_id}


def _write_file(ctx: JobContext, stream, fmt: str, *, total: int | None) -> dict:
    path = ctx.output(export_filename(fmt, london_today()), FORMATS[fmt].mimetype)
    written = 0
    with reads_only(), path.open("wb") as out:  # the long read takes no write lock (SQLite)
        for chunk in stream:
            out.write(chunk)
            written += chunk.count(b"\n")
            ctx.progress(written if total is None else min(written, total), total, "Writing the file")
        db.session.rollback()
    return {"lines": written}


@job_kind("briefing_pdf", label="Briefing PDF")
def briefing_pdf_job(ctx: JobContext, *, purpose: str, recipient: str) -> dict:
    ctx.progress(0, 3, "Gathering the briefing", force=True)
    briefing = build_briefing(ctx.actor)
    add_patrol_plans(briefing, config=current_app.config, consulted=False)  # named by the disclosure instead
    record_briefing_disclosure(briefing, purpose=purpose, recipient=recipient)
    db.session.commit()  # the disclosure is on record before a byte is written
    ctx.progress(1, 3, "Drawing the PDF", force=True)
    with reads_only():  # what the drawing still reads takes no write lock (SQLite)
        document = briefing_pdf(briefing, purpose=purpose, recipient=recipient)
        db.session.rollback()
    stamp = to_london(briefing.now).strftime("%Y-%m-%d-%H%M")
    ctx.output(f"briefing-{stamp}.pdf", "application/pdf").write_bytes(document)
    ctx.progress(3, 3, "Ready", force=True)
    return {"bytes": len(document)}


@job_kind("audit_seal", label="Seal the audit log")
def audit_seal(ctx: JobContext) -> dict:
    try:
        result = seal()
    except keys.SigningNotSetUp:
        raise JobFailed("No signing key: run `flask audit key init` first.") from None
    if result.busy:
        raise JobFailed("Another sealer is at work: try again when it has finished.")
    return {"sealed": result.sealed, "tree_size": result.tree_size, "held_back": result.held_back}


@job_kind("audit_partitions", label="Make the audit log's coming monthly partitions")
def audit_partitions(ctx: JobContext, *, months: int = 3) -> dict:
    """PostgreSQL: this month's and the next `months` months' partitions of audit_event (idempotent)."""
    conn = db.session.connection()
    if not partitions.is_partitioned(conn):
        return {"made": [], "skipped": [], "partitioned": False}
    made, skipped = partitions.ensure_ahead(conn, utcnow().date(), int(months), app_role=protection.app_role())
    db.session.commit()
    return {"made": made, "skipped": [m.isoformat() for m in skipped], "partitioned": True}


@job_kind("search_reindex", label="Rebuild the search index")
def search_reindex(ctx: JobContext, *, batch: int = 500) -> dict:
    ids = list(db.session.scalars(sa.select(Entry.id).order_by(Entry.id)))
    db.session.rollback()
    for start in range(0, len(ids), batch):
        reindex_entries(ids[start:start + batch], batch=batch)
        db.session.commit()  # each batch complete in itself: a second run rewrites the same text
        ctx.progress(min(start + batch, len(ids)), len(ids), "Rebuilding the search index")
    return {"entries": len(ids)}


@job_kind("retention_apply", label="Carry out recorded disposals")
def retention_apply(ctx: JobContext) -> dict:
    waiting = [decision.id for decision in pending_disposals()]
    db.session.rollback()
    disposed, failures = 0, 0

    for number, decision_id in enumerate(waiting, start=1):
        decision = db.session.get(RetentionDecision, decision_id)
        try:
            carry_out(decision)  # one record, whole, in one transaction
            db.session.commit()
            disposed += 1
        except DisposalRefused:
            db.session.rollback()
            failures += 1
        ctx.progress(number, len(waiting), "Disposing")
    deleted, left = delete_files()
    db.session.commit()
    return {"disposed": disposed, "refused": failures, "files_deleted": deleted, "files_left": left}


def _text(path: str) -> str:
    try:
        return Path(path).read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise JobFailed(f"Cannot read {Path(path).name}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise JobFailed(f"{Path(path).name} is not UTF-8 text") from None


@job_kind("police_uk_import", label="Import street crime (data.police.uk)")
def police_uk_import(ctx: JobContext, *, paths: list[str]) -> dict:
    """Every file checked before anything is written; then one transaction per file (a file imported again
    adds nothing, so a second run after a dead worker is harmless)."""
    lines = {}
    for path in paths:
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                lines[path] = check_file(handle)
        except OSError as error:
            raise JobFailed(f"Cannot read {Path(path).name}: {error.strerror}") from None
        except PoliceUkFileError as error:
            raise JobFailed(f"{Path(path).name}: {error}") from None
    total, done, added = sum(lines.values()), 0, 0  # lines, as the importer counts its progress
    for path in paths:
        read = 0

        def step(count: int) -> None:
            nonlocal read
            read += count
            ctx.progress(done + read, total, f"Importing {Path(path).name}")

        with open(path, encoding="utf-8-sig", newline="") as handle:
            summary = import_street_crimes(handle, source_file=Path(path).name, actor=ctx.actor, progress=step)
        db.session.commit()
        done += lines[path]
        added += summary.imported
    return {"files": len(paths), "imported": added}


@job_kind("beats_import", label="Import beats")
def beats_import(ctx: JobContext, *, path: str, code_property: str = "code", name_property: str = "name",
                 code: str | None = None, name: str | None = None, district: str | None = None) -> dict:
    try:
        shapes = parse_boundaries(_text(path), code_property=code_property, name_property=name_property,
                                  code=code, name=name)
    except BoundaryError as error:
        raise JobFailed(str(error)) from None
    summary = import_beats(shapes, district=district)
    db.session.commit()
    return {"read": len(shapes), "created": summary.created, "updated": summary.updated,
            "unchanged": summary.unchanged}


@job_kind("schools_import", label="Import schools")
def schools_import(ctx: JobContext, *, path: str) -> dict:
    try:
        summary = import_schools(_text(path))
    except SchoolImportError as error:
        raise JobFailed(str(error)) from None
    db.session.commit()
    return {"created": summary.created, "updated": summary.updated, "unchanged": summary.unchanged,
            "outside_beats": summary.outside_beats}
