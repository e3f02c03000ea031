"""Entry pages: choose what to log, the form for each kind, the entry's page, edit, submit, end a patrol.
Each view: parse the form, authorise, call one service, commit once (pcso/entries/pages.py does the rest)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import audit
from ..access import LOGGERS, READERS, can_edit_entry, can_propose_amendment, require
from ..audit_viewer.reasons import decide as decide_reason, render_question
from ..beats.services import all_beats
from ..database import writes_on_read
from ..extensions import db
from ..models import EntryKind, EntryStatus, Patrol
from ..timeutil import from_london
from ..web import positive_int, same_origin_get
from .errors import EntryNotFound, EntryRejected
from .forms import EndPatrolForm
from ..photos.services import PhotoRejected
from ..review.amendments import AmendmentRejected, form_pairs, propose_amendment
from ..review.forms import AmendmentReasonForm
from .held import discard_held, held_for, record_held_view, unresolved_held
from .pages import (
    added_row, attach_photos, form_input, form_photos, is_submit, make_form, raise_from, reject, reject_photos,
    render_detail, render_form, render_held,
)
from .queries import get_visible_entry, my_entries
from .registry import KINDS
from .services import (
    end_patrol, log_entry, open_patrol, record_my_entries_search, record_shown, record_view, submit_entry,
    update_entry,
)

bp = Blueprint("entries", __name__)
SLUGS = ",".join(f"'{spec.slug}'" for spec in KINDS.values())


@bp.get("/entries")
@require(*LOGGERS)
@writes_on_read
@same_origin_get(with_query_only=True)
def index():
    kind = EntryKind.from_slug(request.args.get("kind", ""))
    beat_id = request.args.get("beat", type=positive_int)
    status = EntryStatus(request.args["status"]) if request.args.get("status") in set(EntryStatus) else None
    page = my_entries(current_user, kind=kind, beat_id=beat_id, status=status,
                      page=request.args.get("page", 1, type=positive_int))
    held = unresolved_held(current_user)
    record_shown(page.items, actor=current_user, object_type="entry")
    record_shown(held, actor=current_user, object_type="held_submission")
    if kind or beat_id or status:
        record_my_entries_search(current_user, kind=kind, beat_id=beat_id, status=status, results=page.total)
        db.session.commit()
    return render_template("entries/index.html", page=page, kind=kind, beat_id=beat_id, status=status,
                           kinds=list(KINDS), beats=all_beats(), held=held)


@bp.get("/entries/new")
@require(*LOGGERS)
def choose():
    patrol = open_patrol(current_user)
    record_shown(patrol, actor=current_user, object_type="entry")
    return render_template("entries/choose.html", kinds=list(KINDS.values()), patrol=patrol)


@bp.route(f"/<any({SLUGS}):slug>/new", methods=["GET", "POST"])
@require(*LOGGERS)
def new(slug: str):
    kind = EntryKind.from_slug(slug)
    form = make_form(kind)
    raise_from(form, prefill=True)
    added = added_row(form)
    if not added and form.validate_on_submit():
        try:
            photos = form_photos(form)
            entry, created = log_entry(form_input(kind, form), actor=current_user, submit=is_submit())
            attach_photos(entry, photos if created else [])
        except EntryRejected as error:
            reject(form, error)
        except PhotoRejected as error:
            reject_photos(form, error)
        except EntryNotFound:
            abort(404)
        else:
            target = url_for("entries.detail", entry_id=entry.id)  # before the commit expires the entry
            db.session.commit()
            flash(f"{kind.label} saved." if created else "This was already saved: here it is.", "success")
            return redirect(target)
    status = 400 if request.method == "POST" and not added else 200
    return render_form(form, kind, patrol=open_patrol(current_user), status=status)


@bp.get("/entries/held/<int:held_id>")
@require(*LOGGERS)
@writes_on_read
def held(held_id: int):
    """A sealed entry from the phone the server could not accept: its author fixes it here (others: 404)."""
    found = held_for(current_user, held_id) or abort(404)
    record_held_view(found, actor=current_user)
    page = render_held(found, patrol=open_patrol(current_user))
    db.session.commit()  # after rendering: everything the page showed is in the one view event
    return page


@bp.post("/entries/held/<int:held_id>/discard")
@require(*LOGGERS)
def discard_held_entry(held_id: int):
    found = held_for(current_user, held_id) or abort(404)
    discard_held(found, actor=current_user)
    db.session.commit()
    flash("The entry from your phone was discarded.", "info")
    return redirect(url_for("entries.index"))


@bp.get("/entries/<int:entry_id>")
@require(*READERS)
@writes_on_read
def detail(entry_id: int):
    entry = get_visible_entry(current_user, entry_id) or abort(404)
    reason = decide_reason(entry, current_user)  # OFFICIAL-SENSITIVE: why are you opening it? (ACCESS_REASON)
    if reason.ask:
        return render_question(entry)
    if reason.record:
        record_view(entry, actor=current_user, **reason.details)
    page = render_detail(entry)
    if not reason.record:
        audit.forget_consultations()  # the reason's POST wrote this page's view, with the reason and note
    db.session.commit()  # after rendering: everything the page showed is in the one view event
    return page


def _editable(entry_id: int):
    entry = get_visible_entry(current_user, entry_id) or abort(404)
    if not can_edit_entry(current_user, entry):
        abort(403)
    return entry


@bp.route("/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@require(*LOGGERS)
def edit(entry_id: int):
    entry = _editable(entry_id)
    form = make_form(entry.kind, obj=entry)
    raise_from(form, prefill=False)
    added = added_row(form)
    if request.method == "POST" and not added and form.validate_on_submit():
        try:
            photos = form_photos(form, entry)
            update_entry(entry, form_input(entry.kind, form), actor=current_user, submit=is_submit())
            attach_photos(entry, photos)
        except EntryRejected as error:
            reject(form, error)
        except PhotoRejected as error:
            reject_photos(form, error)
        except EntryNotFound:
            abort(404)
        else:
            db.session.commit()
            flash("Submitted for review." if is_submit() else "Changes saved.", "success")
            return redirect(url_for("entries.detail", entry_id=entry.id))
    status = 400 if request.method == "POST" and not added else 200
    return render_form(form, entry.kind, entry=entry, status=status)


@bp.route("/entries/<int:entry_id>/amend", methods=["GET", "POST"])
@require(*LOGGERS)
def amend(entry_id: int):
    """An approved entry's author proposes an amendment: the edit form and a reason; a supervisor decides."""
    entry = get_visible_entry(current_user, entry_id) or abort(404)
    if not can_propose_amendment(current_user, entry):
        abort(409 if entry.pending_amendment is not None and entry.author_id == current_user.id else 403)
    form, why = make_form(entry.kind, obj=entry), AmendmentReasonForm()
    raise_from(form, prefill=False)
    added = added_row(form)
    if request.method == "POST" and not added and all([form.validate_on_submit(), why.validate()]):
        try:
            propose_amendment(entry, form_input(entry.kind, form), pairs=form_pairs(request.form),
                              reason=why.amendment_reason.data, actor=current_user)
        except EntryRejected as error:
            reject(form, error)
        except AmendmentRejected as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        except EntryNotFound:
            abort(404)
        else:
            db.session.commit()
            flash("Amendment proposed. A supervisor approves it before the entry changes.", "success")
            return redirect(url_for("entries.detail", entry_id=entry.id))
    return render_form(form, entry.kind, entry=entry, status=400 if request.method == "POST" and not added else 200,
                       action=url_for("entries.amend", entry_id=entry.id), amendment_form=why)


