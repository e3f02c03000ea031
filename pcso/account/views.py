"""Personal access tokens for the API: made, listed and revoked by their owner; revoked by an admin."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ..access import ALL_ROLES, require
from ..api.tokens import get_user, revoke_token, token_of, tokens_of, create_token
from ..auth.forms import EmptyForm
from ..extensions import db
from ..models import Role, TokenScope
from ..timeutil import utcnow
from .forms import TokenForm

bp = Blueprint("tokens", __name__)


def _page(form: TokenForm, *, secret: str | None = None, status: int = 200):
    return render_template("account/tokens.html", form=form, tokens=tokens_of(current_user), secret=secret,
                           button_form=EmptyForm(), now=utcnow()), status


@bp.get("/account/tokens")
@require(*ALL_ROLES)
def index():
    return _page(TokenForm())


@bp.post("/account/tokens")
@require(*ALL_ROLES)
def create():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    _, secret = create_token(current_user, name=form.name.data, scope=TokenScope(form.scope.data),
                             days=int(form.days.data), actor=current_user)
    db.session.commit()
    return _page(TokenForm(formdata=None), secret=secret, status=201)


@bp.post("/account/tokens/<int:token_id>/revoke")
@require(*ALL_ROLES)
def revoke(token_id: int):
    token = token_of(current_user, token_id) or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    revoke_token(token, actor=current_user)
    db.session.commit()
    flash(f"Revoked “{token.name}”: it no longer works.", "success")
    return redirect(url_for("tokens.index"))


@bp.get("/admin/users/<int:user_id>/tokens")
@require(Role.ADMIN)
def user_tokens(user_id: int):
    user = get_user(user_id) or abort(404)
    return render_template("account/user_tokens.html", user=user, tokens=tokens_of(user), button_form=EmptyForm(),
                           now=utcnow())


@bp.post("/admin/users/<int:user_id>/tokens/<int:token_id>/revoke")
@require(Role.ADMIN)
def admin_revoke(user_id: int, token_id: int):
    user = get_user(user_id) or abort(404)
    token = token_of(user, token_id) or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    revoke_token(token, actor=current_user)
    db.session.commit()
    flash(f"Revoked {user.display_name}’s token “{token.name}”.", "success")
    return redirect(url_for("tokens.user_tokens", user_id=user.id))
