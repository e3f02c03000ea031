from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from ..access import ALL_ROLES, public, require
from ..database import writes_on_read
from ..extensions import db, limiter, login_manager
from ..web import JSON_PATHS
from . import enrolment, totp
from .flow import (
    NOT_RECOGNISED, account_key, account_limit, address_limit, begin_second_step, complete,
    needs_second_factor, pending_user,
)
from .forms import CodeForm, LoginForm
from .services import authenticate, end_session, load_session_user, second_factor_failed

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = "Sign in to continue."
login_manager.login_message_category = "info"
login_manager.user_loader(load_session_user)

WRONG_CODE = "That code is not right, or has been used already. Enter the code your app shows now."
# One bucket per address and one per account across both steps (password, then code): shared by every worker.
limit_address = limiter.shared_limit(address_limit, scope="login-address", methods=["POST"])
limit_account = limiter.shared_limit(account_limit, scope="login-account", key_func=account_key, methods=["POST"])


@login_manager.unauthorized_handler
def unauthorized():
    """Pages send the officer to sign in; the JSON endpoints the forms call answer 401."""
    if request.path.startswith(JSON_PATHS):
        return jsonify(error="Your session has ended. Sign in again, then try once more."), 401
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


@bp.route("/login", methods=["GET", "POST"])
@public
@limit_address
@limit_account
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.collar_number.data, form.password.data)
        if user is None:
            db.session.commit()  # keep the failed-login audit event (and the failure count)
            form.form_errors.append(NOT_RECOGNISED)
        elif needs_second_factor(user):
            db.session.commit()
            return redirect(url_for(begin_second_step(user, request.args.get("next"))))
        else:
            return redirect(complete(user, request.args.get("next")))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("auth/login.html", form=form), status


def _start_again():
    flash("Sign in again: enter your collar number and password.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/login/code", methods=["GET", "POST"])
@public
@limit_address
@limit_account
def code():
    user = pending_user()
    if user is None:
        return _start_again()
    if not totp.is_enrolled(user):
        return redirect(url_for("auth.enrol"))
    form = CodeForm()
    if form.validate_on_submit():
        if totp.use_code(user, form.code.data):
            return redirect(complete(user))
        second_factor_failed(user)
        db.session.commit()
        if pending_user() is None:  # that failure locked the account
            return _start_again()
        form.code.errors.append(WRONG_CODE)
    return render_template("auth/code.html", form=form), 400 if form.errors else 200


@bp.route("/login/set-up-code", methods=["GET", "POST"])
@public
@writes_on_read  # the secret being enrolled is kept on the first GET
@limit_address
@limit_account
def enrol():
    user = pending_user()
    if user is None:
        return _start_again()
    if totp.is_enrolled(user):
        return redirect(url_for("auth.code"))
    form, secret, confirmed = enrolment.take_code(user)
    if confirmed:
        return redirect(complete(user))
    if confirmed is False:
        second_factor_failed(user)
        db.session.commit()
        if pending_user() is None:  # that failure locked the account
            return _start_again()
        form.code.errors.append(WRONG_CODE)
    return enrolment.page(user, form, secret, signing_in=True)


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

