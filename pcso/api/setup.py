"""The /api/v1 extension: flask-smorest's Api on our plain Flask app, with problem+json errors.

flask-smorest would register an app-wide HTTPException handler (JSON for the HTML pages too) and its
own spec blueprint (endpoints without declared access): both are switched off. Our own docs
blueprint serves /api/v1/openapi.json and the reference page (pcso/api/views_docs.py).
"""
from __future__ import annotations

import http

from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, current_app
from flask_smorest import Api

from ..entries.schema import entry_input_schema
from ..extensions import csrf
from ..models import EntryKind
from .errors import PROBLEM_JSON, register_problem_handlers
from .idempotency import PARAMETER
from .schemas import SCHEMAS, ProblemSchema

API_INFO = {
    "description": (
        "Beatbook's JSON API: the same services, access rules and audit as the pages. Authenticate with a "
        "personal access token (Authorization: Bearer) made on /account/tokens, or the browser session "
        "with X-CSRFToken on unsafe methods. Errors are application/problem+json (RFC 9457). Every create "
        "needs an Idempotency-Key. Keys are kept 30 days."),
}


class BeatbookApi(Api):
    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = "DEFAULT_ERROR"

    def _register_error_handlers(self):
        """None app-wide: register_problem_handlers() answers errors under /api/ only."""

    def _register_pagination_header(self):
        """None: lists page with an opaque cursor in the body, not flask-smorest's X-Pagination."""

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["content"] = {PROBLEM_JSON: {"schema": "Problem"}}
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response("DEFAULT_ERROR", {
            "description": "An error, as application/problem+json",
            "content": {PROBLEM_JSON: {"schema": "Problem"}}}, lazy=True)


def _schema_name(schema) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema")
    partial = getattr(schema, "partial", False)
    return f"{name}Partial" if partial else name


def configure(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "Beatbook")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config["OPENAPI_URL_PREFIX"] = None  # our own docs blueprint serves the spec
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": API_INFO, "servers": [{"url": "/"}],
        "components": {"securitySchemes": {
            "token": {"type": "http", "scheme": "bearer", "description": "A personal access token (bb_...)"},
            "session": {"type": "apiKey", "in": "cookie", "name": app.config["SESSION_COOKIE_NAME"]}}},
        "security": [{"token": []}, {"session": []}],
    })


def current_api() -> BeatbookApi:
    return current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"]


def example_from_fields(schema) -> dict:
    """An example for a schema made elsewhere (the entry kinds'): each field's own metadata example."""
    return {field.data_key or name: field.metadata["example"] for name, field in schema._declared_fields.items()
            if "example" in field.metadata and not field.dump_only}


def register_schemas(api: BeatbookApi) -> None:
    for kind in EntryKind:
        schema = entry_input_schema(kind)
        api.spec.components.schema(_schema_name(schema), {"examples": [example_from_fields(schema)]}, schema=schema)
    for schema in SCHEMAS:
        api.spec.components.schema(_schema_name(schema), {"examples": [schema.example]}, schema=schema)
    api.spec.components.parameter("IDEMPOTENCY_KEY", "header", {
        key: value for key, value in PARAMETER.items() if key not in ("name", "in")} | {"name": PARAMETER["name"]})


def init_api(app: Flask, blueprints) -> BeatbookApi:
    """Set the Api up and register the API blueprints (exempt from CSRFProtect: auth.py checks X-CSRFToken)."""
    configure(app)
    api = BeatbookApi(app, spec_kwargs={"marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=_schema_name)})
    register_schemas(api)
    for blueprint in blueprints:
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    for component in api.spec.components.schemas.values():  # nested schemas of the entry kinds
        if not component.get("examples"):
            properties = component.get("properties", {})
            component["examples"] = [{name: prop["example"] for name, prop in properties.items() if "example" in prop}]
    register_problem_handlers(app)
    return api
