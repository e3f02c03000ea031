"""Request-wide behaviour: security headers, error pages, template helpers."""
from __future__ import annotations

import logging
from itertools import chain
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, current_app, g, jsonify, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup, escape
from werkzeug.exceptions import BadRequest, Conflict, HTTPException, ServiceUnavailable
from werkzeug.routing import BaseConverter, IntegerConverter

from . import access
from .extensions import db
from .numbers import MAX_DB_INT, MAX_JSON_DEPTH, finite_float, has_json_nul, json_depth
from .timeutil import format_london, to_london

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:{tiles}; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

log = logging.getLogger(__name__)

ERROR_TITLES = {
    400: "Something in the request was not right",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "That action is not allowed here",
    409: "Someone else changed this at the same moment",
    410: "This record has been disposed of",
    413: "Too much was sent",
    429: "Too many attempts",
    500: "Sorry, something went wrong",
    503: "The system is busy",
}
BUSY_MESSAGE = ("The system is busy or restarting, so nothing was saved. Use your browser's Back button and send it "
                "again in a few seconds: what you typed is kept on this phone.")
BUSY_RETRY_SECONDS = 3
CONFLICT_MESSAGE = ("Someone else saved a change to the same record at the same moment, so nothing of yours was "
                    "saved. Send it again: it will be added to theirs.")
BUSY_PAGE = """<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Beatbook</title><link rel="stylesheet" href="{css}"></head>
<body><main id="main" class="container"><h1>{title}</h1><p>{message}</p></main></body></html>"""


JSON_PATHS = ("/geo/", "/people/suggest", "/vehicles/suggest", "/locations/suggest", "/organisations/suggest",
              "/networks/")  # endpoints the page scripts call


