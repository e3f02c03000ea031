"""flask seed-demo: deterministic demo data, and its refusal to touch real data.

Most tests seed the shared `app` (beats and schools already loaded, every backend); the
determinism and empty-database tests use `fresh_app` (an empty, migrated SQLite database).
"""
from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from contextlib import nullcontext
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy.orm import with_polymorphic

from pcso.seed import command
from pcso.seed.demo import demo_anchor
from pcso.auth import totp
from pcso.seed.people import DEMO_COLLARS, DEMO_USERS, demo_totp_secret
from pcso.seed.summary import KIND_SHARE
from pcso.beats.services import locate_beat
from pcso.extensions import db
from pcso.models import (
    AsbIncident, AuditAction, AuditEvent, Beat, CaseReview, CaseReviewState, Entry, EntryKind, EntryReview,
    EntryRevision, EntryStatus, HandlingCode, IntelligenceReport, InvolvementRole, LinkRole, NsirCategory, Patrol,
    Role, SecurityMarking, User, WelfareCheck,
)
from pcso.models.asb import VRM_ALLOWED
from pcso.timeutil import age_on, to_london, utcnow
from tests import factories
from tests.conftest import make_app

ENTRIES = 120
AnyEntry = with_polymorphic(Entry, "*")


def context(app):
    """The app's context: the current one if it is already pushed (so one session, one lock holder).

    SQLite transactions here start with BEGIN IMMEDIATE, so a second session in a nested context
    would wait on the first's write lock.
    """
    return nullcontext() if current_app and current_app._get_current_object() is app else app.app_context()


def invoke(app, *args):
    with context(app):
        db.session.rollback()
        return app.test_cli_runner().invoke(args=["seed-demo", *[str(a) for a in args]])


def seeded(app, *args):
    result = invoke(app, "--entries", ENTRIES, *args)
    assert result.exit_code == 0, result.output
    return result


def all_entries() -> list[Entry]:
    return list(db.session.scalars(sa.select(AnyEntry).order_by(AnyEntry.occurred_at, AnyEntry.id)))


def entry_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Entry.id)))


def digest(app) -> str:
    """What a user would see of the data: kinds, summaries, beats, authors, times and places."""
    with context(app):
        rows = []
        for e in all_entries():
            rows.append("|".join(map(str, (
                e.kind.value, e.summary, e.beat.code, e.author.collar_number, e.occurred_at.isoformat(),
                e.lat, e.lon, e.status.value, e.marking.value, e.client_key,
                [(link.target.id, link.role.value, link.note) for link in e.links],
                e.risk_level.value if isinstance(e, WelfareCheck) else "",
            ))))
        db.session.rollback()
        return hashlib.sha256("\n".join(rows).encode()).hexdigest()


@pytest.fixture
def frozen_now(monkeypatch):
    """A fixed 'now' (the day the clocks go forward) so two seeds can't straddle 06:00 UTC."""
    now = datetime(2026, 3, 29, 14, 30, tzinfo=timezone.utc)
    monkeypatch.setattr(command, "utcnow", lambda: now)
    return now


# --- What it creates --------------------------------------------------------------------------


def test_seed_demo_creates_a_user_of_every_role_and_entries_of_every_kind(app):
    result = seeded(app)

    users = list(db.session.scalars(sa.select(User)))
    assert {u.role for u in users} == set(Role)
    assert sorted(u.collar_number for u in users) == sorted(DEMO_COLLARS)
    entries = all_entries()
    assert len(entries) == ENTRIES
    kinds = {kind: sum(e.kind == kind for e in entries) for kind in EntryKind}
    assert all(kinds.values()), kinds
    for demo in DEMO_USERS:  # the logins are printed, with the second factor's key for the roles that need one
        key = demo_totp_secret(demo.collar_number) if demo.role.value in app.config["TOTP_REQUIRED_ROLES"] else "-"
        assert re.search(rf"{demo.collar_number}\s.*\s{re.escape(demo.password)}\s+{key}$", result.output, re.M)
    assert "users totp-code" in result.output


