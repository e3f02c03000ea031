"""/api/v1: the entry list (the list page's filters, cursor pagination), one entry, and list exports."""
from __future__ import annotations

from flask import Response, stream_with_context

from ..access import READERS
from ..database import read_only_from_here, writes_on_read
from ..extensions import db
from ..lists.exports import FORMATS, export_filename
from ..timeutil import london_today
from . import services, services_more
from .auth import api_require, api_user
from .blueprint import api_blueprint
from .schemas import EntryPageSchema
from .schemas_more import ExportInSchema, ListArgsSchema

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


@bp.route("/exports", methods=["POST"])
@api_require(*READERS, reads=True)
@bp.arguments(ExportInSchema)
@bp.response(200, {"type": "string"}, content_type="text/csv",
             description="The file: text/csv, or application/geo+json for format=geojson")
@bp.alt_response(200, schema={"type": "object"}, content_type="application/geo+json", success=True,
                 description="The file, for format=geojson")
def export(order: dict):
    """Export the filtered list as CSV or GeoJSON: purpose and recipient required, recorded as a disclosure first."""
    user, fmt = api_user(), order["format"]
    stream = services.export_entries(user, services_more.entry_filter(order["filters"]), fmt=fmt,
                                     purpose=order["purpose"], recipient=order["recipient"])
    db.session.commit()  # the disclosure is on record before a byte leaves
    read_only_from_here()
    response = Response(stream_with_context(stream), mimetype=FORMATS[fmt].mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{export_filename(fmt, london_today())}"'
    return response
