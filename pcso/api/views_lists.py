"""/api/v1: the entry list (the list page's filters, cursor pagination), one entry, and list exports."""
from __future__ import annotations

from flask import Response, jsonify, stream_with_context, url_for

from ..access import EXPORTERS, READERS
from ..database import read_only_from_here, writes_on_read
from ..extensions import db
from ..lists.exports import FORMATS, export_filename
from ..models import ExportRequest
from ..timeutil import london_today
from . import services, services_more
from .auth import api_require, api_user
from .blueprint import api_blueprint
from .schemas import EntryPageSchema
from .schemas_more import ExportInSchema, ExportRequestSchema, ListArgsSchema

EXPORT_REQUEST = ExportRequestSchema()
bp = api_blueprint("api_lists", "Entries: the filtered list and its exports")


@bp.route("/entries", methods=["GET"])
@api_require(*READERS)
@writes_on_read
@bp.arguments(ListArgsSchema, location="query")
@bp.response(200, EntryPageSchema)
def entries(args: dict):
    """Entries you may see, newest first, filtered as /lists/entries is (never drafts). A filtered list is audited."""
    cursor, limit = args.pop("cursor", None), args.pop("limit")
    rows, next_cursor = services.list_entries(api_user(), services_more.entry_filter(args), cursor=cursor,
                                              limit=limit)
    db.session.commit()
    return {"entries": [services.entry_summary(row) for row in rows], "next_cursor": next_cursor}


def _file(stream, fmt: str) -> Response:
    db.session.commit()  # the disclosure is on record before a byte leaves
    read_only_from_here()
    response = Response(stream_with_context(stream), mimetype=FORMATS[fmt].mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{export_filename(fmt, london_today())}"'
    return response


@bp.route("/exports", methods=["POST"])
@api_require(*EXPORTERS, reads=True)
@bp.arguments(ExportInSchema)
@bp.response(200, {"type": "string"}, content_type="text/csv",
             description="The file: text/csv, or application/geo+json for format=geojson")
@bp.alt_response(200, schema={"type": "object"}, content_type="application/geo+json", success=True,
                 description="The file, for format=geojson")
@bp.alt_response(202, schema=EXPORT_REQUEST, success=True,
                 description="OFFICIAL-SENSITIVE: a request for a second person's approval, not the file")
def export(order: dict):
    """Export the filtered list as CSV or GeoJSON (supervisors and analysts): purpose and recipient required,
    recorded as a disclosure first. An OFFICIAL-SENSITIVE list answers 202 with an export request instead:
    another supervisor or analyst approves it (on its page, approve_url), then POST /exports/{id}/download."""
    user, fmt = api_user(), order["format"]
    made = services.export_entries(user, services_more.entry_filter(order["filters"]), fmt=fmt,
                                   purpose=order["purpose"], recipient=order["recipient"])
    if isinstance(made, ExportRequest):  # waiting for a second person's approval
        db.session.commit()
        response = jsonify(EXPORT_REQUEST.dump(services.export_request_shape(made)))
        response.status_code = 202
        response.headers["Location"] = url_for("api_lists.export_request", request_id=made.id)
        return response
    return _file(made, fmt)


@bp.route("/exports/<int:request_id>", methods=["GET"])
@api_require(*EXPORTERS, reads=True)
@bp.response(200, EXPORT_REQUEST)
def export_request(request_id: int):
    """An OFFICIAL-SENSITIVE export request: waiting, approved (until expires_at), refused or downloaded."""
    return services.export_request_shape(services.get_export_request(api_user(), request_id))


@bp.route("/exports/<int:request_id>/download", methods=["POST"])
@api_require(*EXPORTERS, reads=True)
@bp.response(200, {"type": "string"}, content_type="text/csv", description="The approved file")
@bp.alt_response(409, response="CONFLICT")
def download(request_id: int):
    """Download an approved export (its requester only; once, unless the force allows more): a disclosure first.
    409 while it waits, once refused, expired or used."""
    asked, stream = services.download_approved_export(api_user(), request_id)
    return _file(stream, asked.format)
