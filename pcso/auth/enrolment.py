"""Setting up the second factor, the one way for both pages that do it: while signing in (auth.enrol, when the
role requires a code and none is set up yet) and from one's own account (security.enrol). What differs is
theirs: where a confirmed code leads, and whether a wrong one counts towards the lockout."""
from __future__ import annotations

from flask import render_template

from ..extensions import db
from ..models import User
from . import totp
from .forms import CodeForm


def take_code(user: User) -> tuple[CodeForm, str, bool | None]:
    """The secret being set up (kept, and committed, on the first GET) and the form with the code typed:
    (form, secret, confirmed), confirmed None when no code was sent (or it is not six digits), else whether the
    code proved the app holds the secret (True: enrolled, audited; the caller commits)."""
    secret = totp.pending_secret(user)
    db.session.commit()
    form = CodeForm()
    if not form.validate_on_submit():
        return form, secret, None
    return form, secret, totp.confirm_enrolment(user, form.code.data, actor=user)


def page(user: User, form: CodeForm, secret: str, *, signing_in: bool):
    """The QR code and the grouped secret to type, with the code's form (400 when it has errors)."""
    return render_template("auth/enrol.html", form=form, secret=totp.grouped(secret), signing_in=signing_in,
                           qr=totp.qr_svg(totp.provisioning_uri(user, secret))), 400 if form.errors else 200
