"""An officer's own sign-in security: changing the password, setting up the second factor."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import ALL_ROLES, require
from ..database import writes_on_read
from ..extensions import db
from ..web import JSON_PATHS
from . import enrolment, totp
from .flow import change_password as set_new_password
from .forms import PasswordChangeForm

bp = Blueprint("security", __name__)

# What someone who must change their password (after an admin reset) may still open.
WHILE_MUST_CHANGE = {"security.change_password", "auth.logout", "static", "main.health", "main.web_manifest",
                     "offline.service_worker"}


@bp.before_app_request
def must_change_password_first():
    if request.endpoint in WHILE_MUST_CHANGE or not current_user.is_authenticated:
        return None
    if current_user.must_change_password:
        if request.path.startswith((*JSON_PATHS, "/api/")):
            return {"error": "Change your password first."}, 403
        return redirect(url_for("security.change_password"))
    return None


@bp.get("/account/security")
@require(*ALL_ROLES)
def overview():
    return render_template("account/security.html", enrolled=totp.is_enrolled(current_user),
                           required=totp.required_for(current_user))


@bp.route("/account/password", methods=["GET", "POST"])
@require(*ALL_ROLES)
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit() and set_new_password(current_user._get_current_object(), form):
        db.session.commit()
        flash("Your password has been changed. You have been signed out everywhere else.", "success")
        return redirect(url_for("security.overview"))
    return render_template("account/password.html", form=form,
                           forced=current_user.must_change_password), 400 if form.errors else 200


@bp.route("/account/two-step", methods=["GET", "POST"])
@require(*ALL_ROLES)
@writes_on_read  # the secret being set up is kept on the first GET
def enrol():
    user = current_user._get_current_object()
    if totp.is_enrolled(user):
        return redirect(url_for("security.overview"))
    form, secret, confirmed = enrolment.take_code(user)
    if confirmed:
        db.session.commit()
        flash("Two-step sign-in is on: you will be asked for a code after your password.", "success")
        return redirect(url_for("security.overview"))
    if confirmed is False:
        form.code.errors.append("That code is not right. Enter the code your app shows now.")
    return enrolment.page(user, form, secret, signing_in=False)