def test_demo_logins_work_and_officers_have_their_beats(app):
    seeded(app)

    users = {u.collar_number: u for u in db.session.scalars(sa.select(User))}
    for demo in DEMO_USERS:
        assert len(demo.password) >= 12
        assert users[demo.collar_number].check_password(demo.password)
        assert users[demo.collar_number].role == demo.role
        if demo.role.value in app.config["TOTP_REQUIRED_ROLES"]:  # set up already, with the printed key
            assert totp.secret_of(users[demo.collar_number]) == demo_totp_secret(demo.collar_number)
        else:
            assert not totp.is_enrolled(users[demo.collar_number])
    pcso_beats = set()
    for demo in DEMO_USERS:
        if demo.role == Role.PCSO:
            names = {b.name for b in users[demo.collar_number].beats}
            assert names == set(demo.beat_names) and 2 <= len(names) <= 3
            pcso_beats |= names
    supervisor = next(u for u in users.values() if u.role == Role.SUPERVISOR)
    assert {b.name for b in supervisor.beats} == pcso_beats
    assert db.session.scalar(sa.select(sa.func.count(Beat.id)).where(Beat.district == "Trafford")) == 21


def test_every_entry_lies_in_its_beat(app):
    seeded(app)

    for entry in all_entries():
        assert entry.has_location, entry
        located = locate_beat(entry.lat, entry.lon)
        assert located is not None and located.id == entry.beat_id == entry.located_beat_id, entry
        assert not entry.is_beat_overridden
        assert entry.beat_id in entry.author.beat_ids
        if entry.accuracy_m is not None:
            assert 5 <= entry.accuracy_m <= 60


def test_welfare_checks_are_sensitive_and_about_children(app):
    seeded(app)

    checks = [e for e in all_entries() if isinstance(e, WelfareCheck)]
    assert checks
    by_child = defaultdict(list)
    for check in checks:
        assert check.marking == SecurityMarking.OFFICIAL_SENSITIVE
        visit_on = to_london(check.occurred_at).date()
        assert 11 <= age_on(check.child.born_on, visit_on) < 18, check.child.full_name
        assert check.spoc_id == check.author_id and check.spoc.role == Role.PCSO
        assert check.next_visit_on > visit_on
        assert not check.is_mash_referral or re.fullmatch(r"MASH-\d{4}-\d{4}", check.mash_reference)
        assert check.is_seen_alone or check.others_present
        by_child[check.child.id].append(check)
    assert all(len(visits) >= 2 for visits in by_child.values())  # one child, one record, visited monthly


def test_asb_incidents_are_recorded_to_the_standards(app):
    seeded(app)

    incidents = [e for e in all_entries() if isinstance(e, AsbIncident)]
    victims = defaultdict(list)
    for incident in incidents:
        roles = [link.role for link in incident.people_links]
        assert len(roles) <= 3
        if incident.nsir_category == NsirCategory.PERSONAL:
            assert InvolvementRole.VICTIM in roles
        assert (incident.victim_risk is not None) == (InvolvementRole.VICTIM in roles)
        for link in incident.vehicle_links:
            assert VRM_ALLOWED.match(link.vehicle.vrm)
        if incident.control_room_ref:
            assert re.fullmatch(rf"GMP-{to_london(incident.occurred_at):%Y%m%d}-\d{{4}}", incident.control_room_ref)
        for link in incident.people_links:
            if link.role == InvolvementRole.VICTIM:
                victims[link.person_id].append(incident.occurred_at)
    # A repeat victim: 3 or more incidents within 3 months.
    assert any(len(times) >= 3 and max(times) - min(times) <= timedelta(days=92) for times in victims.values())
    assert {i.marking for i in incidents} == {SecurityMarking.OFFICIAL, SecurityMarking.OFFICIAL_SENSITIVE}


