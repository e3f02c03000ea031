"""Errors of the JSON API as application/problem+json (RFC 9457), whatever raised them.

Every error under /api/ is answered here: a route that does not exist (404), a method it does not
take (405, with Allow), too large a body (413), webargs validation (422, with the field messages),
rate limits (429), our own refusals (401/403/404/409/412/428...) and unexpected failures (500).
Pages keep their HTML error pages: the handlers the app had are called for every other path.

`abort(status, detail, errors=..., problem=...)` raises one; `problem` names its type, a section of
the reference page (/api/v1/reference#problem-<name>).
"""
from __future__ import annotations

import http
from typing import Any

from flask import Flask, current_app, g, json, request
from werkzeug.exceptions import HTTPException, InternalServerError

from ..extensions import db

API_PREFIX = "/api/"
PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPES = {
    "validation": "The request body or parameters did not validate; `errors` names each field.",
    "unauthenticated": "No credentials, or a token that is unknown, expired or revoked.",
    "csrf": "A signed-in browser sent an unsafe method without a valid X-CSRFToken header.",
    "scope": "The token's scope does not allow this method (a read token sends only GET).",
    "forbidden": "Your role may not do this.",
    "not-found": "No such record, or one you may not see.",
    "idempotency-key-missing": "A create needs an Idempotency-Key header.",
    "idempotency-key-in-flight": "A request with this Idempotency-Key is still being processed: retry later.",
    "idempotency-key-reused": "This Idempotency-Key was used with a different request body.",
    "access-reason-required": ("The record is OFFICIAL-SENSITIVE and this force asks why it is opened: send "
                               "X-Access-Reason (and X-Access-Reason-Note); `detail` lists the reasons."),
    "gone": "The record was disposed of under the force's retention rules (MoPI); `detail` gives the date.",
    "conflict": "The record changed state meanwhile (decided by someone else, say).",
    "precondition-failed": "If-Match does not match the record's current ETag: read it again.",
    "precondition-required": "This change needs an If-Match header with the record's ETag.",
    "rate-limited": "Too many requests for this token or user: slow down.",
    "sealing-not-set-up": "This server has no sealing key yet (flask seal-key init): keep the entry on the phone.",
    "seal-key-unknown": "The entry was sealed to a key this server does not hold: it can't be opened here.",
    "seal-invalid": "The sealed entry does not decode or decrypt (damaged, or not sealed to that key).",
    "seal-plaintext": "The sealed entry opened but is not {kind, submit, body} with a known kind.",
}
STATUS_TYPES = {401: "unauthenticated", 404: "not-found", 410: "gone", 412: "precondition-failed", 422: "validation",
                428: "precondition-required", 429: "rate-limited", 409: "conflict", 403: "forbidden"}


class Problem(HTTPException):
    """An API refusal with its RFC 9457 fields."""

    def __init__(self, status: int, detail: str | None = None, *, errors: dict | None = None,
                 problem: str | None = None, headers: dict | None = None):
        super().__init__(description=detail)
        self.code = status
        self.data = {"errors": errors, "problem": problem, "headers": headers or {}}


def abort(status: int, detail: str | None = None, **kwargs) -> None:
    raise Problem(status, detail, **kwargs)


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def _flatten(messages: Any) -> dict[str, Any]:
    """webargs keys its messages by location ({"json": {...}, "headers": {...}}): one flat dict."""
    if not isinstance(messages, dict):
        return {"_schema": messages}
    flat: dict[str, Any] = {}
    for location, fields in messages.items():
        if isinstance(fields, dict) and location in ("json", "query", "headers", "path", "form", "files"):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


def problem_body(status: int, detail: str | None, *, problem: str | None = None,
                 errors: dict | None = None) -> dict[str, Any]:
    name = problem or STATUS_TYPES.get(status)
    body: dict[str, Any] = {
        "type": f"/api/v1/reference#problem-{name}" if name else "about:blank",
        "title": http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ else "Error",
        "status": status,
        "detail": detail or PROBLEM_TYPES.get(name or "", http.HTTPStatus(status).description
                                               if status in http.HTTPStatus._value2member_map_ else ""),
    }
    if errors:
        body["errors"] = errors
    return body


def problem_response(error: HTTPException):
    db.session.rollback()
    status = error.code or 500
    if status == 304:  # flask-smorest's NotModified: no body, the tag the client holds
        response = current_app.response_class(status=304)
        if len(request.if_none_match.as_set()) == 1:
            response.set_etag(next(iter(request.if_none_match.as_set())))
        return response
    data = getattr(error, "data", None) or {}
    errors = data.get("errors")
    if errors is None and "messages" in data:  # webargs validation
        errors = _flatten(data["messages"])
    detail = (error.description if isinstance(error, Problem) or status == 410 or getattr(error, "is_public", False)
              else None)
    if status == 413:
        detail = g.get("too_large_message") or "The request body is too large."
    elif status == 405:
        detail = f"{request.method} is not allowed here."
    elif status == 422 and errors:
        detail = "Some fields are not right: see errors."
    body = problem_body(status, detail, problem=data.get("problem"), errors=errors)
    response = current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in error.get_headers() if not isinstance(error, Problem) else ():
        if name.lower() != "content-type":
            response.headers[name] = value
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response


def register_problem_handlers(app: Flask) -> None:
    """Answer errors under /api/ as problems; leave every other path to the handlers registered before."""
    spec = app.error_handler_spec.setdefault(None, {})
    html_http = spec.get(None, {}).get(HTTPException)
    html_500 = spec.get(500, {}).get(InternalServerError)

    def http_error(error: HTTPException):
        if is_api_request():
            return problem_response(error)
        return html_http(error) if html_http else error

    def server_error(error):
        if is_api_request():
            return problem_response(error if isinstance(error, HTTPException) else InternalServerError())
        return html_500(error) if html_500 else error

    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(500, server_error)
