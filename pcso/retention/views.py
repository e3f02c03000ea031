"""The records manager's pages (the admin role): the MoPI review queue and the decision on one record.

A decision to dispose asks to be confirmed first; once recorded it is carried out by
`flask retention run --apply`. The pages show metadata only (pcso/retention/services.py says why).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import require
from ..database import writes_on_read
from ..extensions import db
from ..models import RetentionDecisionType, Role
from .dates import current_rules
from .forms import DecisionForm, QueueFilterForm
from .services import (
    SLUGS, TYPE_LABELS, TYPE_OF_SLUG, DecisionRefused, check_decision, decisions_for, due_page, get_record,
    record_decision, record_decision_view, record_facts, rule_of, record_queue_view,
)

bp = Blueprint("retention", __name__, url_prefix="/retention")
RECORD_SLUGS = ",".join(f"'{slug}'" for slug in SLUGS.values())


@bp.get("")
@require(Role.ADMIN)
@writes_on_read
def queue():
    form = QueueFilterForm(request.args)
    if not form.validate():
        abort(400, "Choose a kind of record and a group from the lists")
    kind, group = form.kind.data or None, form.group.data or None
    try:
        items, after = due_page(kind=kind, group=group, after=request.args.get("after"))
    except DecisionRefused as error:
        abort(400, error.message)
    record_queue_view(items, actor=current_user, kind=kind, group=group)
    db.session.commit()
    return render_template("retention/queue.html", form=form, items=items, after=after, rules=current_rules(),
                           kind=kind, group=group, first_page=not request.args.get("after"))


def _render(template: str, record_type: str, record, form, status: int = 200):
    rule = rule_of(record_type, record)
    return render_template(template, record_type=record_type, type_label=TYPE_LABELS[record_type], record=record,
                           slug=SLUGS[record_type], form=form, rule=rule, rules=current_rules(),
                           facts=record_facts(record_type, record), decisions=decisions_for(record_type, record.id)
                           ), status


@bp.route(f"/<any({RECORD_SLUGS}):slug>/<int:record_id>", methods=["GET", "POST"])
@require(Role.ADMIN)
@writes_on_read
def decide(slug: str, record_id: int):
    record_type = TYPE_OF_SLUG[slug]
    record = get_record(record_type, record_id) or abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        record_decision_view(record_type, record, actor=current_user)
        db.session.commit()
        return _render("retention/decide.html", record_type, record, form, 400 if form.is_submitted() else 200)
    values = dict(decision=RetentionDecisionType(form.decision.data), rationale=form.rationale.data,
                  next_review=form.next_review.data, safeguarding_note=form.safeguarding_note.data)
    try:
        check_decision(record_type, record, **values)
        if values["decision"] == RetentionDecisionType.DISPOSE and request.form.get("confirm") != "yes":
            changing = "confirm" in request.form  # "Change the decision" on the confirm page
            return _render("retention/decide.html" if changing else "retention/confirm.html", record_type, record, form)
        record_decision(record_type, record, **values, actor=current_user)
    except DecisionRefused as error:
        db.session.rollback()
        getattr(form, error.field).errors = [error.message]
        return _render("retention/decide.html", record_type, record, form, 400)
    db.session.commit()
    flash(f"{TYPE_LABELS[record_type]} {record_id}: decision recorded ({values['decision'].label.lower()}).", "success")
    return redirect(url_for("retention.queue"))
