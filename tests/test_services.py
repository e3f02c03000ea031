"""Entry services (log, update, end a patrol), their audit trail, and the access rules, called directly."""
from __future__ import annotations

import threading

import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash
from flask import current_app

from pcso import access
from pcso.entries import services
from pcso.entries.errors import EntryRejected
from pcso.entries.kinds.asb_incident import AsbIncidentForm
from pcso.entries.kinds.patrol import PatrolForm
from pcso.entries.pages import form_input
from pcso.entries.services import end_patrol, log_entry, open_patrol, update_entry
from pcso.extensions import db
from pcso.models import user as user_model
from pcso.models import (
    AsbIncident, AuditAction, AuditEvent, Entry, EntryRevision, EntryStatus, Patrol, Role,
    SecurityMarking,
)
from pcso.timeutil import to_london, utcnow
from tests import factories

OLD_TRAFFORD = "E05015253"
ALTRINCHAM = "E05015239"
POINT = {"lat": "53.464903", "lon": "-2.260757"}  # M15 4AD, in Old Trafford


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch):
    """factories.user() hashes with scrypt (~0.15 s a user); nothing here tests passwords."""
    monkeypatch.setattr(user_model, "generate_password_hash",
                        lambda password, method=None: generate_password_hash(password, method="pbkdf2:sha256:1"))


def local(when: datetime) -> str:
    """A UTC time as the datetime-local value a phone in London would post."""
    return to_london(when).strftime("%Y-%m-%dT%H:%M")


def common(**extra) -> dict:
    data = {"client_key": str(uuid.uuid4()), "occurred_at": local(utcnow()), "summary": "Test summary",
            "marking": "OFFICIAL", **POINT, "accuracy_m": "12", "location_source": "gps", "beat_id": ""}
    data.update(extra)
    return data


def asb_data(**extra) -> dict:
    return common(**{"nsir_category": "nuisance", "asb_type": "noise", "description": "Loud music", **extra})


def patrol_data(**extra) -> dict:
    extra.setdefault("occurred_at", local(utcnow() - timedelta(minutes=30)))
    return common(mode="foot", purpose="Car crime on Shrewsbury St", summary="", **extra)


def valid_form(form_cls, data: dict, **kwargs):
    """Build and validate a form as a view would, from a POSTed body, and turn it into the services' input."""
    with current_app.test_request_context(method="POST", data=data):
        form = form_cls(**kwargs)
        assert form.validate(), form.errors
        return form_input(form_cls.KIND, form)


def log_asb(actor, data=None, **kwargs):
    return log_entry(valid_form(AsbIncidentForm, data or asb_data()), actor=actor, **kwargs)


def start_patrol(actor, data=None):
    return log_entry(valid_form(PatrolForm, data or patrol_data()), actor=actor)


def count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def audits(action: AuditAction, object_id: int | None = None) -> list[AuditEvent]:
    query = sa.select(AuditEvent).where(AuditEvent.action == action, AuditEvent.object_type == "entry")
    if object_id is not None:
        query = query.where(AuditEvent.object_id == object_id)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


# --- log_entry: idempotency ----------------------------------------------------------------------


def test_log_entry_twice_with_the_same_form_returns_the_first_entry(app):
    pcso_user = factories.user(Role.PCSO)
    data = asb_data()
    first, created = log_asb(pcso_user, data)
    assert created is True and isinstance(first, AsbIncident)
    db.session.commit()

    again, created = log_asb(pcso_user, data)
    assert created is False and again.id == first.id
    db.session.commit()
    assert count(Entry) == 1
    assert count(EntryRevision) == 1
    assert len(audits(AuditAction.CREATE)) == 1

    other, created = log_asb(pcso_user, {**data, "client_key": str(uuid.uuid4())})
    assert created is True and other.id != first.id


