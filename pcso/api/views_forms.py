"""/api/v1/forms/<kind>: an entry form's fields, as the phone's outbox sends a form it queued with no signal."""
from __future__ import annotations

import marshmallow as ma
from flask import jsonify, url_for

from ..access import LOGGERS
from ..models import EntryKind
from . import services_forms
from .auth import api_require, api_user
from .blueprint import api_blueprint
from .idempotency import idempotent, request_key
from .schemas import Strict, SubmitArgsSchema, example

bp = api_blueprint("api_forms", "An entry form's fields, sent later from the phone")


def _pair(value):
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(part, str) and len(part) <= 20_000 for part in value)):
        raise ma.ValidationError("Each field is a [name, value] pair of strings.")


@example({"fields": [["occurred_at", "2026-12-02T14:30"], ["summary", "Youths on the tram platform"],
                     ["nsir_category", "nuisance"], ["asb_type", "noise"]]})
class FormFieldsSchema(Strict):
    fields = ma.fields.List(ma.fields.Raw(validate=_pair), required=True,
                            validate=ma.validate.Length(max=services_forms.MAX_FIELDS), metadata={
                                "description": "The form's fields in page order, as [name, value] pairs "
                                               "(names as the page's form posts them: people-0-name)",
                                "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}})


def _create_view(kind: EntryKind):
    @api_require(*LOGGERS)
    @idempotent
    @bp.arguments(SubmitArgsSchema, location="query")
    @bp.arguments(FormFieldsSchema)
    @bp.response(201, {"type": "object"}, description=f"The {kind.noun} logged (200: one logged already with this key)")
    def create(args: dict, body: dict):
        entry, created = services_forms.create(api_user(), kind, body["fields"], key=request_key(),
                                               submit=args["submit"])
        response = jsonify(entry)
        response.status_code = 201 if created else 200
        response.headers["Location"] = url_for("api_entries.entry", entry_id=entry["id"])
        return response

    create.__name__ = f"form_{kind.value}"
    create.__doc__ = (f"Log a {kind.noun} from its web form's fields, checked as the page checks them; errors "
                      "are keyed by the page's field ids. Needs an Idempotency-Key, which becomes its client key.")
    return bp.route(f"/forms/{kind.slug}", methods=["POST"], endpoint=create.__name__)(create)


for _kind in EntryKind:
    _create_view(_kind)
