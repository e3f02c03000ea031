"""The second factor: time-based one-time codes (TOTP, RFC 6238) from an authenticator app.

Required for the roles in TOTP_REQUIRED_ROLES, optional for the others. The secret is stored encrypted
(Fernet, keyed by TOTP_KEY or a key derived from SECRET_KEY) and never logged or put in a URL; it is shown
once, to its owner, as a QR code (inline SVG made here by segno: no external service) and as text.
A code works once: the time step it matched is kept, and a code of that step or an earlier one is refused.
"""
from __future__ import annotations

import base64
import re

import pyotp
from pyotp.exceptions import OTPVerificationError
import segno
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from markupsafe import Markup

from .. import audit
from ..extensions import db
from ..models import AuditAction, User
from ..timeutil import utcnow

VALID_WINDOW = 1  # one 30-second step either side: a phone clock a little out, a code typed as it turns
CODE = re.compile(r"^\d{6}$")


def _fernet() -> Fernet:
    if key := current_app.config.get("TOTP_KEY"):
        return Fernet(key)
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"beatbook totp secrets").derive(
        current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def required_for(user: User) -> bool:
    return user.role.value in current_app.config["TOTP_REQUIRED_ROLES"]


def is_enrolled(user: User) -> bool:
    return user.totp_enabled_at is not None and user.totp_secret is not None


def secret_of(user: User) -> str | None:
    if not user.totp_secret:
        return None
    try:
        return _fernet().decrypt(user.totp_secret.encode()).decode()
    except InvalidToken:  # the key changed (SECRET_KEY rotated without TOTP_KEY): the user must enrol again
        return None


def set_secret(user: User, secret: str, *, confirmed: bool) -> None:
    user.totp_secret = _fernet().encrypt(secret.encode()).decode()
    user.totp_enabled_at = utcnow() if confirmed else None
    user.totp_last_step = None


def pending_secret(user: User) -> str:
    """The secret being enrolled: made once and kept (encrypted, unconfirmed), so a reload shows the same QR."""
    secret = None if is_enrolled(user) else secret_of(user)
    if secret is None:
        secret = pyotp.random_base32()  # 160 bits
        set_secret(user, secret, confirmed=False)
    return secret


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.collar_number,
                                               issuer_name=current_app.config["TOTP_ISSUER"])


def qr_svg(uri: str) -> Markup:
    """The QR code as inline SVG (no script, no style attribute: the CSP allows it)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=4, title="QR code for your authenticator app",
                                                svgclass="qr-code", lineclass=None)
    # segno writes the SVG from the code's modules (the URI is encoded as black and white squares, never as text).
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QR code for your authenticator app" ', 1))  # nosec B704


def grouped(secret: str) -> str:
    """The secret as people type it: groups of four."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _matching_step(secret: str, code: str) -> int | None:
    code = re.sub(r"\s", "", code or "")
    if not CODE.match(code):
        return None
    try:
        return pyotp.TOTP(secret).verify_and_get_timecode(code, valid_window=VALID_WINDOW)
    except OTPVerificationError:
        return None


def use_code(user: User, code: str, *, secret: str | None = None) -> bool:
    """Whether `code` is a current code of the user's secret not used before; a good one is used up."""
    secret = secret or secret_of(user)
    step = _matching_step(secret, code) if secret else None
    if step is None:
        return False
    used = db.session.execute(
        sa.update(User).where(User.id == user.id,
                              sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    if used.rowcount != 1:
        return False  # a replay: this step (or a later one) has already signed in
    user.totp_last_step = step
    return True


def confirm_enrolment(user: User, code: str, *, actor: User) -> bool:
    """Switch the pending secret on once the app shows a right code for it."""
    secret = secret_of(user)
    if secret is None or is_enrolled(user) or not use_code(user, code, secret=secret):
        return False
    user.totp_enabled_at = utcnow()
    audit.record(AuditAction.UPDATE, user, actor=actor, fields=["second_factor"], change="enrolled")
    return True


def reset(user: User, *, actor: User) -> None:
    """An admin's recovery for a lost phone: the secret goes; the next sign-in enrols again."""
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    audit.record(AuditAction.UPDATE, user, actor=actor, fields=["second_factor"], change="reset")