def test_log_entry_retry_in_the_same_transaction_is_also_idempotent(app):
    pcso_user = factories.user(Role.PCSO)
    data = asb_data()
    first, _ = log_asb(pcso_user, data)
    again, created = log_asb(pcso_user, data)
    assert (again.id, created) == (first.id, False)
    assert count(Entry) == 1


def test_log_entry_losing_a_race_returns_the_winners_entry(app, monkeypatch):
    """The check finds nothing (the other request had not committed yet); the insert then hits
    the unique constraint, and the service answers with the entry the other request made."""
    pcso_user = factories.user(Role.PCSO)
    data = asb_data()
    winner, _ = log_asb(pcso_user, data)
    db.session.commit()

    real = services.find_by_client_key
    calls = []

    def not_yet_committed(user, client_key):
        calls.append(client_key)
        return None if len(calls) == 1 else real(user, client_key)

    monkeypatch.setattr(services, "find_by_client_key", not_yet_committed)
    loser, created = log_asb(pcso_user, data)
    assert len(calls) == 2, "the insert should have hit the unique constraint"
    assert (loser.id, created) == (winner.id, False)
    db.session.commit()  # the transaction is still usable after the savepoint rolled back
    assert count(Entry) == 1
    assert count(EntryRevision) == 1
    assert len(audits(AuditAction.CREATE)) == 1


def test_the_same_client_key_from_another_author_is_a_new_entry(app):
    first_user, second_user = factories.user(Role.PCSO), factories.user(Role.PCSO)
    data = asb_data()
    first, _ = log_asb(first_user, data)
    second, created = log_asb(second_user, data)
    assert created is True and second.id != first.id


# --- revisions -----------------------------------------------------------------------------------


def test_created_revision_records_the_fields_that_were_set(app):
    pcso_user = factories.user(Role.PCSO)
    entry, _ = log_asb(pcso_user, asb_data(**{"vehicles-0-vrm": "ab12 cde"}))
    [revision] = entry.revisions
    assert revision.action == "created" and revision.actor_id == pcso_user.id
    assert revision.changes["description"] == [None, "Loud music"]
    [link] = entry.vehicle_links
    assert revision.changes["links"] == [None, [["vehicle", link.vehicle_id, "mentioned", None]]]
    assert "action_taken" not in revision.changes  # still empty: not a change
    assert "client_key" not in revision.changes and "updated_at" not in revision.changes


def test_update_records_only_the_changed_fields(app):
    pcso_user = factories.user(Role.PCSO)
    data = asb_data()
    entry, _ = log_asb(pcso_user, data)
    db.session.commit()

    update_entry(entry, valid_form(AsbIncidentForm, {**data, "description": "Very loud music"}), actor=pcso_user)
    db.session.commit()
    created, updated = db.session.scalars(sa.select(EntryRevision).where(EntryRevision.entry_id == entry.id)
                                          .order_by(EntryRevision.id)).all()
    assert updated.action == "updated"
    assert updated.changes == {"description": ["Loud music", "Very loud music"]}
    [event] = audits(AuditAction.UPDATE, entry.id)
    assert event.details == {"fields": ["description"]} and event.actor_id == pcso_user.id


def as_edit_form(entry, data: dict) -> dict:
    """What the edit page posts back: the same fields, with each linked person's record id."""
    return {**data, **{f"people-{i}-person_id": str(link.person_id) for i, link in enumerate(entry.people_links)}}


def test_update_with_nothing_changed_writes_no_revision(app):
    pcso_user = factories.user(Role.PCSO)
    data = asb_data(**{"people-0-name": "Sam Smith", "people-0-role": "witness"})
    entry, _ = log_asb(pcso_user, data)
    db.session.commit()
    update_entry(entry, valid_form(AsbIncidentForm, as_edit_form(entry, data)), actor=pcso_user)
    db.session.commit()
    assert count(EntryRevision, EntryRevision.entry_id == entry.id) == 1
    assert audits(AuditAction.UPDATE, entry.id) == []


