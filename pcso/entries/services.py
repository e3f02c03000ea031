"""Writing entries: log, update, submit, end a patrol. Services flush and audit; views commit."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..access import can_view_source
from ..beats.services import locate_beat
from ..extensions import db
from ..models import (
    AsbIncident, AsbType, AuditAction, Beat, Entry, EntryKind, EntryRevision, EntryStatus, HandlingCode,
    IntelAssessment, IntelligenceReport, LinkRole, LocationSource, NsirCategory, Patrol, PatrolMode, RiskLevel,
    School, SchoolVisit, SchoolVisitType, SecurityMarking, SourceEvaluation, User, WelfareCheck, WelfareVisitType,
)
from ..pole.services import RecordNotFound, link, person_for, vehicle_for
from ..search.services import index_entry  # same transaction: the entry and its search text commit together
from ..timeutil import utcnow
from .forms import EntryForm
from .location import ResolvedLocation

MODEL_FOR = {
    EntryKind.PATROL: Patrol,
    EntryKind.ASB_INCIDENT: AsbIncident,
    EntryKind.SCHOOL_VISIT: SchoolVisit,
    EntryKind.WELFARE_CHECK: WelfareCheck,
    EntryKind.INTELLIGENCE_REPORT: IntelligenceReport,
}
NOT_TRACKED = {"id", "kind", "author_id", "client_key", "recorded_at", "updated_at"}


class EntryRejected(ValueError):
    """The form was valid but the entry can't be placed (e.g. no beat): a message for the form."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def open_patrol(user: User) -> Patrol | None:
    return db.session.scalar(
        sa.select(Patrol).where(Patrol.author_id == user.id, Patrol.ended_at.is_(None))
        .order_by(Patrol.started_at.desc()).limit(1)
    )


def find_by_client_key(user: User, client_key: str) -> Entry | None:
    return db.session.scalar(sa.select(Entry).where(Entry.author_id == user.id, Entry.client_key == client_key))


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def snapshot(entry: Entry) -> dict[str, Any]:
    """Every tracked field's value, as JSON, for revision diffs."""
    data = {
        attr.key: _jsonable(getattr(entry, attr.key))
        for attr in sa.inspect(type(entry)).column_attrs
        if attr.key not in NOT_TRACKED
    }
    data["links"] = [
        [type(link.target).__tablename__, link.target.id, link.role.value, link.note]
        for link in entry.links if link.target is not None
    ]
    return data


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list]:
    return {key: [before.get(key), value] for key, value in after.items() if before.get(key) != value}


def _place(entry: Entry, form: EntryForm) -> None:
    """Location and beat: the beat comes from the point unless the officer chose one."""
    place = form.resolved
    if place.lat is None and isinstance(entry, SchoolVisit):
        school = db.session.get(School, entry.school_id)
        if school is not None and school.lat is not None:
            place = ResolvedLocation(school.lat, school.lon, None, LocationSource.SCHOOL.value)
    entry.lat, entry.lon, entry.accuracy_m = place.lat, place.lon, place.accuracy_m
    entry.location_source = LocationSource(place.source)
    located = locate_beat(place.lat, place.lon) if place.lat is not None else None
    chosen = db.session.get(Beat, int(form.beat_id.data)) if form.beat_id.data else None
    if chosen is None and located is None:
        if place.lat is None:
            raise EntryRejected("beat_id", "Give a location, or choose the beat by hand")
        raise EntryRejected("beat_id", "This location is outside every beat: choose the beat by hand")
    entry.located_beat_id = located.id if located else None
    entry.beat_id = (chosen or located).id
    entry.is_beat_overridden = chosen is not None and (located is None or chosen.id != located.id)
    entry.location_text = form.location_text.data or (place.postcode if place.postcode else None)


def _int(value) -> int | None:
    try:
        return int(value) if value else None
    except (TypeError, ValueError):
        return None


