"""The phone with no signal: the service worker (/sw.js), and the "Waiting to send" list (/outbox).

The service worker is a template (templates/offline/sw.js) so that it names the app shell's content-hashed
static files and carries a version that changes whenever any of them, or the worker itself, changes."""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Blueprint, current_app, render_template, url_for
from flask_login import current_user

from ..access import LOGGERS, can_log_entries, public, require
from ..entries.registry import KINDS

bp = Blueprint("offline", __name__)

# What the entry forms and the outbox page need, kept by the service worker (missing files are left out).
SHELL_FILES = (
    "css/app.css", "favicon.svg", "vendor/idb/umd.js", "js/vault.js", "js/outbox-core.js", "js/outbox.js",
    "js/outbox-photos.js", "js/rules.js", "js/drafts.js", "js/offline.js", "js/app.js", "js/places.js", "js/photos.js",
    "vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css", "vendor/leaflet/images/layers.png",
    "vendor/leaflet/images/marker-icon.png", "vendor/exifr/mini.umd.js", "css/photos.css",
)


def shell_urls() -> list[str]:
    static = Path(current_app.static_folder)
    return [url_for("static", filename=name) for name in SHELL_FILES if (static / name).is_file()]


def app_version() -> str:
    """Changes with the worker's source, any shell file's URL (content-hashed) and OFFLINE_VERSION."""
    source = Path(current_app.jinja_loader.get_source(current_app.jinja_env, "offline/sw.js")[1]).read_bytes()
    parts = [source, "\n".join(shell_urls()).encode(), str(current_app.config.get("OFFLINE_VERSION", "")).encode()]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]


def offline_pages() -> list[str]:
    """The pages a logger's phone keeps for use with no signal: the forms, the chooser and the outbox."""
    return ([url_for("entries.choose"), url_for("offline.outbox")]
            + [url_for("entries.new", slug=spec.slug) for spec in KINDS.values()])


@bp.app_context_processor
def offline_helpers():
    if not (current_user.is_authenticated and can_log_entries(current_user)):
        return {"offline_pages": [], "app_version": ""}
    return {"offline_pages": offline_pages(), "app_version": app_version()}


@bp.get("/sw.js")
@public
def service_worker():
    # bandit's B604 (shell=True) is a false positive: not a subprocess, `shell` is the app-shell URLs to cache
    body = render_template("offline/sw.js", version=app_version(), shell=shell_urls(),  # nosec B604
                           pages=offline_pages())
    return body, 200, {"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache"}


@bp.get("/outbox")
@require(*LOGGERS)
def outbox():
    return render_template("offline/outbox.html")