def test_update_of_a_person_and_a_submit_are_recorded(app):
    pcso_user = factories.user(Role.PCSO)
    data = asb_data(**{"people-0-name": "Sam Smith", "people-0-role": "witness"})
    entry, _ = log_asb(pcso_user, data)
    db.session.commit()
    person_id = entry.people_links[0].person_id
    update_entry(entry, valid_form(AsbIncidentForm, {**as_edit_form(entry, data), "people-0-role": "reporter"}),
                 actor=pcso_user, submit=True)
    db.session.commit()
    revision = entry.revisions[-1]
    assert revision.action == "submitted"
    assert set(revision.changes) == {"links", "status", "submitted_at"}
    assert revision.changes["links"] == [[["person", person_id, "witness", None]],
                                         [["person", person_id, "reporter", None]]]
    assert revision.changes["status"] == ["draft", "submitted"]


def test_a_name_typed_over_a_picked_person_makes_a_new_record(app):
    pcso_user = factories.user(Role.PCSO)
    data = asb_data(**{"people-0-name": "Sam Smith", "people-0-role": "witness"})
    entry, _ = log_asb(pcso_user, data)
    db.session.commit()
    sam = entry.people_links[0].person_id
    update_entry(entry, valid_form(AsbIncidentForm, {**as_edit_form(entry, data), "people-0-name": "Kim Lee"}),
                 actor=pcso_user)
    assert entry.people_links[0].person_id != sam
    assert entry.people_links[0].person.full_name == "Kim Lee"


def test_same_name_and_date_of_birth_is_the_same_person_a_name_alone_is_not(app):
    pcso_user = factories.user(Role.PCSO)
    first, _ = log_asb(pcso_user, asb_data(**{"people-0-name": "Sam  smith", "people-0-role": "victim",
                                              "people-0-born_on": "1990-02-03", "victim_risk": "low"}))
    second, _ = log_asb(pcso_user, asb_data(**{"people-0-name": "sam smith", "people-0-role": "reporter",
                                               "people-0-born_on": "1990-02-03"}))
    third, _ = log_asb(pcso_user, asb_data(**{"people-0-name": "Sam Smith", "people-0-role": "witness"}))
    assert first.people_links[0].person_id == second.people_links[0].person_id
    assert third.people_links[0].person_id != first.people_links[0].person_id


def test_a_picked_person_the_officer_may_not_see_is_refused(app):
    other = factories.user(Role.PCSO)
    hidden = factories.welfare(other)  # the child is known only from another officer's welfare check
    db.session.commit()
    child_id = hidden.child.id
    pcso_user = factories.user(Role.PCSO)
    form = valid_form(AsbIncidentForm, asb_data(**{"people-0-name": hidden.child.full_name,
                                                   "people-0-role": "witness", "people-0-person_id": str(child_id)}))
    with pytest.raises(EntryRejected):
        log_entry(form, actor=pcso_user)


# --- patrols -------------------------------------------------------------------------------------


def test_end_patrol_refuses_an_end_before_the_start(app):
    pcso_user = factories.user(Role.PCSO)
    patrol, _ = start_patrol(pcso_user)
    with pytest.raises(EntryRejected, match="before the patrol started") as error:
        end_patrol(patrol, patrol.started_at - timedelta(minutes=1), None, actor=pcso_user)
    assert error.value.field == "ended_at"
    assert patrol.is_open
    assert [r.action for r in patrol.revisions] == ["created"]


def test_end_patrol_refuses_an_end_in_the_future(app):
    pcso_user = factories.user(Role.PCSO)
    patrol, _ = start_patrol(pcso_user)
    with pytest.raises(EntryRejected, match="in the future"):
        end_patrol(patrol, utcnow() + timedelta(hours=1), None, actor=pcso_user)
    assert patrol.is_open


