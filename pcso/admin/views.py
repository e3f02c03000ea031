"""Administrators: users, their roles and the beats they work."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from ..access import require
from ..auth.forms import EmptyForm
from ..beats.services import all_beats
from ..extensions import db
from ..models import Role
from .services import (
    all_officers, get_officer, reset_password, reset_second_factor, sign_in_state, unlock_officer, update_officer,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")


class UserForm(FlaskForm):
    role = SelectField("Role", choices=[(r.value, r.label) for r in Role])
    is_enabled = BooleanField("Account enabled")
    beats = SelectMultipleField("Beats", coerce=int, widget=ListWidget(prefix_label=False),
                                option_widget=CheckboxInput())


@bp.get("/users")
@require(Role.ADMIN)
def users():
    people = all_officers()
    return render_template("admin/users.html", users=people)


def _user_page(user, form, *, one_time_password: str | None = None, status: int = 200):
    if form is None:
        form = UserForm(obj=user, formdata=None)
        form.beats.choices = [(b.id, b.label) for b in all_beats()]
        form.beats.data = [b.id for b in user.beats]
    return render_template("admin/user.html", user=user, form=form, sign_in=sign_in_state(user),
                           button_form=EmptyForm(), one_time_password=one_time_password), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require(Role.ADMIN)
def edit_user(user_id: int):
    user = get_officer(user_id) or abort(404)
    form = UserForm(obj=user)
    beats = all_beats()
    form.beats.choices = [(b.id, b.label) for b in beats]
    if not form.is_submitted():
        form.beats.data = [b.id for b in user.beats]
    if form.validate_on_submit():
        update_officer(user, role=Role(form.role.data), is_enabled=form.is_enabled.data,
                       beat_ids=form.beats.data, actor=current_user)
        db.session.commit()
        flash(f"Saved {user.display_name}.", "success")
        return redirect(url_for("admin.users"))
    return _user_page(user, form, status=400 if form.errors else 200)


ACCOUNT_ACTIONS = {"unlock": "Unlocked", "reset-two-step": "Reset two-step sign-in of"}


@bp.post("/users/<int:user_id>/<any('unlock', 'reset-two-step'):action>")
@require(Role.ADMIN)
def account_action(user_id: int, action: str):
    """Unlock a locked account, or reset a lost second factor (the officer sets it up again)."""
    user = get_officer(user_id) or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    (unlock_officer if action == "unlock" else reset_second_factor)(user, actor=current_user)
    db.session.commit()
    flash(f"{ACCOUNT_ACTIONS[action]} {user.display_name}.", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/reset-password")
@require(Role.ADMIN)
def reset_user_password(user_id: int):
    """A one-time password, shown on this page once (never sent in a URL or a flash cookie)."""
    user = get_officer(user_id) or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    one_time = reset_password(user, actor=current_user)
    db.session.commit()
    return _user_page(user, None, one_time_password=one_time)
