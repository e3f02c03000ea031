"""Photos: the image and its thumbnail (only through here, for those who may open the entry; each view
audited), removing one from a draft, and using or dismissing the time and place it offers."""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, url_for
from flask_login import current_user

from ..access import LOGGERS, READERS, can_edit_entry, can_remove_photo, require
from ..audit_viewer.reasons import for_photo as photo_reason, render_question
from ..database import writes_on_read
from ..extensions import db
from .services import PhotoRejected, dismiss_offer, open_photo, remove_photo, use_offer, visible_photo

bp = Blueprint("photos", __name__)


def _image_response(photo, data: bytes, suffix: str = ""):
    response = make_response((data, 200, {"Content-Type": photo.content_type}))
    response.headers["Content-Disposition"] = f'inline; filename="photo-{photo.id}{suffix}.jpg"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Nothing but the image: no script, ever (sandbox). The browser's own image viewer styles itself inline.
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    return response


def _shown(photo_id: int, *, thumbnail: bool):
    """The photo of an entry one may open (else 404). OFFICIAL-SENSITIVE: the reason this login session gave
    for the entry goes with the view; ACCESS_REASON=required and none given: the question, 403."""
    found = visible_photo(current_user, photo_id) or abort(404)
    reason = photo_reason(found.entry, current_user)
    if reason is None:
        return render_question(found.entry, status=403)
    shown = open_photo(current_user, found, thumbnail=thumbnail, **reason) or abort(404)
    db.session.commit()
    return _image_response(*shown, suffix="-small" if thumbnail else "")


@bp.get("/photos/<int:photo_id>")
@require(*READERS)
@writes_on_read
def photo(photo_id: int):
    return _shown(photo_id, thumbnail=False)


@bp.get("/photos/<int:photo_id>/thumbnail")
@require(*READERS)
@writes_on_read
def thumbnail(photo_id: int):
    return _shown(photo_id, thumbnail=True)


def _checked(photo_id: int, allowed) -> object:
    """The photo, if visible (else 404) and `allowed(user, entry)` (else 403). CSRFProtect checks the POST."""
    found = visible_photo(current_user, photo_id) or abort(404)
    if not allowed(current_user, found.entry):
        abort(403)
    return found


@bp.post("/photos/<int:photo_id>/remove")
@require(*LOGGERS)
def remove(photo_id: int):
    found = _checked(photo_id, can_remove_photo)
    entry_id = found.entry_id
    remove_photo(found, actor=current_user)
    db.session.commit()
    flash("Photo removed.", "success")
    return redirect(url_for("entries.detail", entry_id=entry_id))


@bp.post("/photos/<int:photo_id>/use-offer")
@require(*LOGGERS)
def accept_offer(photo_id: int):
    found = _checked(photo_id, can_edit_entry)
    try:
        use_offer(found, actor=current_user)
    except PhotoRejected as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash("The entry now has the photo's time and place.", "success")
    return redirect(url_for("entries.detail", entry_id=found.entry_id))


@bp.post("/photos/<int:photo_id>/dismiss-offer")
@require(*LOGGERS)
def reject_offer(photo_id: int):
    found = _checked(photo_id, can_edit_entry)
    dismiss_offer(found, actor=current_user)
    db.session.commit()
    return redirect(url_for("entries.detail", entry_id=found.entry_id))
