"""Writing entries: log, update, submit, end a patrol. Services take typed data (pcso/entries/data.py), flush
and audit; views and the API commit. Each kind's own part comes from the registry."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..access import can_raise_intelligence, can_view_source
from ..extensions import db
from ..models import (
    AsbIncident, AuditAction, AuditEvent, Entry, EntryKind, EntryRevision, EntryStatus, IntelligenceReport, Patrol,
    User, WelfareCheck,
)
from ..pole.locations import LocationRejected, location_for, organisation_for
from ..pole.services import BornOnUnconfirmed, RecordNotFound, link, person_for, vehicle_for
from ..queries import AnyEntry
from ..risk.services import record_initial_assessments
from ..search.index import index_entry  # same transaction: the entry and its search text commit together
from ..timeutil import age_on, to_london, utcnow
from .data import CLIENT_KEY, EntryInput, LocationInput, OrganisationInput, PersonInput
from .errors import EntryNotFound, EntryRejected
from .held import resolve_held
from .placing import place_entry, resolve_place
from .queries import get_visible_entry
from .registry import kind_of
from .revisions import add_revision, diff, snapshot

EARLIEST_YEAR = 2000
FUTURE_SLACK = timedelta(minutes=10)  # phone clocks drift


def open_patrol(user: User) -> Patrol | None:
    return db.session.scalar(
        sa.select(Patrol).where(Patrol.author_id == user.id, Patrol.ended_at.is_(None))
        .order_by(Patrol.started_at.desc()).limit(1)
    )


def patrol_at(author_id: int, when: datetime) -> Patrol | None:
    """The author's patrol running at `when` (started by then, not ended before): an entry synced late
    joins the patrol it happened on, not whichever is open now."""
    return db.session.scalar(
        sa.select(Patrol).where(Patrol.author_id == author_id, Patrol.started_at <= when,
                                sa.or_(Patrol.ended_at.is_(None), Patrol.ended_at >= when))
        .order_by(Patrol.started_at.desc()).limit(1))


def _regroup(patrol: Patrol, *, actor: User) -> None:
    """The author's other entries inside the patrol's time join it, and those now outside it leave: each
    move is a revision and an audit event of its entry, like any other change to it."""
    inside = (AnyEntry.occurred_at >= patrol.started_at) & (
        sa.true() if patrol.ended_at is None else AnyEntry.occurred_at <= patrol.ended_at)
    moving = db.session.scalars(sa.select(AnyEntry).where(
        AnyEntry.author_id == patrol.author_id, AnyEntry.kind != EntryKind.PATROL,
        sa.or_(AnyEntry.patrol_id.is_(None) & inside, (AnyEntry.patrol_id == patrol.id) & ~inside))).all()
    for entry in moving:
        before = snapshot(entry)
        entry.patrol_id = None if entry.patrol_id == patrol.id else patrol.id
        entry.updated_at = utcnow()
        add_revision(entry, before, actor=actor, action="updated")
        audit.record(AuditAction.UPDATE, entry, actor=actor, object_type="entry", fields=["patrol_id"],
                     patrol_id=patrol.id)


def find_by_client_key(user: User, client_key: str) -> Entry | None:
    return db.session.scalar(sa.select(Entry).where(Entry.author_id == user.id, Entry.client_key == client_key))


def _common_errors(data: EntryInput) -> dict[str, str]:
    errors = {}
    if data.occurred_at.tzinfo is None:
        errors["occurred_at"] = "Give the time with its offset (UTC or Europe/London)"
    elif data.occurred_at > utcnow() + FUTURE_SLACK:
        errors["occurred_at"] = "The time is in the future"
    elif data.occurred_at.year < EARLIEST_YEAR:
        errors["occurred_at"] = "Check the year"
    if not data.summary and data.kind != EntryKind.PATROL:
        errors["summary"] = "Enter a short summary"
    elif len(data.summary) > 200:
        errors["summary"] = "Keep the summary to 200 characters"
    today = to_london(utcnow()).date()
    for person in getattr(data.fields, "people", ()):
        if person.born_on and person.born_on > today:
            errors["people"] = "The date of birth is in the future"
    return errors


def _checked(data: EntryInput, actor: User) -> Entry | None:
    """Every rule on the input, all at once; returns the entry it is raised from (checked visible)."""
    errors = _common_errors(data)
    if data.occurred_at.tzinfo is not None:
        errors = kind_of(data.kind).check(data) | errors
    if errors:
        raise EntryRejected(errors)
    if data.raised_from_id is None:
        return None
    source = get_visible_entry(actor, data.raised_from_id) if data.kind == EntryKind.INTELLIGENCE_REPORT else None
    if source is None or not can_raise_intelligence(actor, source):
        raise EntryNotFound(data.raised_from_id)
    return source


def _unconfirmed(picked, data: EntryInput) -> str:
    """Why a picked child's record can't be linked: the child is under 18 on the visit date by the record."""
    if picked.born_on is None:
        return ("The record you picked has no date of birth, so it can't show the child is under 18: type the "
                "child's name again (not picked) to record them with the date of birth entered")
    visit_on = to_london(data.occurred_at).date()
    born = f"{picked.born_on:%d %b %Y}"
    if picked.born_on <= visit_on and age_on(picked.born_on, visit_on) >= 18:
        return (f"The child must be under 18 on the visit date: the record you picked was born on {born} "
                f"({age_on(picked.born_on, visit_on)} on the visit date)")
    return (f"The date of birth is not the picked record's ({born}): correct it, or type the name again to "
            f"record someone else")


def _record(person_or_vehicle, spec, data: EntryInput, actor: User):
    if not isinstance(person_or_vehicle, PersonInput):
        vehicle = person_or_vehicle
        return vehicle_for(vrm=vehicle.vrm, make=vehicle.make, model=vehicle.model, colour=vehicle.colour,
                           actor=actor)
    try:
        return person_for(user=actor, person_id=person_or_vehicle.person_id, full_name=person_or_vehicle.name,
                          born_on=person_or_vehicle.born_on, description=person_or_vehicle.description,
                          confirm_born_on=person_or_vehicle.confirm_born_on)
    except RecordNotFound:
        raise EntryRejected(spec.links_field, "That record is no longer available: type the name again") from None
    except BornOnUnconfirmed as refused:
        raise EntryRejected(spec.born_on_field, _unconfirmed(refused.picked, data)) from None


def _place(item, index: int, actor: User):
    """The location or organisation a row of the input names (refusals name the `places`/`organisations` field)."""
    field = "places" if isinstance(item, LocationInput) else "organisations"
    try:
        if isinstance(item, LocationInput):
            return location_for(user=actor, location_id=item.location_id, address=item.address,
                                postcode=item.postcode)
        return organisation_for(user=actor, organisation_id=item.organisation_id, name=item.name,
                                org_type=item.org_type)
    except RecordNotFound:
        raise EntryRejected(field, "That record is no longer available: type it again") from None
    except LocationRejected as refused:
        noun = "Place" if field == "places" else "Organisation"
        raise EntryRejected(field, f"{noun} {index + 1}: {next(iter(refused.errors.values()))}") from None


def _link_records(entry: Entry, data: EntryInput, actor: User) -> None:
    """Replace the entry's links with the input's: its kind's people and vehicles, then its places and
    organisations (positions 200 on), each with its role."""
    spec = kind_of(data.kind)
    # Resolve every record before the old links go: a picked record is visible through them.
    named = [(_record(item, spec, data, actor), role, note, position)
             for item, role, note, position in spec.links(data.fields)]
    named += [(_place(item, index, actor), item.role, None, 200 + index) for index, item in enumerate(data.places)]
    named += [(_place(item, index, actor), item.role, None, 300 + index)
              for index, item in enumerate(data.organisations)]
    entry.links = []
    for record, role, note, position in named:
        link(entry, record, role, note=note, position=position)


def _raised_from(report: IntelligenceReport, source: Entry, *, actor: User) -> None:
    """A report newly raised from an entry links the entry's places too (people and vehicles come with
    the input), and a welfare check gets its "intelligence report raised" ticked (once, with a revision)."""
    for item in source.links:
        if (item.location or item.organisation) is not None and all(
                (mine.location or mine.organisation) is not item.target for mine in report.links):
            link(report, item.target, item.role, note=item.note, position=200 + len(report.links))
    if isinstance(source, WelfareCheck) and not source.is_intelligence_raised:
        before = snapshot(source)
        source.is_intelligence_raised, source.updated_at = True, utcnow()
        add_revision(source, before, actor=actor, action="updated")
        audit.record(AuditAction.UPDATE, source, actor=actor, object_type="entry", fields=["is_intelligence_raised"])


def _apply(entry: Entry, data: EntryInput, actor: User) -> None:
    source = _checked(data, actor)
    resolved = resolve_place(data.place)
    spec = kind_of(data.kind)
    entry.occurred_at, entry.summary = data.occurred_at, data.summary.strip()
    spec.apply(entry, data.fields)
    _link_records(entry, data, actor)
    place_entry(entry, data.place, resolved, spec.fallback_point(entry))
    entry.marking = spec.marking(data, source)
    if isinstance(entry, IntelligenceReport):
        if source is not None and entry.raised_from_id != source.id:
            _raised_from(entry, source, actor=actor)
        entry.raised_from_id = source.id if source is not None else None
    if not isinstance(entry, Patrol):
        patrol = patrol_at(entry.author_id, entry.occurred_at)
        entry.patrol_id = patrol.id if patrol is not None else None


def log_entry(data: EntryInput, *, actor: User, submit: bool = False) -> tuple[Entry, bool]:
    """Create an entry. Returns (entry, created).

    A retried submission (same author and client key) returns the entry made the first
    time, created=False, whether the retry comes after or races with the first.
    """
    if not CLIENT_KEY.match(data.client_key or ""):
        raise EntryRejected("client_key", "This form is missing its key: reload the page and try again")
    existing = find_by_client_key(actor, data.client_key)
    if existing is not None:
        return existing, False
    entry = kind_of(data.kind).model(author_id=actor.id, client_key=data.client_key, status=EntryStatus.DRAFT)
    _apply(entry, data, actor)
    if isinstance(entry, Patrol):
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
        existing = find_by_client_key(actor, data.client_key)
        if existing is None:
            raise
        return existing, False
    add_revision(entry, {}, actor=actor, action="created")
    audit.record(AuditAction.CREATE, entry, actor=actor, object_type="entry", kind=data.kind.value,
                 status=entry.status.value)
    if isinstance(entry, AsbIncident):
        record_initial_assessments(entry, actor=actor, new=True)
    if isinstance(entry, Patrol):
        _regroup(entry, actor=actor)
    index_entry(entry, new=True)
    resolve_held(actor, data.client_key, entry)  # a held submission fixed and sent under its key
    return entry, True


def _clear_photo_offers(entry: Entry) -> None:
    """A submitted entry's time and place are the officer's decision: its photos' EXIF offers go."""
    for photo in entry.photos:
        photo.clear_offer()


