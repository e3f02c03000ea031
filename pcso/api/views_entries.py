"""/api/v1: log an entry of any kind (Idempotency-Key = its client key), read one, change a draft, submit it."""
from __future__ import annotations

import marshmallow as ma
from flask import jsonify, request, url_for

from ..access import LOGGERS, READERS
from ..audit_viewer.reasons import NOTE_MAX, REASONS
from ..entries.schema import entry_input_schema
from ..models import EntryKind
from . import services_entries
from .auth import api_require, api_user, authenticate
from .blueprint import api_blueprint
from .errors import abort
from .idempotency import idempotent, request_key
from .schemas import Strict, SubmitArgsSchema, example

bp = api_blueprint("api_entries", "Log, read, change and submit entries")


def _answer(entry: dict, status: int):
    response = jsonify(entry)
    response.status_code = status
    response.headers["Location"] = url_for("api_entries.entry", entry_id=entry["id"])
    return response


ENTRY_LINKS = {"links": {  # for clients and schemathesis' stateful runs: what to do with the entry made
    "GetEntry": {"operationRef": "#/paths/~1api~1v1~1entries~1{entry_id}/get",
                 "parameters": {"entry_id": "$response.body#/id"}},
    "SubmitEntry": {"operationRef": "#/paths/~1api~1v1~1entries~1{entry_id}~1submit/post",
                    "parameters": {"entry_id": "$response.body#/id"}},
}}


def _create_view(kind: EntryKind):
    @api_require(*LOGGERS)
    @idempotent
    @bp.arguments(SubmitArgsSchema, location="query")
    @bp.arguments(entry_input_schema(kind))
    @bp.response(201, {"type": "object"}, description=f"The {kind.noun} logged (200: one logged already with this key)")
    @bp.doc(responses={201: ENTRY_LINKS})
    def create(args: dict, data):
        entry, created = services_entries.create(api_user(), services_entries.with_key(data, request_key()),
                                                 submit=args["submit"])
        return _answer(entry, 201 if created else 200)

    create.__name__ = f"create_{kind.value}"
    article = "an" if kind.noun[0] in "aeiouAEIOU" else "a"
    create.__doc__ = f"Log {article} {kind.noun}. Needs an Idempotency-Key, which becomes its client key."
    return bp.route(f"/{kind.slug}", methods=["POST"], endpoint=create.__name__)(create)


for _kind in EntryKind:
    _create_view(_kind)


@bp.route("/entries/<int:entry_id>", methods=["GET"])
@api_require(*READERS)
@bp.response(200, {"type": "object"}, description="The entry as its page shows it to you, with its ETag")
@bp.doc(parameters=[
    {"name": "X-Access-Reason", "in": "header", "required": False, "schema": {"type": "string", "enum": list(REASONS)},
     "description": "Why you open an OFFICIAL-SENSITIVE entry (required where the force says so: else 428)"},
    {"name": "X-Access-Reason-Note", "in": "header", "required": False,
     "schema": {"type": "string", "maxLength": NOTE_MAX * 3},
     "description": f"A few words (at most {NOTE_MAX} characters, percent-encoded UTF-8); needed for 'other'"}],
    responses={428: {"description": "A reason for access is required (problem access-reason-required)"}})
def entry(entry_id: int):
    """One entry you may open (404 otherwise): every field its page shows you. ETag; If-None-Match gives 304.

    OFFICIAL-SENSITIVE entries: say why you open it in X-Access-Reason (and X-Access-Reason-Note), recorded with
    the view; where the force requires a reason (ACCESS_REASON=required), 428 without one."""
    user, token = authenticate()
    found = services_entries.visible(user, entry_id)
    services_entries.record_read(user, found, request.headers, browser_session=token is None)
    response = jsonify(services_entries.detail(user, found))
    response.set_etag(services_entries.entry_etag(found))
    response = response.make_conditional(request)
    if response.status_code == 412:  # If-Match names another version: a problem, not the entry under a 412
        abort(412, "The entry has changed since you read it: read it again.", problem="precondition-failed")
    return response


@bp.route("/entries/<int:entry_id>", methods=["PUT"])
@api_require(*LOGGERS)
@bp.arguments(SubmitArgsSchema, location="query")
@bp.response(200, {"type": "object"}, description="The changed entry")
@bp.doc(parameters=[{"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"}}],
        requestBody={"required": True, "content": {"application/json": {"schema": {"type": "object"}}}})
def update(args: dict, entry_id: int):
    """Change a draft (or an entry returned to you) from a whole new body of its kind. If-Match: 428 without, 412 stale."""
    user = api_user()
    changed = services_entries.update(user, entry_id, request.get_json(silent=True), if_match=request.if_match,
                                      submit=args["submit"])
    services_entries.commit()
    response = jsonify(services_entries.detail(user, changed))
    response.set_etag(services_entries.entry_etag(changed))
    return response


@example({"ended_at": "2026-12-02T16:00:00Z", "notes": "Quiet; spoke to two shopkeepers", "submit": True})
class EndPatrolSchema(Strict):
    ended_at = ma.fields.AwareDateTime(required=True)
    notes = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=2000))
    submit = ma.fields.Boolean(load_default=False)


@bp.route("/patrols/<int:patrol_id>/end", methods=["POST"])
@api_require(*LOGGERS)
@bp.arguments(EndPatrolSchema)
@bp.response(200, {"type": "object"}, description="The ended patrol")
def end_patrol(args: dict, patrol_id: int):
    """End your open patrol at `ended_at` (and submit it if `submit`); entries in its time join it."""
    user = api_user()
    ended = services_entries.end(user, patrol_id, ended_at=args["ended_at"], notes=args.get("notes"),
                                 submit=args["submit"])
    services_entries.commit()
    return jsonify(services_entries.detail(user, ended))


@bp.route("/entries/<int:entry_id>/submit", methods=["POST"])
@api_require(*LOGGERS)
@bp.response(200, {"type": "object"}, description="The submitted entry")
def submit(entry_id: int):
    """Submit your draft (or corrected entry) for review."""
    user = api_user()
    submitted = services_entries.submit(user, entry_id)
    services_entries.commit()
    return jsonify(services_entries.detail(user, submitted))
