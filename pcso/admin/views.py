"""Administrators: users, their roles and the beats they work."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from .. import audit
from ..access import require
from ..auth.services import end_all_sessions
from ..beats.services import all_beats, assign_beats
from ..extensions import db
from ..models import AuditAction, Beat, Role, User

bp = Blueprint("admin", __name__, url_prefix="/admin")


class UserForm(FlaskForm):
    role = SelectField("Role", choices=[(r.value, r.label) for r in Role])
    is_enabled = BooleanField("Account enabled")
    beats = SelectMultipleField("Beats", coerce=int, widget=ListWidget(prefix_label=False),
                                option_widget=CheckboxInput())


@bp.get("/users")
@require(Role.ADMIN)
def users():
    people = db.session.scalars(sa.select(User).order_by(User.role, User.display_name)).all()
    return render_template("admin/users.html", users=people)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require(Role.ADMIN)
def edit_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserForm(obj=user)
    beats = all_beats()
    form.beats.choices = [(b.id, b.label) for b in beats]
    if not form.is_submitted():
        form.beats.data = [b.id for b in user.beats]
    if form.validate_on_submit():
        changes = {}
        if user.role != form.role.data:
            changes["role"] = [user.role.value, form.role.data]
            user.role = Role(form.role.data)
        if user.is_enabled != form.is_enabled.data:
            changes["is_enabled"] = [user.is_enabled, form.is_enabled.data]
            user.is_enabled = form.is_enabled.data
        if changes:
            end_all_sessions(user, "account_changed")
            audit.record(AuditAction.UPDATE, user, actor=current_user, fields=sorted(changes))
        assign_beats(user, [db.session.get(Beat, i) for i in form.beats.data], actor=current_user)
        db.session.commit()
        flash(f"Saved {user.display_name}.", "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/user.html", user=user, form=form), 400 if form.errors else 200