def _picked(find, field: str):
    try:
        return find()
    except RecordNotFound:
        raise EntryRejected(field, "That record is no longer available: type the name again") from None


def _link_people_and_vehicles(entry: Entry, form: EntryForm, actor: User) -> None:
    """Replace the entry's people and vehicle links with the form's rows (ASB, intelligence); places stay."""
    # Resolve every record before the old links go: a picked person is visible through them.
    people = [(row, _picked(lambda row=row: person_for(
        user=actor, person_id=_int(row.person_id.data), full_name=row.name.data,
        born_on=row.born_on.data, description=row.description.data), "people"))
        for row in (r.form for r in form.people if r.form.name.data)]
    vehicles = [vehicle_for(vrm=row.vrm.data, make=row.make.data, model=row.model.data, colour=row.colour.data)
                for row in (r.form for r in form.vehicles if r.form.vrm.data)]
    entry.links = [item for item in entry.links if item.person is None and item.vehicle is None]
    for i, (row, person) in enumerate(people):
        link(entry, person, LinkRole(row.role.data), note=row.description.data, position=i)
    for i, vehicle in enumerate(vehicles):
        link(entry, vehicle, LinkRole.MENTIONED, position=100 + i)


def _raised_from(report: IntelligenceReport, source: Entry, *, actor: User) -> None:
    """A report newly raised from an entry: it links the entry's places too (people and vehicles come
    through the form), and a welfare check gets its "intelligence report raised" ticked."""
    for item in source.links:
        if (item.location or item.organisation) is not None and all(
                (mine.location or mine.organisation) is not item.target for mine in report.links):
            link(report, item.target, item.role, note=item.note, position=200 + len(report.links))
    if isinstance(source, WelfareCheck):
        _mark_intelligence_raised(source, actor=actor)


def _mark_intelligence_raised(check: WelfareCheck, *, actor: User) -> None:
    """Tick the check's "intelligence report raised", with a revision (once)."""
    if check.is_intelligence_raised:
        return
    before = snapshot(check)
    check.is_intelligence_raised = True
    check.updated_at = utcnow()
    db.session.add(EntryRevision(entry_id=check.id, actor_id=actor.id, action="updated",
                                 changes=_diff(before, snapshot(check))))
    audit.record(AuditAction.UPDATE, check, actor=actor, object_type="entry", fields=["is_intelligence_raised"])