def test_end_patrol_refuses_a_second_end(app):
    pcso_user = factories.user(Role.PCSO)
    patrol, _ = start_patrol(pcso_user)
    ended_at = utcnow()
    end_patrol(patrol, ended_at, "Quiet", actor=pcso_user)
    db.session.commit()
    assert not patrol.is_open and patrol.notes == "Quiet"
    assert patrol.revisions[-1].action == "ended"
    assert patrol.revisions[-1].changes["ended_at"] == [None, ended_at.isoformat()]

    with pytest.raises(EntryRejected, match="already ended"):
        end_patrol(patrol, utcnow(), "Again", actor=pcso_user)
    db.session.refresh(patrol)
    assert patrol.ended_at == ended_at and patrol.notes == "Quiet"
    assert [r.action for r in patrol.revisions] == ["created", "ended"]


def test_an_entry_logged_during_an_open_patrol_belongs_to_it(app):
    pcso_user, colleague = factories.user(Role.PCSO), factories.user(Role.PCSO)
    patrol, _ = start_patrol(pcso_user)

    during, _ = log_asb(pcso_user)
    assert during.patrol_id == patrol.id

    before_start, _ = log_asb(pcso_user, asb_data(occurred_at=local(utcnow() - timedelta(hours=3))))
    assert before_start.patrol_id is None

    someone_else, _ = log_asb(colleague)
    assert someone_else.patrol_id is None

    end_patrol(patrol, utcnow(), None, actor=pcso_user)
    after_end, _ = log_asb(pcso_user, asb_data(occurred_at=local(utcnow() + timedelta(minutes=5))))
    assert after_end.patrol_id is None


def test_an_entry_synced_late_joins_the_patrol_it_happened_on(app):
    """Membership is the entry's time within the patrol's, not "the patrol open now"."""
    pcso_user = factories.user(Role.PCSO)
    morning, _ = start_patrol(pcso_user, patrol_data(occurred_at=local(utcnow() - timedelta(hours=5))))
    end_patrol(morning, utcnow() - timedelta(hours=4), None, actor=pcso_user)
    afternoon, _ = start_patrol(pcso_user, patrol_data(occurred_at=local(utcnow() - timedelta(hours=1))))

    from_the_morning, _ = log_asb(pcso_user, asb_data(occurred_at=local(utcnow() - timedelta(hours=4, minutes=30))))
    between, _ = log_asb(pcso_user, asb_data(occurred_at=local(utcnow() - timedelta(hours=2))))
    now, _ = log_asb(pcso_user)
    assert (from_the_morning.patrol_id, between.patrol_id, now.patrol_id) == (morning.id, None, afternoon.id)


def test_a_patrol_logged_late_gathers_the_entries_made_during_it_and_ending_early_lets_later_ones_go(app):
    pcso_user = factories.user(Role.PCSO)
    earlier, _ = log_asb(pcso_user, asb_data(occurred_at=local(utcnow() - timedelta(minutes=20))))
    later, _ = log_asb(pcso_user)
    patrol, _ = start_patrol(pcso_user)  # started 30 minutes ago, synced only now
    assert (earlier.patrol_id, later.patrol_id) == (patrol.id, patrol.id)
    end_patrol(patrol, utcnow() - timedelta(minutes=10), None, actor=pcso_user)
    assert (earlier.patrol_id, later.patrol_id) == (patrol.id, None)
    # Each move is in the moved entry's own history and the audit log.
    assert [(r.action, r.changes["patrol_id"]) for r in later.revisions[1:]] == [
        ("updated", [None, patrol.id]), ("updated", [patrol.id, None])]
    moves = [e for e in audits(AuditAction.UPDATE, later.id) if e.details.get("fields") == ["patrol_id"]]
    assert len(moves) == 2


def test_an_entry_logged_with_no_patrol_has_none(app):
    pcso_user = factories.user(Role.PCSO)
    factories.patrol(pcso_user)  # an ended patrol
    entry, _ = log_asb(pcso_user)
    assert open_patrol(pcso_user) is None and entry.patrol_id is None


