"""Structured logs: one JSON line per request, with a request id, and no personal data.

Each line names the request by its id, method, **endpoint** (the view's name, e.g. ``entries.detail``) and route
(``/entries/<int:entry_id>``), never the URL as sent: no query string, no form data, no record ids, no names. The
user is their database id only. The request id is the proxy's ``X-Request-ID`` when it looks like one (nginx's
``$request_id``, a UUID), else a new one; it is echoed in the response's ``X-Request-ID`` header so a user's
report, the proxy's log and this log meet.

Other log records (errors from Flask, the CLI) go through the same formatter when ``LOG_FORMAT=json``: an
exception is logged as its type and its stack (file, line, function), never its message, which can quote a
database row (an IntegrityError carries the values it was inserting).
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, g, request

HEADER = "X-Request-ID"
VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
LOGGER = "beatbook.request"
FIELDS = ("request_id", "method", "endpoint", "route", "status", "duration_ms", "user_id", "api")
logger = logging.getLogger(LOGGER)


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time (UTC), level, logger, message, the request fields it carries."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage() if record.name == LOGGER else _scrubbed(record),
        }
        line.update({name: getattr(record, name) for name in FIELDS if getattr(record, name, None) is not None})
        if record.exc_info and record.exc_info[0] is not None:
            kind, _, trace = record.exc_info
            line["exception"] = kind.__name__
            line["stack"] = [f"{frame.filename}:{frame.lineno} {frame.name}" for frame in traceback.extract_tb(trace)]
        return json.dumps(line, separators=(",", ":"))


def _scrubbed(record: logging.LogRecord) -> str:
    """Another logger's message: its template, not its arguments (which may be a row's values)."""
    return str(record.msg) if record.args else record.getMessage()


def request_id() -> str:
    """This request's id (the proxy's, when valid; else made here)."""
    if "request_id" not in g:
        sent = request.headers.get(HEADER, "")
        g.request_id = sent if VALID_ID.fullmatch(sent) else uuid.uuid4().hex
    return g.request_id


def _user_id() -> int | None:
    """The signed-in user's id, if this request has already loaded them (never a query of its own)."""
    user = g.get("api_user") or g.get("_login_user")
    if not getattr(user, "is_authenticated", False):
        return None
    state = sa.inspect(user, raiseerr=False)  # the key, without loading a user a commit has expired
    return state.identity[0] if state is not None and state.identity else getattr(user, "id", None)


def init_request_log(app: Flask) -> None:
    if app.config.get("LOG_FORMAT") == "json" and not app.testing:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root = logging.getLogger()
        root.handlers[:] = [handler]
        root.setLevel(logging.INFO)
    logger.setLevel(logging.INFO)

    @app.before_request
    def start_clock():
        g.request_started = time.perf_counter()
        request_id()

    @app.after_request
    def log_request(response):
        response.headers[HEADER] = request_id()
        if request.endpoint == "static" or not app.config.get("REQUEST_LOG", True):
            return response
        started = g.get("request_started", time.perf_counter())
        logger.info("request", extra={
            "request_id": request_id(), "method": request.method, "endpoint": request.endpoint or "-",
            "route": request.url_rule.rule if request.url_rule else "-", "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1), "user_id": _user_id(),
            "api": True if g.get("api_user") is not None else None,
        })
        return response