def _submit_action(entry: Entry) -> str:
    """'resubmitted' after a return for correction, so the history reads as what happened."""
    return "resubmitted" if entry.status == EntryStatus.RETURNED else "submitted"


def update_entry(entry: Entry, data: EntryInput, *, actor: User, submit: bool = False) -> Entry:
    """Change an entry its author may still edit (the caller checked can_edit_entry) from a whole new input."""
    if data.kind != entry.kind:
        raise EntryRejected("kind", f"This entry is a {entry.kind.noun}: it can't become another kind")
    before = snapshot(entry)
    action = _submit_action(entry) if submit else "updated"
    _apply(entry, data, actor)
    if isinstance(entry, Patrol):
        _regroup(entry, actor=actor)
    if submit:
        entry.status, entry.submitted_at = EntryStatus.SUBMITTED, utcnow()
        _clear_photo_offers(entry)
    entry.updated_at = utcnow()
    db.session.flush()
    changes = add_revision(entry, before, actor=actor, action=action)
    if changes:
        audit.record(AuditAction.UPDATE, entry, actor=actor, object_type="entry", fields=sorted(changes))
    if isinstance(entry, AsbIncident):
        record_initial_assessments(entry, actor=actor)
    index_entry(entry)
    return entry


def _source_kept(entry: Entry, data: EntryInput, author: User) -> EntryInput:
    """An amendment by an author who may no longer read who the source is (a PCSO, once the report is approved)
    keeps the source details as recorded: their form never shows them, so it can't change them either."""
    if isinstance(entry, IntelligenceReport) and not can_view_source(author, entry):
        return replace(data, fields=replace(data.fields, source_details=entry.source_details))
    return data