def _kind_fields(entry: Entry, form: EntryForm, actor: User) -> None:
    if isinstance(entry, Patrol):
        entry.started_at = form.occurred_at_utc
        entry.mode = PatrolMode(form.mode.data)
        entry.purpose = form.purpose.data.strip()
        entry.notes = form.notes.data or None
        entry.summary = (form.summary.data or "").strip() or f"{entry.mode.title()} patrol: {entry.purpose}"[:200]
    elif isinstance(entry, AsbIncident):
        entry.nsir_category = NsirCategory(form.nsir_category.data)
        entry.asb_type = AsbType(form.asb_type.data)
        entry.description = form.description.data
        entry.action_taken = form.action_taken.data or None
        entry.control_room_ref = (form.control_room_ref.data or "").strip().upper() or None
        entry.victim_risk = RiskLevel(form.victim_risk.data) if form.victim_risk.data else None
        _link_people_and_vehicles(entry, form, actor)
    elif isinstance(entry, SchoolVisit):
        entry.school_id = int(form.school_id.data)
        entry.visit_type = SchoolVisitType(form.visit_type.data)
        entry.topic = form.topic.data.strip()
        entry.year_groups = ", ".join(form.year_groups.data) or None
        entry.audience_size = form.audience_size.data
        entry.follow_ups = form.follow_ups.data or None
    elif isinstance(entry, WelfareCheck):
        child = _picked(lambda: person_for(user=actor, person_id=_int(form.child_id.data),
                                           full_name=form.child_name.data, born_on=form.child_born_on.data),
                        "child_name")
        entry.links = [link for link in entry.links if link.role != LinkRole.SUBJECT]
        link(entry, child, LinkRole.SUBJECT)
        entry.spoc_id = int(form.spoc_id.data)
        entry.visit_type = WelfareVisitType(form.visit_type.data)
        entry.is_seen_alone = form.is_seen_alone.data == "yes"
        entry.others_present = form.others_present.data or None
        entry.child_words = form.child_words.data or None
        entry.observations = form.observations.data or None
        entry.indicators = list(form.indicators.data)
        entry.risk_level = RiskLevel(form.risk_level.data)
        entry.is_intelligence_raised = form.is_intelligence_raised.data
        entry.is_mash_referral = form.is_mash_referral.data
        entry.mash_reference = (form.mash_reference.data or "").strip() or None
        entry.is_partner_informed = form.is_partner_informed.data
        entry.next_visit_on = form.next_visit_on.data
    elif isinstance(entry, IntelligenceReport):
        entry.source_evaluation = SourceEvaluation(form.source_evaluation.data)
        entry.assessment = IntelAssessment(form.assessment.data)
        entry.handling_code = HandlingCode(form.handling_code.data)
        conditions = (form.handling_conditions.data or "").strip() or None
        entry.handling_conditions = conditions if entry.handling_code == HandlingCode.CONDITIONS else None
        entry.sanitised_text = form.sanitised_text.data
        entry.source_details = (form.source_details.data or "").strip() or None
        _link_people_and_vehicles(entry, form, actor)
        source = form.raised_from  # checked visible to the actor by the view
        if source is not None and entry.raised_from_id != source.id:
            _raised_from(entry, source, actor=actor)
        entry.raised_from_id = source.id if source is not None else None


def _apply_form(entry: Entry, form: EntryForm, actor: User) -> None:
    entry.occurred_at = form.occurred_at_utc
    entry.summary = (form.summary.data or "").strip()
    _kind_fields(entry, form, actor)
    _place(entry, form)
    entry.marking = _marking(entry, form)


def _marking(entry: Entry, form: EntryForm) -> SecurityMarking:
    """OFFICIAL unless chosen higher; welfare checks always, and intelligence by default, OFFICIAL-SENSITIVE."""
    if isinstance(entry, WelfareCheck):
        return SecurityMarking.OFFICIAL_SENSITIVE  # always, whatever was posted
    if isinstance(entry, IntelligenceReport):
        # Lowered to OFFICIAL only for sanitised intelligence shared without conditions, and never when
        # it came from a welfare check: it names the child, who must stay need-to-know.
        if (form.marking.data == SecurityMarking.OFFICIAL and entry.handling_code == HandlingCode.PERMITTED
                and not isinstance(form.raised_from, WelfareCheck)):
            return SecurityMarking.OFFICIAL
        return SecurityMarking.OFFICIAL_SENSITIVE
    return SecurityMarking(form.marking.data or SecurityMarking.OFFICIAL)


def log_entry(kind: EntryKind, form: EntryForm, *, actor: User, submit: bool = False) -> tuple[Entry, bool]:
    """Create an entry from a valid form. Returns (entry, created).

    A retried submission (same author and client key) returns the entry made the first
    time, created=False, whether the retry comes after or races with the first.
    """
    existing = find_by_client_key(actor, form.client_key.data)
    if existing is not None:
        return existing, False
    entry = MODEL_FOR[kind](author_id=actor.id, client_key=form.client_key.data, status=EntryStatus.DRAFT)
    _apply_form(entry, form, actor)
    if kind != EntryKind.PATROL:
        patrol = open_patrol(actor)
        if patrol is not None and patrol.started_at <= entry.occurred_at:
            entry.patrol_id = patrol.id
    else:
        # Serialise patrol starts per officer (PostgreSQL row lock; SQLite's BEGIN IMMEDIATE already does).
        db.session.execute(sa.select(User.id).where(User.id == actor.id).with_for_update())
        if open_patrol(actor) is not None:
            raise EntryRejected("mode", "You already have a patrol running: end it before starting another")
    if submit:
        entry.status, entry.submitted_at = EntryStatus.SUBMITTED, utcnow()
    try:
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
    except IntegrityError:
        existing = find_by_client_key(actor, form.client_key.data)
        if existing is None:
            raise
        return existing, False
    db.session.add(EntryRevision(entry_id=entry.id, actor_id=actor.id, action="created",
                                 changes=_diff({}, snapshot(entry))))
    audit.record(AuditAction.CREATE, entry, actor=actor, object_type="entry", kind=kind.value,
                 status=entry.status.value)
    index_entry(entry)
    return entry, True


