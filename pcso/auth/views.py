from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from ..access import ALL_ROLES, public, require
from ..extensions import db, limiter, login_manager
from ..web import JSON_PATHS
from .forms import LoginForm
from .services import authenticate, end_session, load_session_user, start_session

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = "Sign in to continue."
login_manager.login_message_category = "info"
login_manager.user_loader(load_session_user)


@login_manager.unauthorized_handler
def unauthorized():
    """Pages send the officer to sign in; the JSON endpoints the forms call answer 401."""
    if request.path.startswith(JSON_PATHS):
        return jsonify(error="Your session has ended. Sign in again, then try once more."), 401
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _safe_next(target: str | None) -> str:
    """Only a path on this site: no scheme, no host, no control characters or backslashes."""
    if (target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc
            and target.isprintable() and "\\" not in target):
        return target
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.collar_number.data, form.password.data)
        if user is None:
            db.session.commit()  # keep the failed-login audit event
            form.form_errors.append("Collar number or password not recognised.")
        else:
            session.clear()
            start_session(user)
            login_user(user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@require(*ALL_ROLES)
def logout():
    # CSRFProtect has already checked the token on this POST.
    end_session(current_user._get_current_object(), current_user.session_token)
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    response = redirect(url_for("auth.login"))
    # Wipe this site's caches and storage (IndexedDB: drafts, the outbox) on the device; the page's own
    # script also deletes them for browsers that ignore the header. Cookies stay: the flash needs one.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response