class IdConverter(IntegerConverter):
    """<int:...> in URLs, bounded to what the database's integer columns hold (beyond: 404)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_DB_INT)
        super().__init__(url_map, *args, **kwargs)


class TokenConverter(BaseConverter):
    """<token:...>: an opaque id from secrets.token_urlsafe (e.g. a saved search); anything else is a 404."""

    regex = r"[A-Za-z0-9_\-]{16,64}"


def positive_int(value: str) -> int:
    """For request.args.get(..., type=positive_int): a database id or page number, or ValueError."""
    number = int(value)
    if not 0 < number <= MAX_DB_INT:
        raise ValueError(value)
    return number


# --- GETs that run a search or an export: never for another site ---------------------------------------------

FOREIGN_FETCH_SITES = {"cross-site", "same-site"}  # same-site: another origin under the force's domain


class NulCharacter(BadRequest):
    description = "The text sent contains a NUL character (U+0000), which can't be stored: remove it and send again."
    is_public = True


class TooDeepJSON(BadRequest):
    description = f"The JSON sent nests more than {MAX_JSON_DEPTH} levels deep: send a flatter body."
    is_public = True  # the API's problem+json carries this description (pcso/api/errors.py)


def same_origin_get(view=None, *, with_query_only: bool = False):
    """Mark a GET view that runs a search or an export (and records it under the user's name). A navigation
    another site started (a link in an email or on a web page: SameSite=Lax sends the session cookie) gets a
    page asking the user to confirm instead, so no site can make an officer search for a name or export a
    list. With `with_query_only`, the bare page (no query string: nothing searched) opens as usual."""

    def mark(function):
        function.same_origin_get = "query" if with_query_only else "always"
        return function

    return mark(view) if view is not None else mark


def started_elsewhere() -> bool:
    """Whether this request was started by another site: Sec-Fetch-Site (every current browser sends it), else
    the Origin or Referer header when one names another origin. No header at all (a typed address, a bookmark,
    an old browser told to send no referrer) counts as the user's own."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site.strip().lower() in FOREIGN_FETCH_SITES
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return bool(source)  # "null": a sandboxed or privacy-stripped origin, never ours
    parts, own = urlsplit(source), urlsplit(request.host_url)
    return (parts.scheme, parts.netloc) != (own.scheme, own.netloc)


def register_converters(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["token"] = TokenConverter


def register_web(app: Flask) -> None:
    tiles = app.config.get("MAP_TILE_URL")
    tile_origin = ""
    if tiles:
        parts = urlsplit(tiles.replace("{s}", "a"))
        tile_origin = f" {parts.scheme}://{parts.netloc}"
    csp = CSP.format(tiles=tile_origin)

    @app.before_request
    def no_nul_characters():
        """U+0000 in any text sent (query string, form field, JSON string) is refused: no one types it, and
        PostgreSQL can't store it (a DataError, a 500, on every form and API write). Files are not text."""
        values = chain(*request.args.listvalues(), *request.form.listvalues())
        if any("\x00" in value for value in values) or (request.is_json and has_json_nul(request.get_data(cache=True))):
            raise NulCharacter()
        return None

    @app.before_request
    def bounded_json():
        """A JSON (or untyped, or text) body is read as JSON somewhere (get_json, the API's schemas, the
        idempotency digest): refuse it here, once, when it nests deeper than any endpoint takes. Python's json
        module recurses, so 5,000 levels of [ were a RecursionError (a 500) on every JSON endpoint. Other
        parsers of outside JSON (hidden fields, sealed entries) use numbers.loads_json."""
        if not (request.is_json or request.mimetype in ("", "text/plain")) or request.method in ("GET", "HEAD"):
            return None
        if json_depth(request.get_data(cache=True)) > MAX_JSON_DEPTH:
            raise TooDeepJSON()
        return None

    @app.before_request
    def confirm_foreign_navigation():
        """A search or export GET started by another site is not run: the user is asked to confirm (a link to
        the same address, which, followed from this page, is same-origin). Nothing is searched or recorded."""
        if request.method != "GET":
            return None
        mark = getattr(app.view_functions.get(request.endpoint or ""), "same_origin_get", None)
        if mark is None or (mark == "query" and not request.query_string) or not started_elsewhere():
            return None
        return render_template("errors/confirm_navigation.html", url=request.full_path.rstrip("?")), 200

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "geolocation=(self), camera=(), microphone=()"
        if not request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response

    def wants_json() -> bool:
        return request.path.startswith(JSON_PATHS) or request.accept_mimetypes.best == "application/json"

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        code = error.code or 500
        message = error.description if code in (400, 409, 410, 413, 429) else None
        if code == 413:
            limit_kb = app.config["MAX_CONTENT_LENGTH"] // 1024
            message = g.get("too_large_message") or (
                f"The form sent more than {limit_kb} KB. Shorten the longest text and send it again.")
        if wants_json():
            return jsonify(error=ERROR_TITLES.get(code, error.name), detail=message), code
        return (
            render_template("errors/error.html", code=code, title=ERROR_TITLES.get(code, error.name),
                            message=message),
            code,
        )

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        db.session.rollback()
        message = "This form had expired or was sent from elsewhere. Go back, reload the page and send it again."
        if wants_json():
            return jsonify(error="CSRF check failed", detail=message), 400
        return render_template("errors/error.html", code=400, title="The form could not be accepted",
                               message=message), 400

    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.InterfaceError)
    def database_busy(error):
        """The write lock not got within the busy timeout (SQLite "database is locked"), or the database gone or
        restarting (PostgreSQL): a clear 503 with Retry-After, never a 500. Nothing half-written: the
        transaction is rolled back. The log names the error's type only (its message can hold values)."""
        db.session.rollback()
        log.warning("database unavailable: %s", type(getattr(error, "orig", error)).__name__)
        headers = {"Retry-After": str(BUSY_RETRY_SECONDS), "Cache-Control": "no-store"}
        if request.path.startswith("/api/"):  # a problem+json like every API error (pcso/api/errors.py)
            busy = ServiceUnavailable(description=BUSY_MESSAGE, retry_after=BUSY_RETRY_SECONDS)
            busy.is_public = True
            return current_app.handle_http_exception(busy)
        if wants_json():
            return jsonify(error=ERROR_TITLES[503], detail=BUSY_MESSAGE), 503, headers
        # No template: the page's own helpers ask the database who is signed in, and it is not answering.
        page = BUSY_PAGE.format(css=escape(url_for("static", filename="css/app.css")), title=ERROR_TITLES[503],
                                message=BUSY_MESSAGE)
        return current_app.response_class(page, status=503, headers=headers, mimetype="text/html")

    @app.errorhandler(sa.exc.IntegrityError)
    def write_conflict(error):
        """Two requests meeting one rule at once (two officers naming one new record in the same moment) that its
        service did not resolve itself: the later is rolled back and asked to send again, a 409 and never a 500.
        The log names the constraint's error type only (the error's text holds the values being inserted)."""
        db.session.rollback()
        log.warning("write conflict: %s", type(getattr(error, "orig", error)).__name__)
        if request.path.startswith("/api/"):
            conflict = Conflict(description=CONFLICT_MESSAGE)
            conflict.is_public = True
            return current_app.handle_http_exception(conflict)
        return render_template("errors/error.html", code=409, title=ERROR_TITLES[409], message=CONFLICT_MESSAGE), 409

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return render_template("errors/error.html", code=500, title=ERROR_TITLES[500], message=None), 500

    app.jinja_env.filters["london"] = format_london
    app.jinja_env.filters["london_date"] = lambda v: format_london(v, "%d %b %Y") if v else ""
    app.jinja_env.filters["iso_local"] = lambda v: to_london(v).strftime("%Y-%m-%dT%H:%M") if v else ""
    app.jinja_env.filters["metres"] = metres
    app.jinja_env.filters["nl2br"] = lambda text: Markup("<br>").join(escape(text or "").split("\n"))

    app.jinja_env.globals["form_problems"] = form_problems
    app.jinja_env.globals["can_open"] = can_open

    @app.context_processor
    def template_helpers():
        return {
            "access": access,
            "force_name": app.config["FORCE_NAME"],
            "current_beats": current_user.beats if current_user.is_authenticated else [],
        }


def metres(value) -> str:
    """An accuracy as '±12 m', or '' when there is none or it is not a finite number (a stored -inf or nan must
    not make a page unopenable)."""
    number = finite_float(value)
    return "" if number is None else f"±{number:,.0f} m"


def can_open(endpoint: str) -> bool:
    """Whether the current user may open `endpoint`, read from the roles its view declares (@require or
    @public): templates ask this instead of restating roles. An unknown endpoint is an error, not False."""
    access_rule = current_app.view_functions[endpoint].access
    if access_rule == access.PUBLIC:
        return True
    return current_user.is_authenticated and current_user.role in access_rule


def form_problems(form) -> list[tuple[str, str]]:
    """(field id, message) for every error on a form, nested lists included, in page order."""
    problems = [("main", message) for message in getattr(form, "form_errors", [])]
    order = {name: i for i, name in enumerate(getattr(form, "field_order", ()))}

    def walk(fields):
        for field in fields:
            if field.type == "FieldList":
                walk(field.entries)
            elif field.type == "FormField":
                walk(field.form)
            else:
                problems.extend((field.id, message) for message in field.errors)

    walk(sorted(form, key=lambda field: order.get(field.short_name, len(order))))
    return problems