def test_a_pcso_cannot_start_a_second_patrol_while_one_is_open(app):
    pcso_user = factories.user(Role.PCSO)
    first, _ = start_patrol(pcso_user)
    db.session.commit()
    with pytest.raises(EntryRejected, match="already have a patrol running") as error:
        start_patrol(pcso_user, patrol_data(occurred_at=local(utcnow() - timedelta(minutes=5))))
    assert error.value.field == "mode"
    db.session.rollback()
    assert count(Patrol) == 1

    end_patrol(first, utcnow(), None, actor=pcso_user)
    second, created = start_patrol(pcso_user, patrol_data(occurred_at=local(utcnow())))
    assert created and second.id != first.id and open_patrol(pcso_user).id == second.id


def test_two_concurrent_patrol_starts_leave_one_open_patrol(app):
    """A second start, racing the first, waits for it and is then refused (row lock / BEGIN IMMEDIATE)."""
    pcso_user = factories.user(Role.PCSO)
    db.session.commit()
    user_id = pcso_user.id
    first, _ = start_patrol(pcso_user)  # flushed, not yet committed: holds the lock
    outcome = []

    def other_request():
        with app.app_context():  # its own session and transaction
            other = db.session.get(type(pcso_user), user_id)
            try:
                start_patrol(other, patrol_data(occurred_at=local(utcnow() - timedelta(minutes=5))))
                db.session.commit()
                outcome.append("started")
            except EntryRejected:
                db.session.rollback()
                outcome.append("refused")
            finally:
                db.session.remove()

    racer = threading.Thread(target=other_request)
    racer.start()
    racer.join(timeout=0.5)
    assert racer.is_alive(), "the second start did not wait for the first"
    db.session.commit()
    racer.join(timeout=10)
    assert outcome == ["refused"]
    assert count(Patrol, Patrol.author_id == user_id, Patrol.ended_at.is_(None)) == 1


def test_a_retried_patrol_start_returns_the_open_patrol(app):
    pcso_user = factories.user(Role.PCSO)
    data = patrol_data()
    first, _ = start_patrol(pcso_user, data)
    db.session.commit()
    again, created = start_patrol(pcso_user, data)
    assert (again.id, created) == (first.id, False)


def test_another_pcsos_open_patrol_does_not_block_mine(app):
    start_patrol(factories.user(Role.PCSO))
    mine, created = start_patrol(factories.user(Role.PCSO))
    assert created and mine.is_open


# --- audit in the same transaction ---------------------------------------------------------------


def test_log_entry_writes_its_audit_event_in_the_callers_transaction(app):
    pcso_user = factories.user(Role.PCSO)
    db.session.commit()
    entry, _ = log_asb(pcso_user, asb_data(description="Named person shouting"))
    [event] = audits(AuditAction.CREATE, entry.id)
    assert (event.actor_id, event.details) == (pcso_user.id, {"kind": "asb_incident", "status": "draft"})

    db.session.rollback()
    assert count(Entry) == 0
    assert count(AsbIncident) == 0
    assert count(EntryRevision) == 0
    assert audits(AuditAction.CREATE) == []


def test_end_patrol_and_its_audit_event_roll_back_together(app):
    pcso_user = factories.user(Role.PCSO)
    patrol, _ = start_patrol(pcso_user)
    db.session.commit()
    end_patrol(patrol, utcnow(), "Notes", actor=pcso_user)
    assert len(audits(AuditAction.UPDATE, patrol.id)) == 1

    db.session.rollback()
    assert open_patrol(pcso_user).id == patrol.id
    assert audits(AuditAction.UPDATE, patrol.id) == []
    assert count(EntryRevision, EntryRevision.action == "ended") == 0


def test_submitted_entries_are_audited_with_their_status(app):
    pcso_user = factories.user(Role.PCSO)
    entry, _ = log_asb(pcso_user, submit=True)
    assert entry.status == EntryStatus.SUBMITTED and entry.submitted_at is not None
    assert audits(AuditAction.CREATE, entry.id)[0].details["status"] == "submitted"


# --- access --------------------------------------------------------------------------------------


