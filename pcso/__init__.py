"""Beatbook: a phone-first log for PCSOs, their supervisors and analysts."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .account import views as account_views
from .admin import views as admin
from .api import (
    views_case_reviews, views_core, views_docs, views_entries, views_forms, views_lists, views_phone, views_photos,
    views_records, views_search, views_work,
)
from .api.setup import init_api
from .assets import init_assets
from .audit import init_audit
from .audit_viewer import views as audit_viewer, views_reason as access_reasons
from .auth import views as auth
from .auth import views_security as auth_security
from .beats import views as beats
from .briefing import views as briefing
from .case_reviews import views as case_reviews
from .cli import register_cli
from .config import load_config, private_folder
from .dashboard import views as dashboard
from .database import configure_engine, private_sqlite_file
from .entries import views as entries
from .extensions import csrf, db, limiter, login_manager, migrate
from .geo_api import views as geo_api
from .jobs import views as jobs_views
from .lists import views as lists
from .main import views as main
from .offline import views as offline
from .photos import views as photos
from .photos.uploads import register_upload_limits
from .ratelimit import DatabaseStorage, redis_fallback
from .replica import init_replica
from .requestlog import init_request_log
from .patrol_plans import views as patrol_plans
from .pole import views as pole
from .pole import views_records as pole_records
from .pole import views_places as places
from .pole import views_network as pole_network
from .retention import views as retention
from .retention.dates import init_retention
from .models.markers import init_markers
from .review import views as review
from .risk import views as risk
from .search import views as search
from .web import register_converters, register_web

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    private_folder(Path(app.instance_path))
    app.config.from_mapping(load_config(Path(app.instance_path)))
    if test_config:
        app.config.from_mapping(test_config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # No JIT: it compiled the dashboard's aggregates on every request for no gain at this size (~100 ms).
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("options", "-c jit=off")
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options | {"connect_args": connect_args}

    if hops := app.config["TRUSTED_PROXIES"]:
        # Behind `hops` reverse proxies: believe that many X-Forwarded-For/-Proto entries, so the rate limits
        # and the audit see each officer's own address (not the proxy's: one bucket for the whole force).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    assert DatabaseStorage.STORAGE_SCHEME  # registered with `limits` by being imported: beatbook-db://
    private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    db.init_app(app)
    init_request_log(app)  # first: its clock and request id start before any other hook (pcso/requestlog.py)
    init_replica(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    register_upload_limits(app)  # before CSRFProtect, which reads the body
    csrf.init_app(app)
    redis_fallback(app.config)
    limiter.init_app(app)
    login_manager.init_app(app)

    configure_engine(app)
    init_retention(app)
    init_markers(app)  # the force's warning markers (pcso/models/markers.py): a bad file stops the app

    register_converters(app)
    for module in (main, auth, auth_security, beats, entries, photos, review, risk, dashboard, briefing, lists, geo_api, pole,
                   pole_records, places, search, admin, offline, retention, audit_viewer, access_reasons, jobs_views,
                   case_reviews, patrol_plans):
        app.register_blueprint(module.bp)

    register_web(app)
    init_audit(app)  # one consultation event per request; denials (pcso/audit.py)
    init_assets(app)

    app.register_blueprint(pole_network.bp)  # /networks/...: a record's associates graph as JSON
    app.register_blueprint(account_views.bp)
    app.register_blueprint(views_docs.bp)
    init_api(app, [views_core.bp, views_entries.bp, views_forms.bp, views_photos.bp, views_lists.bp, views_records.bp,
                   views_search.bp, views_work.bp, views_phone.bp, views_case_reviews.bp])

    register_cli(app)

    if not app.debug and not app.testing and app.config["LOG_FORMAT"] != "json":
        logging.basicConfig(level=logging.INFO)
    # geopy logs full request URLs (addresses) at DEBUG: never let that through.
    logging.getLogger("geopy").setLevel(logging.WARNING)
    return app
