"""Administrators: users, their roles and the beats they work."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from ..access import require
from ..beats.services import all_beats
from ..extensions import db
from ..models import Role
from .services import all_officers, get_officer, update_officer

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
    return render_template("admin/user.html", user=user, form=form), 400 if form.errors else 200