def preview_changes(entry: Entry, data: EntryInput, *, author: User) -> dict[str, list]:
    """What applying `data` to the entry would change (a revision's changes), checked with every rule of an edit,
    then undone: nothing of it stays (no record made, no link, no audit event). Raises EntryRejected."""
    if data.kind != entry.kind:
        raise EntryRejected("kind", f"This entry is a {entry.kind.noun}: it can't become another kind")
    data = _source_kept(entry, data, author)
    before = snapshot(entry)
    savepoint = db.session.begin_nested()
    try:
        _apply(entry, data, author)
        db.session.flush()
        return diff(before, snapshot(entry))
    finally:
        savepoint.rollback()


def amend_entry(entry: Entry, data: EntryInput, *, author: User, approver: User, amendment_id: int) -> EntryRevision:
    """Apply an approved amendment: the entry changes as its author proposed and stays approved; the revision
    is the author's ("amended"), the audit event the approver's (their decision made the change)."""
    if data.kind != entry.kind:
        raise EntryRejected("kind", f"This entry is a {entry.kind.noun}: it can't become another kind")
    data = _source_kept(entry, data, author)
    before = snapshot(entry)
    _apply(entry, data, author)
    entry.updated_at = utcnow()
    db.session.flush()
    changes = diff(before, snapshot(entry))
    revision = EntryRevision(entry_id=entry.id, actor_id=author.id, action="amended", changes=changes)
    db.session.add(revision)
    db.session.flush()
    audit.record(AuditAction.UPDATE, entry, actor=approver, object_type="entry", fields=sorted(changes),
                 amendment_id=amendment_id, proposed_by=author.id)
    index_entry(entry)
    return revision


