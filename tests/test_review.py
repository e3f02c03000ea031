"""Review: the queue per supervisor's beats, approve, return with a comment, correct and resubmit, grade."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import (
    AuditAction, AuditEvent, Entry, EntryReview, EntryRevision, EntryStatus, HandlingCode, Role, SecurityMarking,
)
from pcso.review.services import ReviewRejected, approve, return_to_author
from pcso.timeutil import utcnow
from tests import factories
from tests.factories import signed_in, soup

OLD_TRAFFORD = factories.OLD_TRAFFORD
ALTRINCHAM = "E05015239"
STRETFORD = "E05015256"  # a beat nobody supervises in these tests

pytestmark = pytest.mark.usefixtures("memoised_hashing")


def queue_ids(response) -> list[int]:
    return [int(a["data-entry-id"]) for a in soup(response).select("[data-testid=queue] [data-entry-id]")]


@pytest.fixture
def world(app):
    sergeant = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD], name="Sgt Old Trafford")
    other_sergeant = factories.user(Role.SUPERVISOR, beats=[ALTRINCHAM], name="Sgt Altrincham")
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD], name="Pat Beat")
    db.session.commit()
    return {"sergeant": sergeant, "other_sergeant": other_sergeant, "pcso": pcso}


def _submitted(entry: Entry, hours_ago: float) -> Entry:
    entry.submitted_at = utcnow() - timedelta(hours=hours_ago)
    return entry


def test_the_queue_holds_the_supervisors_beats_and_unsupervised_beats_oldest_first(app, world):
    pcso, sergeant = world["pcso"], world["sergeant"]
    newer = _submitted(factories.asb(pcso, OLD_TRAFFORD, summary="newer"), 2)
    oldest = _submitted(factories.asb(pcso, OLD_TRAFFORD, summary="oldest"), 100)
    unsupervised = _submitted(factories.patrol(pcso, STRETFORD, summary="unsupervised beat"), 10)
    elsewhere = _submitted(factories.asb(pcso, ALTRINCHAM, summary="Altrincham's sergeant"), 50)
    own = _submitted(factories.asb(sergeant, OLD_TRAFFORD, summary="the sergeant's own"), 60)
    factories.asb(pcso, OLD_TRAFFORD, status=EntryStatus.DRAFT)
    factories.asb(pcso, OLD_TRAFFORD, status=EntryStatus.APPROVED)
    db.session.commit()

    page = signed_in(app, sergeant).get("/review")
    assert page.status_code == 200
    assert queue_ids(page) == [oldest.id, unsupervised.id, newer.id]
    html = soup(page)
    oldest_item = html.select_one(f"[data-entry-id='{oldest.id}']")
    assert oldest_item.select_one("[data-testid=oldest]") is not None
    assert "entry-item--overdue" in oldest_item["class"]  # 100 h > the 72 h target
    assert "entry-item--overdue" not in html.select_one(f"[data-entry-id='{newer.id}']")["class"]
    assert "3 entries waiting, 1 over 72 hours" in html.select_one("[data-testid=queue-count]").get_text(" ", strip=True)

    everything = queue_ids(signed_in(app, sergeant).get("/review?scope=all"))
    assert everything == [oldest.id, elsewhere.id, unsupervised.id, newer.id]  # never their own
    assert own.id not in everything
    assert queue_ids(signed_in(app, world["other_sergeant"]).get("/review")) == [elsewhere.id, unsupervised.id]


def test_bad_scope_is_a_400(app, world):
    assert signed_in(app, world["sergeant"]).get("/review?scope=everyone").status_code == 400


def test_approve_records_the_decision_on_the_entry_and_in_the_audit_log(app, world):
    incident = factories.asb(world["pcso"], OLD_TRAFFORD)
    next_one = _submitted(factories.asb(world["pcso"], OLD_TRAFFORD), 1)
    db.session.commit()
    sergeant = signed_in(app, world["sergeant"])
    page = soup(sergeant.get(f"/entries/{incident.id}"))
    assert page.select_one("[data-testid=review-form]") is not None

    response = sergeant.post(f"/entries/{incident.id}/review", data={"decision": "approve", "comment": ""})
    assert response.status_code == 302 and response.location == f"/entries/{next_one.id}"  # on to the next
    db.session.expire_all()
    entry = db.session.get(Entry, incident.id)
    assert entry.status == EntryStatus.APPROVED
    assert entry.reviewer_id == world["sergeant"].id and entry.reviewed_at is not None
    [review] = db.session.scalars(sa.select(EntryReview)).all()
    assert (review.decision, review.entry_id, review.comment) == ("approved", incident.id, None)
    revision = db.session.scalar(sa.select(EntryRevision).where(EntryRevision.entry_id == incident.id,
                                                                EntryRevision.action == "approved"))
    assert revision.changes["status"] == ["submitted", "approved"]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.REVIEW))
    assert (event.object_id, event.actor_id, event.details["decision"]) == (incident.id, world["sergeant"].id,
                                                                            "approved")
    assert incident.id not in queue_ids(sergeant.get("/review"))
    # Approved is final: a second decision is refused and changes nothing.
    again = sergeant.post(f"/entries/{incident.id}/review", data={"decision": "return", "comment": "late"})
    assert again.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EntryReview)) == 1


def test_return_needs_a_comment_then_the_author_corrects_and_resubmits(app, world):
    incident = factories.asb(world["pcso"], OLD_TRAFFORD, summary="Noise on Shrewsbury St")
    db.session.commit()
    sergeant = signed_in(app, world["sergeant"])

    refused = sergeant.post(f"/entries/{incident.id}/review", data={"decision": "return", "comment": "  "})
    assert refused.status_code == 400
    assert "Say what the author should correct" in soup(refused).select_one("[data-testid=error-summary]").text
    db.session.expire_all()
    assert db.session.get(Entry, incident.id).status == EntryStatus.SUBMITTED

    comment = "Add the control room reference and the victim's risk level."
    assert sergeant.post(f"/entries/{incident.id}/review",
                         data={"decision": "return", "comment": comment}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Entry, incident.id).status == EntryStatus.RETURNED

    author = signed_in(app, world["pcso"])
    home = soup(author.get("/"))
    told = home.select_one("[data-testid=returned-to-me]")
    assert told is not None and str(incident.id) in told.select_one("[data-entry-id]")["data-entry-id"]
    assert "control room reference" in told.text
    detail = soup(author.get(f"/entries/{incident.id}"))
    assert comment in detail.select_one("[data-testid=returned-notice]").text
    assert author.get(f"/entries/{incident.id}/edit").status_code == 200  # the author may correct it now

    form = factories.asb_form(action="submit", summary="Noise on Shrewsbury St", control_room_ref="GMP-1234",
                              victim_risk="medium")
    response = author.post(f"/entries/{incident.id}/edit", data=form)
    assert response.status_code == 302, soup(response).select_one("[data-testid=error-summary]")
    db.session.expire_all()
    entry = db.session.get(Entry, incident.id)
    assert entry.status == EntryStatus.SUBMITTED and entry.control_room_ref == "GMP-1234"
    actions = [revision.action for revision in entry.revisions]
    assert actions[-2:] == ["returned", "resubmitted"]
    assert queue_ids(sergeant.get("/review")) == [incident.id]  # back in the queue
    assert author.get(f"/entries/{incident.id}/edit").status_code == 403  # locked again while waiting


def test_a_supervisor_never_reviews_their_own_entry(app, world):
    own = factories.asb(world["sergeant"], OLD_TRAFFORD)
    db.session.commit()
    sergeant = signed_in(app, world["sergeant"])
    assert soup(sergeant.get(f"/entries/{own.id}")).select_one("[data-testid=review-form]") is None
    assert sergeant.post(f"/entries/{own.id}/review", data={"decision": "approve"}).status_code == 403


def test_intelligence_is_graded_as_it_is_approved(app, world):
    report = factories.intel(world["pcso"], OLD_TRAFFORD, marking=SecurityMarking.OFFICIAL)
    db.session.commit()
    sergeant = signed_in(app, world["sergeant"])
    page = soup(sergeant.get(f"/entries/{report.id}"))
    assert page.select_one("input[name=source_evaluation][value='2']").has_attr("checked")

    missing = sergeant.post(f"/entries/{report.id}/review", data={
        "decision": "approve", "source_evaluation": "1", "assessment": "A", "handling_code": "C"})
    assert missing.status_code == 400
    assert "needs its conditions" in soup(missing).select_one("[data-testid=error-summary]").text

    response = sergeant.post(f"/entries/{report.id}/review", data={
        "decision": "approve", "source_evaluation": "1", "assessment": "A", "handling_code": "C",
        "handling_conditions": "Partners in the CSP only"})
    assert response.status_code == 302
    db.session.expire_all()
    graded = db.session.get(Entry, report.id)
    assert (graded.status, graded.grading) == (EntryStatus.APPROVED, "1 / A / C")
    assert graded.handling_code == HandlingCode.CONDITIONS
    assert graded.marking == SecurityMarking.OFFICIAL_SENSITIVE  # shared on conditions: need-to-know
    review = db.session.scalar(sa.select(EntryReview))
    assert review.grading == {"from": "2 / B / P", "to": "1 / A / C", "changed": True}
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.REVIEW))
    assert event.details["grade"] == "1 / A / C"
    assert "was 2 / B / P" in soup(sergeant.get(f"/entries/{report.id}")).select_one("[data-testid=reviews]").text


def test_returning_intelligence_needs_no_grade_and_a_bad_grade_is_refused(app, world):
    report = factories.intel(world["pcso"], OLD_TRAFFORD)
    db.session.commit()
    sergeant = signed_in(app, world["sergeant"])
    bad = sergeant.post(f"/entries/{report.id}/review", data={
        "decision": "approve", "source_evaluation": "9", "assessment": "A", "handling_code": "P"})
    assert bad.status_code == 400
    assert sergeant.post(f"/entries/{report.id}/review", data={
        "decision": "return", "comment": "Sanitise the second paragraph"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Entry, report.id).status == EntryStatus.RETURNED
    # While it is back with its author, they see the source details again, to correct them.
    author = signed_in(app, world["pcso"])
    assert "rings on Tuesdays" in author.get(f"/entries/{report.id}").get_data(as_text=True)


def test_an_entry_the_supervisor_may_not_see_is_a_404(app, world):
    welfare = factories.welfare(world["pcso"], beat_code=OLD_TRAFFORD)
    draft = factories.asb(world["pcso"], OLD_TRAFFORD, status=EntryStatus.DRAFT)
    db.session.commit()
    sergeant = signed_in(app, world["sergeant"])
    assert sergeant.post(f"/entries/{draft.id}/review", data={"decision": "approve"}).status_code == 404
    # Supervisors may see welfare checks, so they review them too.
    assert sergeant.post(f"/entries/{welfare.id}/review", data={"decision": "approve"}).status_code == 302


def test_the_supervisors_home_page_counts_the_queue(app, world):
    _submitted(factories.asb(world["pcso"], OLD_TRAFFORD, summary="Waiting since Tuesday"), 30)
    db.session.commit()
    home = soup(signed_in(app, world["sergeant"]).get("/"))
    summary = home.select_one("[data-testid=queue-summary]")
    assert "1 entry awaiting your review" in summary.text and "Waiting since Tuesday" in summary.text


def test_a_long_queue_is_counted_to_a_thousand_and_shows_the_oldest_first(app, world, monkeypatch):
    from pcso.review import services

    monkeypatch.setattr(services, "COUNT_CAP", 3)  # the cap, made small enough to reach in a test
    entries = [_submitted(factories.asb(world["pcso"], OLD_TRAFFORD), hours) for hours in (5, 50, 1, 20, 9)]
    db.session.commit()
    items, total = services.review_queue(world["sergeant"])
    assert total == 4  # COUNT_CAP + 1: "more than the cap"
    assert [item.entry.id for item in items] == [entries[i].id for i in (1, 3, 4, 0, 2)]  # every item, oldest first


def test_a_decision_can_be_backdated_but_not_before_the_submission(app, world):
    """The demo seed's history: approve/return at a given time, recorded on the review, entry and revision."""
    incident = _submitted(factories.asb(world["pcso"], OLD_TRAFFORD), 30)
    late = _submitted(factories.asb(world["pcso"], OLD_TRAFFORD), 30)
    db.session.flush()
    decided = incident.submitted_at + timedelta(hours=5)

    review = approve(incident, actor=world["sergeant"], at=decided)
    returned = return_to_author(late, actor=world["sergeant"], comment="Add the street", at=decided)

    assert review.at == incident.reviewed_at == incident.updated_at == decided
    assert returned.at == late.reviewed_at == decided and late.status == EntryStatus.RETURNED
    revisions = db.session.scalars(sa.select(EntryRevision).where(EntryRevision.action.in_(["approved", "returned"])))
    assert [r.at for r in revisions] == [decided, decided]
    early = _submitted(factories.asb(world["pcso"], OLD_TRAFFORD), 2)
    db.session.flush()
    with pytest.raises(ReviewRejected):
        approve(early, actor=world["sergeant"], at=early.submitted_at - timedelta(minutes=1))
    assert early.status == EntryStatus.SUBMITTED