def test_intelligence_is_graded_linked_and_raised_from_incidents_and_checks(app):
    seeded(app)

    entries = all_entries()
    by_id = {e.id: e for e in entries}
    reports = [e for e in entries if isinstance(e, IntelligenceReport)]
    assert len(reports) == round(ENTRIES * KIND_SHARE[EntryKind.INTELLIGENCE_REPORT])
    raised_from = defaultdict(list)
    for report in reports:
        assert re.fullmatch(r"[123] / [A-E] / [PC]", report.grading)
        assert (report.handling_conditions is not None) == (report.handling_code == HandlingCode.CONDITIONS)
        assert report.people_links or report.vehicle_links
        assert not report.source_details or report.source_details not in report.sanitised_text + report.summary
        if report.marking == SecurityMarking.OFFICIAL:
            assert report.handling_code == HandlingCode.PERMITTED
        if report.raised_from_id is not None:
            source = by_id[report.raised_from_id]
            raised_from[source.kind].append(report)
            assert source.author_id == report.author_id and source.beat_id == report.beat_id
            assert (source.lat, source.lon) == (report.lat, report.lon)
            assert source.occurred_at <= report.occurred_at
            roles = {link.role for link in report.people_links}
            assert not roles & {LinkRole.VICTIM, LinkRole.REPORTER}
            if isinstance(source, WelfareCheck):
                assert source.is_intelligence_raised and report.marking == SecurityMarking.OFFICIAL_SENSITIVE
                assert source.child.id in {link.person_id for link in report.people_links if link.role == "subject"}
            else:
                ours = {link.target.id for link in report.links}
                assert ours == {link.target.id for link in source.links if link.role in ("suspect", "mentioned")}
    assert raised_from[EntryKind.ASB_INCIDENT] and raised_from[EntryKind.WELFARE_CHECK]
    assert {r.marking for r in reports} == {SecurityMarking.OFFICIAL, SecurityMarking.OFFICIAL_SENSITIVE}
    assert {r.handling_code for r in reports} == set(HandlingCode)
    assert any(r.source_details for r in reports) and not all(r.source_details for r in reports)
    # The same faces and cars turn up in intelligence and in other entries: that is what links are for.
    elsewhere = {(type(link.target), link.target.id) for e in entries if not isinstance(e, IntelligenceReport)
                 for link in e.links}
    shared = [link for r in reports if r.raised_from_id is None for link in r.links
              if (type(link.target), link.target.id) in elsewhere]
    assert shared


def test_times_are_aware_ordered_and_in_the_past(app):
    seeded(app)

    now = datetime.now(timezone.utc)
    entries = all_entries()
    drafts = [e for e in entries if e.status == EntryStatus.DRAFT]
    assert 0 < len(drafts) < len(entries) * 0.2
    for entry in entries:
        times = [entry.occurred_at, entry.recorded_at, entry.updated_at]
        times += [entry.submitted_at] if entry.submitted_at else []
        times += [entry.reviewed_at] if entry.reviewed_at else []
        times += [entry.started_at, entry.ended_at] if isinstance(entry, Patrol) else []
        for value in times:
            assert value.tzinfo is not None and value.utcoffset() == timedelta(0)
            assert value <= now
        assert now - timedelta(days=62) <= entry.occurred_at <= entry.recorded_at
        assert len(entry.summary) <= 200 and entry.summary
        if entry.status != EntryStatus.DRAFT:
            assert entry.submitted_at >= entry.recorded_at
        else:
            assert entry.submitted_at is None
        for review in entry.reviews:  # decided after the submission it decides, by the demo sergeant
            assert entry.recorded_at <= review.submitted_at <= review.at <= now
            assert review.reviewer.role == Role.SUPERVISOR and review.reviewer_id != entry.author_id
        if entry.status == EntryStatus.APPROVED:
            assert entry.reviews[-1].decision == "approved" and entry.reviewed_at == entry.reviews[-1].at
        if isinstance(entry, Patrol):
            assert timedelta(minutes=30) <= entry.ended_at - entry.started_at <= timedelta(minutes=240)
            assert entry.occurred_at == entry.started_at
            if entry.status != EntryStatus.DRAFT:
                assert entry.submitted_at >= entry.ended_at
    # Drafts are the recent ones.
    assert min(d.occurred_at for d in drafts) >= sorted(e.occurred_at for e in entries)[len(entries) // 2]


def test_each_entry_has_its_created_revision_and_the_seed_is_audited(app):
    seeded(app)

    entries = all_entries()
    revisions = list(db.session.scalars(sa.select(EntryRevision)))
    created = [r for r in revisions if r.action == "created"]
    assert sorted(r.entry_id for r in created) == sorted(e.id for e in entries)
    assert all(r.actor_id == r.entry.author_id for r in created)
    # Every other revision is a review decision (by the sergeant) or a resubmission after a return (by the author).
    decisions = [r for r in revisions if r.action in ("approved", "returned")]
    reviews = list(db.session.scalars(sa.select(EntryReview)))
    assert sorted((r.entry_id, r.action) for r in decisions) == sorted((r.entry_id, r.decision) for r in reviews)
    assert {r.action for r in revisions} <= {"created", "approved", "returned", "resubmitted"}
    assert all(r.actor_id == r.entry.author_id for r in revisions if r.action == "resubmitted")
    assert {r.decision for r in reviews} == {"approved", "returned"}
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.IMPORT,
                                                          AuditEvent.object_type == "entry"))
    assert event.details["source"] == "seed-demo"
    assert sum(event.details[kind.value] for kind in EntryKind) == len(entries)


