"""The reason for opening an OFFICIAL-SENSITIVE entry (pcso/audit_viewer/reasons.py): the question's answer.

entries.detail asks the question; this records the view with the answer and goes back to the entry.
"""
from __future__ import annotations

from flask import Blueprint, abort, redirect, url_for
from flask_login import current_user

from .. import audit
from ..access import READERS, require
from ..entries.queries import get_visible_entry
from ..entries.services import record_links_shown, record_view
from ..extensions import db
from .reasons import ReasonForm, applies, question_for, reason_details, remember, render_question

bp = Blueprint("access_reasons", __name__)


@bp.app_context_processor
def reason_question():
    """templates/entries/detail.html asks `reason_question(entry)` for the folded form (or None)."""
    return {"reason_question": lambda entry: question_for(entry, current_user)}


@bp.post("/entries/<int:entry_id>/reason")
@require(*READERS)
def give(entry_id: int):
    entry = get_visible_entry(current_user, entry_id) or abort(404)
    if not applies(entry, current_user):
        return redirect(url_for("entries.detail", entry_id=entry.id))
    form = ReasonForm()
    if not form.validate_on_submit():
        return render_question(entry, form, 400)
    details = reason_details(form)
    record_view(entry, actor=current_user, **details)
    record_links_shown(entry, actor=current_user)  # what the page it redirects to shows (entries.detail)
    event = audit.write_consultations()  # now, not at commit: the reloads' views name it (reason_event)
    db.session.commit()
    event_id = event.id if event is not None else None
    remember(entry, details["reason"], event_id)
    return redirect(url_for("entries.detail", entry_id=entry.id))
