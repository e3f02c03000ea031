"""Disposal: a recorded decision carried out by `flask retention run --apply` erases the content everywhere and
leaves a metadata-only tombstone and an erase event; the entry's pages and the API answer 410 after it."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from pcso.entries.schema import load_entry_input
from pcso.entries.services import log_entry, submit_entry, update_entry
from pcso.extensions import db
from pcso.models import (
    AmendmentStatus, AssessmentKind, AuditAction, AuditEvent, CaseReview, CaseReviewIncident, Entry, EntryAmendment,
    EntryKind, EntryReview, EntryRevision, ErasedRecord, ExportRequest, HeldSubmission, IdempotencyKey,
    IntelligenceReport, Link, Person, Photo, RetentionDecision, RetentionDecisionType, ReviewDecision, RiskAssessment,
    RiskLevel, Role, SearchDocument, StreetCrime, Vehicle, name_key,
)
from pcso.pole.services import merge_people
from pcso.retention.services import record_decision
from pcso.timeutil import london_today, utcnow
from tests import factories
from tests.api.helpers import bearer, problem, token
from tests.test_entry_json import body

WORD = "Zephyrine"  # in the erased entry's text only


def _count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _decide(record_type: str, record, admin, **extra):
    decision = record_decision(record_type, record, decision=RetentionDecisionType.DISPOSE,
                               rationale=extra.pop("rationale", "No policing purpose"), next_review=None,
                               safeguarding_note=extra.pop("safeguarding_note", None), actor=admin)
    db.session.commit()
    return decision


def _run(app, *args):
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["retention", "run", *args])
    db.session.expire_all()
    return result


def _full_text(word: str) -> list[int]:
    if db.engine.dialect.name == "sqlite":
        return list(db.session.scalars(sa.text("SELECT rowid FROM search_fts WHERE search_fts MATCH :w"), {"w": word}))
    return list(db.session.scalars(sa.text(
        "SELECT entry_id FROM search_document WHERE body_tsv @@ plainto_tsquery('english', :w)"), {"w": word}))


@pytest.fixture
def world(app):
    author = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    supervisor = factories.user(Role.SUPERVISOR, beats=[factories.OLD_TRAFFORD])
    admin = factories.user(Role.ADMIN)
    elsewhere = factories.user(Role.PCSO, beats=["E05015247"])
    entry, _ = log_entry(load_entry_input(EntryKind.ASB_INCIDENT, body(
        EntryKind.ASB_INCIDENT, summary=f"{WORD} shouting at the tram stop",
        people=[{"name": "Sam Reed", "role": "victim", "born_on": "1990-02-03"}]), str(uuid.uuid4())), actor=author)
    update_entry(entry, load_entry_input(EntryKind.ASB_INCIDENT, body(
        EntryKind.ASB_INCIDENT, summary=f"{WORD} shouting, second version",
        people=[{"name": "Sam Reed", "role": "victim", "born_on": "1990-02-03"}]), entry.client_key), actor=author)
    factories.photo(entry)
    submit_entry(entry, actor=author)
    sam = entry.links[0].person
    van = next(link.vehicle for link in entry.links if link.vehicle is not None)
    other = factories.asb(author, summary="Another incident with the van")  # keeps the van
    factories.link(other, van)
    twin = factories.person("Sam Read", born_on=date(1990, 2, 3))
    db.session.flush()
    merge_people(sam, twin, actor=supervisor, reason="Same date of birth, same address")
    db.session.add(EntryReview(entry_id=entry.id, reviewer_id=supervisor.id, decision=ReviewDecision.RETURNED,
                               comment=f"Say where {WORD} went", submitted_at=utcnow()))
    db.session.add(HeldSubmission(author_id=author.id, kind=entry.kind, client_key=entry.client_key, body="{}",
                                  errors={}, resolved_entry_id=entry.id, resolved_at=utcnow()))
    db.session.add(IdempotencyKey(user_id=author.id, key=str(uuid.uuid4()), method="POST",
                                  path="/api/v1/asb-incidents", fingerprint="f" * 64, status_code=201,
                                  response={"summary": f"{WORD} shouting"}, location=f"/api/v1/entries/{entry.id}",
                                  completed_at=utcnow()))
    raised = factories.intel(author, raised_from_id=entry.id)
    # an amendment refused (its proposed form is entry content), and Sam's risk assessments: with the incident
    # (the initial one, made by log_entry) and a review on the other incident
    db.session.add(EntryAmendment(entry_id=entry.id, author_id=author.id, reason="Wrong time",
                                  form=[["summary", f"{WORD} amended"]], changes={"summary": ["x", f"{WORD} amended"]},
                                  status=AmendmentStatus.REFUSED, decided_by_id=supervisor.id, decided_at=utcnow()))
    db.session.add(EntryAmendment(entry_id=other.id, author_id=author.id, reason="Add the victim",
                                  form=[["people-0-name", "Sam Reed"]], changes={"links": [[], ["person"]]}))
    db.session.add(RiskAssessment(incident_id=other.id, person_id=sam.id, kind=AssessmentKind.REVIEW,
                                  level=RiskLevel.HIGH, assessed_by_id=supervisor.id, assessed_at=utcnow(),
                                  outcome=f"{WORD} is safe now", next_review_on=london_today() + timedelta(days=14)))
    # an export request whose filter names Sam by id: it keeps the id (docs/RETENTION.md)
    db.session.add(ExportRequest(requester_id=supervisor.id, format="csv", filters={"person": str(sam.id)},
                                 count=1, marking="OFFICIAL", purpose="Case file", recipient="CPS"))
    beat = factories.beat(factories.OLD_TRAFFORD)
    db.session.add(StreetCrime(row_key="k" * 64, month=date(2025, 10, 1), reported_by="GMP", falls_within="GMP",
                               lat=53.46, lon=-2.26, crime_type="Anti-social behaviour", beat_id=beat.id,
                               source_file="2025-10.csv"))
    entry.review_due = london_today() - timedelta(days=3)
    db.session.commit()
    return {"author": author, "supervisor": supervisor, "admin": admin, "elsewhere": elsewhere, "entry": entry,
            "sam": sam, "twin": twin, "van": van, "other": other, "raised": raised}


def test_disposal_erases_the_content_from_every_table_and_leaves_a_tombstone(app, world):
    entry, admin = world["entry"], world["admin"]
    entry_id, sam_id, twin_id, van_id = entry.id, world["sam"].id, world["twin"].id, world["van"].id
    client_key, beat_id, raised_id = entry.client_key, entry.beat_id, world["raised"].id
    keys = [photo.storage_key for photo in entry.photos]
    photo_dir = Path(app.config["PHOTO_DIR"])
    stored = [path for key in keys for path in photo_dir.rglob(f"{key}*")]
    assert len(stored) == 2 and _full_text(WORD) == [entry_id]  # the image, its thumbnail; the search text
    assert _count(EntryRevision, EntryRevision.entry_id == entry_id) >= 2
    before = [(event.id, event.action, event.object_type, event.object_id, dict(event.details))
              for event in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))]
    crimes = _count(StreetCrime)
    assert _count(RiskAssessment, RiskAssessment.incident_id == entry_id) >= 1  # Sam's initial assessment
    assert _count(EntryAmendment, EntryAmendment.entry_id == entry_id) == 1
    decision_id = _decide("entry", entry, admin).id

    result = _run(app, "--apply")
    assert result.exit_code == 0, result.output
    assert "1 disposed (1 photo files deleted)" in result.output

    # the entry, its kind's row and everything that held its content
    assert db.session.get(Entry, entry_id) is None
    assert db.session.execute(sa.text("SELECT count(*) FROM asb_incident WHERE id = :i"), {"i": entry_id}).scalar() == 0
    assert _count(EntryRevision, EntryRevision.entry_id == entry_id) == 0
    assert _count(Link, Link.entry_id == entry_id) == 0
    assert _count(Photo, Photo.entry_id == entry_id) == 0 and not any(path.exists() for path in stored)
    assert _count(EntryReview, EntryReview.entry_id == entry_id) == 0
    assert _count(EntryAmendment, EntryAmendment.entry_id == entry_id) == 0
    assert _count(RiskAssessment, RiskAssessment.incident_id == entry_id) == 0
    assert _count(RiskAssessment, RiskAssessment.person_id == sam_id) == 0  # orphaned: the other one went too
    assert _count(SearchDocument, SearchDocument.entry_id == entry_id) == 0 and _full_text(WORD) == []
    assert _count(HeldSubmission, HeldSubmission.client_key == client_key) == 0
    assert _count(IdempotencyKey, IdempotencyKey.location == f"/api/v1/entries/{entry_id}") == 0
    # the person named only here goes, with the record merged into it; the van other entries name stays
    assert db.session.get(Person, sam_id) is None and db.session.get(Person, twin_id) is None
    assert _count(Person, Person.name_key.in_([name_key("Sam Reed"), name_key("Sam Read")])) == 0
    if db.engine.dialect.name == "sqlite":
        assert db.session.execute(sa.text("SELECT count(*) FROM person_fts WHERE person_fts MATCH 'reed'")).scalar() == 0
    assert db.session.get(Vehicle, van_id) is not None
    # the intelligence report raised from it stays, without the pointer, and says so in its revisions
    raised = db.session.get(IntelligenceReport, raised_id)
    assert raised.raised_from_id is None and raised.revisions[-1].changes["raised_from_id"] == [entry_id, None]
    # street-crime context and the audit log are untouched
    assert _count(StreetCrime) == crimes
    after = {event.id: (event.id, event.action, event.object_type, event.object_id, dict(event.details))
             for event in db.session.scalars(sa.select(AuditEvent))}
    assert all(after[row[0]] == row for row in before)

    tombstones = {(t.record_type, t.record_id): t for t in db.session.scalars(sa.select(ErasedRecord))}
    assert set(tombstones) == {("entry", entry_id), ("person", sam_id), ("person", twin_id)}
    tomb = tombstones[("entry", entry_id)]
    assert (tomb.kind, tomb.beat_id, tomb.author_id, tomb.decision_id, tomb.pending_files) == (
        EntryKind.ASB_INCIDENT, beat_id, world["author"].id, decision_id, [])
    assert tomb.created_month == utcnow().strftime("%Y-%m")
    text = " ".join(str(value) for t in tombstones.values() for value in vars(t).values())
    assert WORD not in text and "Sam" not in text
    erased = [e for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.ERASE))
              if e.object_type in ("entry", "person")]
    assert {(e.object_type, e.object_id) for e in erased} == set(tombstones)
    assert all(WORD not in str(e.details) and "Sam" not in str(e.details) for e in erased)
    assert db.session.get(RetentionDecision, decision_id).carried_out_at is not None
    assert "0 dispose decisions recorded" in _run(app).output  # carried out once


def test_after_disposal_the_pages_and_the_api_answer_410_to_those_who_could_see_it(app, world):
    entry_id = world["entry"].id
    _decide("entry", world["entry"], world["admin"])
    secret = token(world["author"])
    assert _run(app, "--apply").exit_code == 0
    for person in ("author", "supervisor"):
        browser = factories.signed_in(app, world[person])
        gone = browser.get(f"/entries/{entry_id}")
        assert gone.status_code == 410
        page = factories.soup(gone)
        assert page.select_one("h1").get_text() == "This record has been disposed of"
        assert "disposed of under the force's retention rules on" in page.get_text()
        assert browser.get(f"/entries/{entry_id}/pdf").status_code == 410
        listed = factories.soup(browser.get("/lists/entries")).select("[data-entry-id]")
        assert entry_id not in [int(a["data-entry-id"]) for a in listed]
        found = factories.soup(browser.post("/search", data={"q": WORD}, follow_redirects=True))
        assert entry_id not in [int(a["data-entry-id"]) for a in found.select("[data-entry-id]")]
    edit = factories.signed_in(app, world["author"]).get(f"/entries/{entry_id}/edit")
    assert edit.status_code == 410
    api = app.test_client().get(f"/api/v1/entries/{entry_id}", headers=bearer(secret))
    assert api.status_code == 410
    assert problem(api)["detail"].startswith("This record was disposed of under the force's retention rules on")
    # an officer on another beat could never have seen it: still 404, nothing learnt
    assert factories.signed_in(app, world["elsewhere"]).get(f"/entries/{entry_id}").status_code == 404
    # its people are gone from profiles: the van's no longer lists it
    supervisor = factories.signed_in(app, world["supervisor"])
    profile = factories.soup(supervisor.get(f"/vehicles/{world['van'].id}"))
    assert entry_id not in [int(a["data-entry-id"]) for a in profile.select("[data-entry-id]")]
    assert supervisor.get(f"/people/{world['sam'].id}").status_code == 404


def test_nothing_is_disposed_of_without_a_recorded_decision(app, world):
    result = _run(app)
    assert result.exit_code == 0
    assert "1 due, 0 disposed: disposal needs a recorded decision" in result.output
    assert "Group 3: All other offences and policing information: 1 due" in result.output
    applied = _run(app, "--apply")
    assert applied.exit_code == 0 and "1 due, 0 disposed" in applied.output
    assert db.session.get(Entry, world["entry"].id) is not None and _count(ErasedRecord) == 0


def test_a_later_retain_overtakes_a_dispose_decision(app, world):
    entry = world["entry"]
    _decide("entry", entry, world["admin"])
    record_decision("entry", entry, decision=RetentionDecisionType.RETAIN, rationale="New complaint came in",
                    next_review=date(2030, 1, 1), safeguarding_note=None, actor=world["admin"])
    db.session.commit()
    result = _run(app, "--apply")
    assert "0 dispose decisions recorded" in result.output and db.session.get(Entry, entry.id) is not None


def test_a_failure_leaves_the_record_whole(app, world, monkeypatch):
    from pcso.retention import erase

    entry_id = world["entry"].id
    links, revisions = _count(Link, Link.entry_id == entry_id), _count(EntryRevision, EntryRevision.entry_id == entry_id)
    _decide("entry", world["entry"], world["admin"])

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(erase, "_erase_pole", broken)  # fails after the entry's rows were deleted in the session
    result = _run(app, "--apply")
    assert result.exit_code == 1 and "RuntimeError, nothing of it was erased" in result.output
    assert db.session.get(Entry, entry_id) is not None
    assert _count(Link, Link.entry_id == entry_id) == links
    assert _count(EntryRevision, EntryRevision.entry_id == entry_id) == revisions
    assert _full_text(WORD) == [entry_id] and _count(ErasedRecord) == 0
    assert db.session.scalar(sa.select(RetentionDecision)).carried_out_at is None
    assert not db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.ERASE,
                                                              AuditEvent.object_type == "entry")).all()


def test_a_welfare_check_is_never_disposed_of_without_the_safeguarding_note(app, world):
    check = factories.welfare(world["author"], occurred_at=datetime(2012, 1, 5, 12, tzinfo=timezone.utc))
    check.review_due = london_today() - timedelta(days=1)
    db.session.commit()
    listed = _run(app).output
    assert "welfare-check: 1 (reviewed on its merits; child safeguarding: never automatic)" in listed
    # a decision without the note, written behind the service's back, is refused when carried out
    db.session.add(RetentionDecision(record_type="entry", record_id=check.id, decision=RetentionDecisionType.DISPOSE,
                                     rule="welfare-check", mopi_group="2", rationale="x",
                                     decided_by_id=world["admin"].id))
    db.session.commit()
    result = _run(app, "--apply")
    assert result.exit_code == 1 and "child-safeguarding record (rule welfare-check)" in result.output
    assert db.session.get(Entry, check.id) is not None
    # with the note, through the service, it goes, and the child with it
    child_id = check.links[0].person_id
    _decide("entry", db.session.get(Entry, check.id), world["admin"], safeguarding_note="Agreed with the lead")
    assert _run(app, "--apply").exit_code == 0
    assert db.session.get(Entry, check.id) is None and db.session.get(Person, child_id) is None


def test_disposing_of_a_person_takes_them_out_of_every_entry(app, world):
    sam, entry, other = world["sam"], world["entry"], world["other"]
    factories.link(other, sam, role="witness")
    db.session.commit()
    from pcso.search.index import index_entry
    index_entry(other)
    db.session.commit()
    assert "Sam Reed" in db.session.get(SearchDocument, other.id).body
    revision = sam.revision
    _decide("person", sam, world["admin"])
    result = _run(app, "--apply")
    assert result.exit_code == 0, result.output
    assert db.session.get(Person, sam.id) is None and db.session.get(Person, world["twin"].id) is None
    for kept in (entry.id, other.id):
        assert db.session.get(Entry, kept) is not None
        assert _count(Link, Link.entry_id == kept, Link.person_id == sam.id) == 0
        assert "Sam Reed" not in db.session.get(SearchDocument, kept).body
        assert "links" in db.session.get(Entry, kept).revisions[-1].changes
    assert db.session.scalar(sa.select(ErasedRecord).where(ErasedRecord.record_type == "person",
                                                           ErasedRecord.record_id == sam.id)) is not None
    # their risk assessments go, on every incident; so do the amendments of the entries that named them
    assert _count(RiskAssessment, RiskAssessment.person_id.in_([sam.id, world["twin"].id])) == 0
    assert _count(EntryAmendment, EntryAmendment.entry_id.in_([entry.id, other.id])) == 0
    assert _count(ExportRequest) == 1  # the request keeps its filter (an id, no name)
    erased = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.ERASE,
                                                           AuditEvent.object_type == "person",
                                                           AuditEvent.object_id == sam.id))
    assert erased.details["risk_assessments"] == 2 and erased.details["revision"] == revision


def test_a_disposed_patrols_entries_stay_and_new_records_never_take_an_erased_id(app, world):
    author = world["author"]
    patrol = factories.patrol(author)
    logged = factories.asb(author, patrol_id=patrol.id)
    last = factories.patrol(author)  # the highest id: SQLite would hand it out again
    db.session.commit()
    _decide("entry", patrol, world["admin"])
    _decide("entry", last, world["admin"])
    assert _run(app, "--apply").exit_code == 0
    assert db.session.get(Entry, logged.id).patrol_id is None
    assert db.session.get(Entry, logged.id).revisions[-1].changes["patrol_id"] == [patrol.id, None]
    fresh = factories.patrol(author)
    db.session.commit()
    assert fresh.id > last.id


def test_a_case_review_victim_is_disposed_of_with_their_case_reviews(app):
    """The application is about the victim throughout (applicant, reasons told, outcome): it goes with them. An
    incident disposed of that was the victim's last link takes them, and so their case review, with it."""
    from tests.test_case_reviews import BEAT, apply, complaints
    officer = factories.user(Role.PCSO, beats=[BEAT])
    admin = factories.user(Role.ADMIN)
    victim, lonely = factories.person("Vera Victim"), factories.person("Lena Alone")
    review = apply(officer, victim, complaints(officer, victim))
    (only_incident,) = complaints(officer, lonely, days_ago=(5,))
    second = apply(officer, lonely, [only_incident])  # below the threshold: decided not met, still on record
    db.session.commit()
    review_id, second_id, victim_id = review.id, second.id, victim.id
    _decide("person", victim, admin)
    _decide("entry", only_incident, admin)
    result = _run(app, "--apply")
    assert result.exit_code == 0, result.output
    assert db.session.get(Person, victim_id) is None and db.session.get(Person, lonely.id) is None
    assert _count(CaseReview) == 0 and _count(CaseReviewIncident) == 0
    for gone in (review_id, second_id):
        assert db.session.scalar(sa.select(ErasedRecord).where(ErasedRecord.record_type == "case_review",
                                                               ErasedRecord.record_id == gone)) is not None
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.ERASE,
                                                              AuditEvent.object_type == "case_review",
                                                              AuditEvent.object_id == gone))
        assert event is not None and "Vera" not in str(event.details) and "Lena" not in str(event.details)
    erased = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.ERASE,
                                                           AuditEvent.object_type == "person",
                                                           AuditEvent.object_id == victim_id))
    assert erased.details["case_reviews"] == 1