def test_running_again_replaces_the_demo_entries(app):
    seeded(app)
    first = {e.client_key for e in all_entries()}

    seeded(app, "--seed", 99)

    entries = all_entries()
    assert len(entries) == ENTRIES and not first & {e.client_key for e in entries}
    erased = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.ERASE))
    assert erased.details["count"] == ENTRIES
    assert db.session.scalar(sa.select(sa.func.count(EntryRevision.id)).where(EntryRevision.action == "created")) \
        == ENTRIES


def test_incidents_logged_on_patrol_belong_to_that_patrol(app):
    seeded(app)

    entries = all_entries()
    patrols = {e.id: e for e in entries if isinstance(e, Patrol)}
    linked = [e for e in entries if e.patrol_id is not None]
    assert linked
    for entry in linked:
        patrol = patrols[entry.patrol_id]
        assert patrol.author_id == entry.author_id and patrol.beat_id == entry.beat_id
        assert patrol.started_at <= entry.occurred_at <= patrol.ended_at
    for author in {p.author_id for p in patrols.values()}:  # one patrol at a time
        mine = sorted((p for p in patrols.values() if p.author_id == author), key=lambda p: p.started_at)
        assert all(a.ended_at <= b.started_at for a, b in zip(mine, mine[1:]))


# --- Determinism --------------------------------------------------------------------------------


def test_the_same_seed_on_the_same_day_gives_the_same_data(fresh_app, tmp_path, frozen_now):
    other = make_app(f"sqlite:///{tmp_path / 'other.sqlite'}")
    with other.app_context():
        upgrade()
    try:
        seeded(fresh_app, "--seed", 7)
        seeded(other, "--seed", 7)
        assert digest(fresh_app) == digest(other)

        seeded(other, "--seed", 8)  # and again on a demo-only database: replaced, not added to
        with other.app_context():
            assert entry_count() == ENTRIES
            db.session.rollback()
        assert digest(fresh_app) != digest(other)
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_demo_anchor_is_the_latest_six_am_utc():
    utc = timezone.utc
    assert demo_anchor(datetime(2026, 11, 22, 5, 59, tzinfo=utc)) == datetime(2026, 11, 21, 6, 0, tzinfo=utc)
    assert demo_anchor(datetime(2026, 11, 22, 6, 0, tzinfo=utc)) == datetime(2026, 11, 22, 6, 0, tzinfo=utc)
    assert demo_anchor(datetime(2026, 11, 22, 23, 0, tzinfo=utc)) == datetime(2026, 11, 22, 6, 0, tzinfo=utc)


# --- Safety ---------------------------------------------------------------------------------------


def test_if_empty_seeds_an_empty_database(fresh_app):
    result = seeded(fresh_app, "--if-empty")

    assert entry_count() == ENTRIES
    assert db.session.scalar(sa.select(sa.func.count(Beat.id))) == 21
    assert "PC1001" in result.output