def submit_entry(entry: Entry, *, actor: User, at: datetime | None = None) -> Entry:
    """Send it for review, now or at `at` (a history being loaded: never before it was recorded)."""
    if isinstance(entry, Patrol) and entry.is_open:
        raise EntryRejected("status", "End the patrol before submitting it")
    when = at or utcnow()
    if at is not None and (at < entry.recorded_at or at > utcnow() + FUTURE_SLACK):
        raise EntryRejected("submitted_at", "A submission can't come before the entry was recorded, or after now")
    before = snapshot(entry)
    action = _submit_action(entry)
    entry.status, entry.submitted_at, entry.updated_at = EntryStatus.SUBMITTED, when, when
    _clear_photo_offers(entry)
    db.session.flush()
    add_revision(entry, before, actor=actor, action=action, at=when)
    audit.record(AuditAction.UPDATE, entry, actor=actor, object_type="entry", fields=["status"])
    index_entry(entry)
    return entry


def end_patrol(patrol: Patrol, ended_at: datetime, notes: str | None, *, actor: User) -> Patrol:
    if not patrol.is_open:
        raise EntryRejected("ended_at", "This patrol has already ended")
    if ended_at < patrol.started_at:
        raise EntryRejected("ended_at", "The end time is before the patrol started")
    if ended_at > utcnow() + FUTURE_SLACK:
        raise EntryRejected("ended_at", "The end time is in the future")
    before = snapshot(patrol)
    patrol.ended_at = ended_at
    if notes:
        patrol.notes = f"{patrol.notes}\n\n{notes}" if patrol.notes else notes
    patrol.updated_at = utcnow()
    _regroup(patrol, actor=actor)
    db.session.flush()
    add_revision(patrol, before, actor=actor, action="ended")
    audit.record(AuditAction.UPDATE, patrol, actor=actor, object_type="entry", fields=["ended_at"])
    index_entry(patrol)
    return patrol


def record_view(entry: Entry, *, actor: User, **details) -> None:
    """Consultation is logged (DPA 2018 s.62); welfare checks above all, and who was shown a source.
    `details`: why the officer opened it, when asked (pcso/audit_viewer/reasons.py: reason, note, reason_event).
    The request's one view event is written at commit (pcso/audit.py): there is no event to return here."""
    if isinstance(entry, IntelligenceReport) and entry.source_details and can_view_source(actor, entry):
        details["source_details"] = "shown"
    audit.consulted(entry, actor=actor, object_type="entry", kind=entry.kind.value, **details)


def record_shown(records, *, actor: User, object_type: str | None = None, **details) -> None:
    """Records a page shows beside (or instead of) one entry: named by the request's one view event."""
    audit.consulted(records, actor=actor, object_type=object_type, **details)


def record_links_shown(entry: Entry, *, actor: User) -> None:
    """The POLE records an entry's page names (its people, vehicles, places, organisations): read from the
    links' own columns, so nothing more is loaded than the page loads."""
    links_shown(entry.links, actor=actor)


def links_shown(links, *, actor: User) -> None:
    for kind in ("person", "vehicle", "location", "organisation"):
        ids = [getattr(item, f"{kind}_id") for item in links if getattr(item, f"{kind}_id")]
        if ids:
            audit.consulted(ids, actor=actor, object_type=kind)


def record_my_entries_search(actor: User, *, kind, beat_id, status, results: int) -> None:
    """A filtered list of one's own entries is a search (DPA 2018 s.62)."""
    audit.record(AuditAction.SEARCH, actor=actor, object_type="entry", scope="mine",
                 kind=kind.value if kind else None, beat_id=beat_id,
                 status=status.value if status else None, results=results)