@bp.post("/entries/<int:entry_id>/submit")
@require(*LOGGERS)
def submit(entry_id: int):
    entry = _editable(entry_id)
    try:
        submit_entry(entry, actor=current_user)
    except EntryRejected as error:
        db.session.rollback()
        flash(error.message, "error")
        return render_detail(entry, end_form=EndPatrolForm(), status=409)
    db.session.commit()
    flash(f"{entry.kind.label} submitted for review.", "success")
    return redirect(url_for("entries.detail", entry_id=entry_id))


@bp.post("/patrols/<int:patrol_id>/end")
@require(*LOGGERS)
def end(patrol_id: int):
    patrol = _editable(patrol_id)
    if not isinstance(patrol, Patrol):
        abort(404)
    form = EndPatrolForm()
    if form.validate_on_submit():
        try:
            end_patrol(patrol, from_london(form.ended_at.data), form.notes.data, actor=current_user)
            if is_submit():
                submit_entry(patrol, actor=current_user)
        except EntryRejected as error:
            reject(form, error)
        else:
            db.session.commit()
            flash("Patrol ended and submitted for review." if is_submit()
                  else "Patrol ended. Submit it when your notes are complete.", "success")
            return redirect(url_for("entries.detail", entry_id=patrol_id))
    return render_detail(patrol, end_form=form, status=400)
