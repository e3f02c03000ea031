"""Rendering the case review pages, with the consultation each records (pcso/audit.py).

A page names the victims (person) and the incidents (entry) it shows; the case review's own id is in the
event's details ("case_review" or "case_reviews"), as the audit viewer knows only entries and POLE records.
"""
from __future__ import annotations

from flask import render_template
from flask_login import current_user

from .. import audit
from ..access import can_decide_case_review, can_start_case_review
from ..beats.services import all_beats
from ..dashboard.victims import case_review_victims, victim_rows
from ..models import CaseReview, CaseReviewState, Person, Role
from ..timeutil import london_today
from .forms import (
    AppealDecisionForm, AppealForm, ApplicationForm, InformedForm, RecommendationForm, ReviewForm, ThresholdForm,
)
from .queries import assess, people_by_id, timeline, victim_incidents, visible_incidents
from .rules import current_rules, rules_for_beat_id

S = CaseReviewState
STEP_FORMS = {"threshold": ThresholdForm, "informed": InformedForm, "review": ReviewForm, "appeal": AppealForm,
              "appeal_decision": AppealDecisionForm}


def startable_beats(user) -> list:
    return [b for b in all_beats() if can_start_case_review(user, b.id)]


def render_index(form, reviews: list[CaseReview], today, status: int = 200):
    audit.consulted([r.victim for r in reviews], actor=current_user, object_type="person",
                    case_reviews=[r.id for r in reviews][:audit.MAX_IDS], screen="case-reviews")
    return render_template("case_reviews/index.html", form=form, reviews=reviews, today=today), status


def render_new(person: Person | None, form: ApplicationForm | None = None, status: int = 200):
    today = london_today()
    if person is None:  # choose a victim: those who may ask for a review, on the user's beats
        beats = None if current_user.role != Role.PCSO else set(current_user.beat_ids)
        found = case_review_victims(current_user, victim_rows(current_user, beats, today), today)
        people = people_by_id([v.person_id for v in found[:50]])
        victims = [(people[v.person_id], len(v.incidents)) for v in found[:50]]
        audit.consulted([p for p, _ in victims], actor=current_user, object_type="person", screen="case-review-victims")
        return render_template("case_reviews/choose.html", victims=victims), status
    incidents = victim_incidents(current_user, person.id)
    beats = startable_beats(current_user)
    if form is None:
        latest_beat = next((i.beat_id for i in incidents if i.beat_id in {b.id for b in beats}), None)
        form = ApplicationForm(victim_id=person.id, received_on=today, beat_id=str(latest_beat or ""),
                               beats=beats, incidents=incidents,
                               incident_ids=[str(i.id) for i in incidents])
    area = rules_for_beat_id(int(form.beat_id.data) if str(form.beat_id.data or "").isdigit() else None)
    checked = {a.incident.id: a for a in assess(incidents, form.received_on.data or today, area)}
    audit.consulted([person, *incidents], actor=current_user, screen="case-review-application")
    return render_template("case_reviews/new.html", person=person, form=form, incidents=incidents,
                           checked=checked, area=area), status


def render_detail(review: CaseReview, *, status: int = 200, forms: dict | None = None):
    forms = forms or {}
    today = london_today()
    may_decide = can_decide_case_review(current_user, review)
    shown = {name: forms.get(name) or cls(prefix=name) for name, cls in STEP_FORMS.items()} if may_decide else {}
    if may_decide:
        shown["informed"].stage.data = shown["informed"].stage.data or (
            "outcome" if review.state == S.REVIEWED else "threshold")
        shown["informed"].informed_on.data = shown["informed"].informed_on.data or today
    entries = _entries(review)
    audit.consulted([review.victim], actor=current_user, case_review=review.id)
    audit.consulted([e for e in entries.values() if e is not None], actor=current_user, object_type="entry")
    return render_template("case_reviews/detail.html", review=review, today=today, may_decide=may_decide,
                           forms=shown, entries=entries, recommendation_form=RecommendationForm(),
                           timeline=timeline(review, today),
                           area=rules_for_beat_id(review.beat_id), rules=current_rules(), S=S), status


def _entries(review: CaseReview) -> dict:
    """The counted incidents the user may still see (one since hidden from them shows as withheld)."""
    seen = visible_incidents(current_user, [link.entry_id for link in review.incidents])
    return {link.entry_id: seen.get(link.entry_id) for link in review.incidents}