@pytest.fixture
def people_and_entries(app):
    p = {
        "author": factories.user(Role.PCSO, beats=[OLD_TRAFFORD]),
        "same_beat": factories.user(Role.PCSO, beats=[OLD_TRAFFORD]),
        "other_beat": factories.user(Role.PCSO, beats=[ALTRINCHAM]),
        "no_beat": factories.user(Role.PCSO),
        "spoc": factories.user(Role.PCSO, beats=[ALTRINCHAM]),
        "supervisor": factories.user(Role.SUPERVISOR),
        "analyst": factories.user(Role.ANALYST),
        "safeguarding": factories.user(Role.SAFEGUARDING),
        "admin": factories.user(Role.ADMIN),
    }
    author = p["author"]
    e = {
        "draft": factories.asb(author, OLD_TRAFFORD, EntryStatus.DRAFT),
        "official": factories.asb(author, OLD_TRAFFORD),
        "sensitive": factories.asb(author, OLD_TRAFFORD, marking=SecurityMarking.OFFICIAL_SENSITIVE),
        "welfare": factories.welfare(author, p["spoc"], OLD_TRAFFORD),
        "welfare_draft": factories.welfare(author, p["spoc"], OLD_TRAFFORD, EntryStatus.DRAFT),
    }
    db.session.commit()
    return p, e


EXPECTED = {
    "author": {"draft", "official", "sensitive", "welfare", "welfare_draft"},
    "same_beat": {"official"},
    "other_beat": set(),
    "no_beat": set(),
    "spoc": {"welfare"},
    "supervisor": {"official", "sensitive", "welfare"},
    "analyst": {"official", "sensitive"},
    "safeguarding": {"welfare"},
    "admin": set(),
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_can_view_entry(people_and_entries, who):
    people, entries = people_and_entries
    seen = {name for name, entry in entries.items() if access.can_view_entry(people[who], entry)}
    assert seen == EXPECTED[who]


@pytest.mark.parametrize("who", list(EXPECTED))
def test_visible_entries_agrees_with_can_view_entry(people_and_entries, who):
    people, entries = people_and_entries
    names = {entry.id: name for name, entry in entries.items()}
    ids = db.session.scalars(sa.select(Entry.id).where(access.visible_entries(people[who]))).all()
    assert {names[i] for i in ids} == EXPECTED[who]


def test_a_pcso_sees_a_colleagues_entry_only_on_their_own_beats(people_and_entries):
    people, entries = people_and_entries
    official = entries["official"]
    assert access.can_view_entry(people["same_beat"], official)
    people["same_beat"].beats = [factories.beat(ALTRINCHAM)]
    db.session.flush()
    assert not access.can_view_entry(people["same_beat"], official)
    assert official.id not in db.session.scalars(
        sa.select(Entry.id).where(access.visible_entries(people["same_beat"]))).all()


def test_only_the_author_edits_and_only_a_draft(people_and_entries):
    people, entries = people_and_entries
    assert access.can_edit_entry(people["author"], entries["draft"])
    assert not access.can_edit_entry(people["author"], entries["official"])
    assert not access.can_edit_entry(people["supervisor"], entries["draft"])
    assert [r for r in Role if access.can_log_entries(factories.user(r))] == [Role.PCSO, Role.SUPERVISOR]


def test_a_submission_can_be_given_its_time_but_never_before_the_entry_was_recorded(app):
    pcso_user = factories.user(Role.PCSO)
    entry, _ = log_asb(pcso_user)
    with pytest.raises(EntryRejected) as refused:
        services.submit_entry(entry, actor=pcso_user, at=entry.recorded_at - timedelta(minutes=1))
    assert "submitted_at" in refused.value.errors
    at = entry.recorded_at + timedelta(seconds=30)
    services.submit_entry(entry, actor=pcso_user, at=at)
    assert entry.submitted_at == at and entry.revisions[-1].at == at and entry.revisions[-1].action == "submitted"