def test_if_empty_does_nothing_on_a_seeded_database_but_prints_the_logins(app):
    seeded(app)
    before = digest(app), db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))

    result = invoke(app, "--if-empty", "--entries", 50)

    assert result.exit_code == 0, result.output
    assert "already present" in result.output
    assert "PC1001" in result.output and "pcso-demo-pass" in result.output
    assert (digest(app), db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))) == before


def test_seed_demo_refuses_a_database_with_a_real_user(app):
    factories.user(Role.PCSO, beats=["E05015253"], collar="PC9876")
    db.session.commit()

    result = invoke(app, "--entries", ENTRIES)

    assert result.exit_code == 1
    assert "real data" in result.output and "--force" in result.output
    assert entry_count() == 0
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1


def test_force_adds_demo_data_beside_real_data_and_deletes_none_of_it(app):
    officer = factories.user(Role.PCSO, beats=["E05015253"], collar="PC9876")
    real = factories.asb(officer, beat_code="E05015253")
    db.session.commit()

    result = invoke(app, "--entries", ENTRIES, "--force")

    assert result.exit_code == 0, result.output
    assert db.session.get(Entry, real.id) is not None
    assert entry_count() == ENTRIES + 1


def test_seed_demo_refuses_production_unless_forced(app, monkeypatch):
    monkeypatch.setitem(app.config, "BEATBOOK_ENV", "production")

    refused = invoke(app, "--entries", 10)
    assert refused.exit_code == 1 and "production" in refused.output
    assert entry_count() == 0

    forced = invoke(app, "--entries", 10, "--force")
    assert forced.exit_code == 0, forced.output
    assert entry_count() == 10


def test_the_demo_has_priorities_shifts_and_a_review_queue_with_old_items(app):
    from pcso.models import BeatPriority, Shift
    from pcso.review.services import review_queue

    seeded(app)
    pcsos = list(db.session.scalars(sa.select(User).where(User.role == Role.PCSO)))
    for pcso in pcsos:
        for beat in pcso.beats:
            priorities = db.session.scalars(sa.select(BeatPriority).where(BeatPriority.beat_id == beat.id)).all()
            assert len(priorities) == 2 and all(p.is_open and p.action_date >= p.issue_date for p in priorities)
        [shift] = db.session.scalars(sa.select(Shift).where(Shift.user_id == pcso.id)).all()
        assert shift.ended_at is not None and shift.ended_at <= utcnow()
    sergeant = db.session.scalar(sa.select(User).where(User.role == Role.SUPERVISOR))
    with app.test_request_context():
        items, total = review_queue(sergeant)
    waiting = [e for e in all_entries() if e.status == EntryStatus.SUBMITTED and e.author_id != sergeant.id]
    assert total == len(waiting) > 0  # every demo beat has the demo sergeant
    assert any(item.is_overdue for item in items) and items[0].is_oldest
    # Running again replaces the priorities and shifts too, rather than adding more.
    seeded(app)
    assert db.session.scalar(sa.select(sa.func.count(BeatPriority.id))) == 2 * sum(len(p.beats) for p in pcsos)
    assert db.session.scalar(sa.select(sa.func.count(Shift.id))) == len(pcsos)


def test_the_demo_has_case_review_applications_and_running_again_replaces_them(app):
    seeded(app, "--entries", 600)  # enough incidents for a victim to meet the threshold
    reviews = db.session.scalars(sa.select(CaseReview).order_by(CaseReview.id)).all()
    assert [r.state for r in reviews] == [CaseReviewState.RECEIVED, CaseReviewState.THRESHOLD_NOT_MET]
    received, not_met = reviews
    assert received.qualifying >= received.threshold and received.threshold_due_on > received.received_on
    assert not_met.qualifying < 3 and "the threshold in this area is 3" in not_met.threshold_reason
    assert all(r.victim is not None and r.incidents for r in reviews)
    counted = {db.session.get(Entry, i.entry_id).client_key for r in reviews for i in r.incidents}
    seeded(app, "--entries", 600, "--seed", 99)  # the demo victims go with the demo entries: their reviews first
    db.session.expire_all()
    again = db.session.scalars(sa.select(CaseReview)).all()
    assert again and not counted & {db.session.get(Entry, i.entry_id).client_key for r in again for i in r.incidents}