def _submit_action(entry: Entry) -> str:
    """'resubmitted' after a return for correction, so the history reads as what happened."""
    return "resubmitted" if entry.status == EntryStatus.RETURNED else "submitted"


def update_entry(entry: Entry, form: EntryForm, *, actor: User, submit: bool = False) -> Entry:
    before = snapshot(entry)
    action = _submit_action(entry) if submit else "updated"
    _apply_form(entry, form, actor)
    if submit:
        entry.status, entry.submitted_at = EntryStatus.SUBMITTED, utcnow()
    entry.updated_at = utcnow()
    db.session.flush()
    changes = _diff(before, snapshot(entry))
    if changes:
        db.session.add(EntryRevision(entry_id=entry.id, actor_id=actor.id, action=action, changes=changes))
        audit.record(AuditAction.UPDATE, entry, actor=actor, object_type="entry", fields=sorted(changes))
    index_entry(entry)
    return entry


def submit_entry(entry: Entry, *, actor: User) -> Entry:
    if isinstance(entry, Patrol) and entry.is_open:
        raise EntryRejected("status", "End the patrol before submitting it")
    before = snapshot(entry)
    action = _submit_action(entry)
    entry.status, entry.submitted_at, entry.updated_at = EntryStatus.SUBMITTED, utcnow(), utcnow()
    db.session.flush()
    db.session.add(EntryRevision(entry_id=entry.id, actor_id=actor.id, action=action,
                                 changes=_diff(before, snapshot(entry))))
    audit.record(AuditAction.UPDATE, entry, actor=actor, object_type="entry", fields=["status"])
    index_entry(entry)
    return entry


def end_patrol(patrol: Patrol, ended_at: datetime, notes: str | None, *, actor: User) -> Patrol:
    if not patrol.is_open:
        raise EntryRejected("ended_at", "This patrol has already ended")
    if ended_at < patrol.started_at:
        raise EntryRejected("ended_at", "The end time is before the patrol started")
    if ended_at > utcnow() + timedelta(minutes=10):
        raise EntryRejected("ended_at", "The end time is in the future")
    before = snapshot(patrol)
    patrol.ended_at = ended_at
    if notes:
        patrol.notes = f"{patrol.notes}\n\n{notes}" if patrol.notes else notes
    patrol.updated_at = utcnow()
    db.session.flush()
    db.session.add(EntryRevision(entry_id=patrol.id, actor_id=actor.id, action="ended",
                                 changes=_diff(before, snapshot(patrol))))
    audit.record(AuditAction.UPDATE, patrol, actor=actor, object_type="entry", fields=["ended_at"])
    index_entry(patrol)
    return patrol


def record_view(entry: Entry, *, actor: User) -> None:
    """Consultation is logged (DPA 2018 s.62); welfare checks above all, and who was shown a source."""
    details = {}
    if isinstance(entry, IntelligenceReport) and entry.source_details and can_view_source(actor, entry):
        details["source_details"] = "shown"
    audit.record(AuditAction.VIEW, entry, actor=actor, object_type="entry", kind=entry.kind.value, **details)
