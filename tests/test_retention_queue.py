"""The records manager's queue (admin only): what is due, oldest first, and each retain or dispose decision."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, RetentionDecision, Role
from pcso.timeutil import london_today
from tests import factories

LONG_AGO = datetime(2015, 3, 1, 12, tzinfo=timezone.utc)  # due in 2021/2022 under every default rule


@pytest.fixture
def admin(app):
    person = factories.user(Role.ADMIN)
    db.session.commit()
    return person


def _due(entry, days_ago: int):
    entry.review_due = london_today() - timedelta(days=days_ago)
    db.session.commit()
    return entry


def _events(action: AuditAction, object_type: str | None = None) -> list[AuditEvent]:
    query = sa.select(AuditEvent).where(AuditEvent.action == action)
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


@pytest.mark.parametrize("role", [role for role in Role if role != Role.ADMIN], ids=str)
def test_only_the_admin_role_may_open_the_queue_or_decide(app, role, memoised_hashing):
    author = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    entry = _due(factories.patrol(author, occurred_at=LONG_AGO), 10)
    someone = factories.user(role, beats=[factories.OLD_TRAFFORD])
    db.session.commit()
    browser = factories.signed_in(app, someone)
    assert browser.get("/retention").status_code == 403
    assert browser.get(f"/retention/entries/{entry.id}").status_code == 403
    refused = browser.post(f"/retention/entries/{entry.id}", data={"decision": "dispose", "rationale": "x",
                                                                   "confirm": "yes"})
    assert refused.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(RetentionDecision.id))) == 0
    assert app.test_client().get("/retention").location.startswith("/login")


def test_the_queue_lists_whats_due_oldest_first_and_pages_on(app, admin):
    author = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    newest = _due(factories.patrol(author, occurred_at=LONG_AGO), 1)
    oldest = _due(factories.asb(author, occurred_at=LONG_AGO), 30)
    person = factories.person("Sam Reed")
    person.review_due = london_today() - timedelta(days=20)
    factories.patrol(author)  # made today: due in 7 years, not listed
    db.session.commit()
    browser = factories.signed_in(app, admin)
    page = factories.soup(browser.get("/retention"))
    listed = [item["data-record"] for item in page.select("[data-testid=retention-queue] a")]
    assert listed == [f"entry-{oldest.id}", f"person-{person.id}", f"entry-{newest.id}"]
    assert "Sam Reed" not in page.get_text()  # metadata only, never a name
    # keyset pages of 25: 30 more due patrols make a second page that starts where the first ended
    for days in range(30):
        _due(factories.patrol(author, occurred_at=LONG_AGO), 100 + days)
    first = factories.soup(browser.get("/retention"))
    rows = [item["data-record"] for item in first.select("[data-testid=retention-queue] a")]
    second = factories.soup(browser.get(first.select_one("[data-testid=next-page]")["href"]))
    more = [item["data-record"] for item in second.select("[data-testid=retention-queue] a")]
    assert len(rows) == 25 and len(more) == 8 and not set(rows) & set(more)
    assert more[-3:] == listed and second.select_one("[data-testid=next-page]") is None
    assert browser.get("/retention?after=not-a-cursor").status_code == 400
    # one view event per page shown (the 400 shows none), naming what it listed, kind by kind in page order
    viewed = [event for event in _events(AuditAction.VIEW) if event.details.get("screen") == "retention-queue"]
    assert len(viewed) == 3 and all(event.details["context"] == "retention.queue" for event in viewed)
    named = viewed[-1].details["records"]
    assert {kind: shown["ids"] for kind, shown in named.items()} == {
        kind: [int(item.split("-")[1]) for item in more if item.startswith(f"{kind}-")]
        for kind in {item.split("-")[0] for item in more}}


def test_the_queue_filters_by_kind_and_group(app, admin):
    author = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    patrol = _due(factories.patrol(author, occurred_at=LONG_AGO), 5)
    welfare = _due(factories.welfare(author, occurred_at=LONG_AGO), 5)
    child = welfare.links[0].person
    child.review_due = london_today() - timedelta(days=3)
    db.session.commit()
    browser = factories.signed_in(app, admin)

    def listed(query: str) -> set[str]:
        page = factories.soup(browser.get(f"/retention?{query}"))
        return {item["data-record"] for item in page.select("[data-testid=retention-queue] a")}

    assert listed("kind=patrol") == {f"entry-{patrol.id}"}
    assert listed("kind=person") == {f"person-{child.id}"}
    assert listed("group=2") == {f"entry-{welfare.id}", f"person-{child.id}"}  # welfare-check and welfare-child
    assert listed("group=3") == {f"entry-{patrol.id}"}
    assert listed("group=1") == set()
    assert browser.get("/retention?kind=nonsense").status_code == 400
    page = factories.soup(browser.get("/retention?group=2"))
    assert len(page.select("[data-testid=safeguarding]")) == 2


def test_retain_needs_a_reason_and_a_next_review_after_today(app, admin):
    author = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    entry = _due(factories.asb(author, occurred_at=LONG_AGO), 5)
    browser = factories.signed_in(app, admin)
    url = f"/retention/entries/{entry.id}"
    page = factories.soup(browser.get(url))
    assert "ASB incident" in page.select_one("[data-testid=record-facts]").get_text()
    assert "Youths shouting" not in page.get_text() and "Test entry" not in page.get_text()  # no content
    no_reason = browser.post(url, data={"decision": "retain", "rationale": "", "next_review": "2031-01-01"})
    assert no_reason.status_code == 400
    assert "Give the reason" in factories.soup(no_reason).select_one("[data-testid=error-summary]").get_text()
    today = browser.post(url, data={"decision": "retain", "rationale": "Active ASB case",
                                    "next_review": london_today().isoformat()})
    assert today.status_code == 400 and "must be after today" in today.get_data(as_text=True)
    missing = browser.post(url, data={"decision": "retain", "rationale": "Active ASB case"})
    assert missing.status_code == 400 and "Give the date of the next review" in missing.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(RetentionDecision.id))) == 0

    done = browser.post(url, data={"decision": "retain", "rationale": "Active ASB case", "next_review": "2031-06-30"})
    assert done.location == "/retention"
    decision = db.session.scalar(sa.select(RetentionDecision))
    assert (decision.record_type, decision.record_id, decision.decision.value, decision.next_review,
            decision.decided_by_id, decision.rule, decision.mopi_group) == (
        "entry", entry.id, "retain", date(2031, 6, 30), admin.id, "asb-incident", "3")
    db.session.refresh(entry)
    assert entry.review_due == date(2031, 6, 30)  # off the queue until then
    (event,) = _events(AuditAction.REVIEW)
    assert (event.object_type, event.object_id, event.actor_id) == ("entry", entry.id, admin.id)
    assert event.details["decision"] == "retain" and event.details["next_review"] == "2031-06-30"
    assert "Active ASB case" not in str(event.details)  # the rationale lives on the decision, not in the log
    listed = factories.soup(browser.get("/retention")).select("[data-testid=retention-queue] a")
    assert f"entry-{entry.id}" not in [item["data-record"] for item in listed]


def test_dispose_asks_to_be_confirmed_and_then_waits_for_the_run(app, admin):
    author = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    entry = _due(factories.patrol(author, occurred_at=LONG_AGO), 5)
    browser = factories.signed_in(app, admin)
    url = f"/retention/entries/{entry.id}"
    asked = browser.post(url, data={"decision": "dispose", "rationale": "No policing purpose after 7 years"})
    assert asked.status_code == 200
    page = factories.soup(asked)
    assert page.select_one("[data-testid=confirm-warning]") is not None
    assert db.session.scalar(sa.select(sa.func.count(RetentionDecision.id))) == 0  # nothing until confirmed
    changed = browser.post(url, data={"decision": "dispose", "rationale": "No policing purpose", "confirm": ""})
    assert factories.soup(changed).select_one("[data-testid=decision-form]") is not None
    form = page.select_one("[data-testid=confirm-form]")
    data = {field["name"]: field["value"] for field in form.select("input[type=hidden]")} | {"confirm": "yes"}
    assert browser.post(url, data=data).location == "/retention"
    decision = db.session.scalar(sa.select(RetentionDecision))
    assert decision.decision.value == "dispose" and decision.carried_out_at is None
    assert decision.rationale == "No policing purpose after 7 years"
    assert db.session.get(type(entry), entry.id) is not None  # decided, not yet carried out
    assert _events(AuditAction.REVIEW)[-1].details["decision"] == "dispose"
    queue = factories.soup(browser.get("/retention"))
    assert queue.select_one(f"[data-record=entry-{entry.id}] [data-testid=pending]") is not None


def test_a_welfare_check_needs_the_safeguarding_leads_note_to_be_disposed_of(app, admin):
    author = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    check = _due(factories.welfare(author, occurred_at=LONG_AGO), 5)
    browser = factories.signed_in(app, admin)
    url = f"/retention/entries/{check.id}"
    page = factories.soup(browser.get(url))
    assert page.select_one("[data-testid=safeguarding-warning]") is not None
    assert "never disposed of automatically" in page.get_text()
    assert "Jordan Testchild" not in page.get_text()
    refused = browser.post(url, data={"decision": "dispose", "rationale": "Child now 30", "confirm": "yes"})
    assert refused.status_code == 400
    assert "safeguarding lead" in factories.soup(refused).select_one("[data-testid=error-summary]").get_text()
    assert db.session.scalar(sa.select(sa.func.count(RetentionDecision.id))) == 0
    data = {"decision": "dispose", "rationale": "Child now 30, no concerns since 2016",
            "safeguarding_note": "Agreed with DS Khan (safeguarding lead), 3 Dec", "confirm": "yes"}
    assert browser.post(url, data=data).location == "/retention"
    decision = db.session.scalar(sa.select(RetentionDecision))
    assert decision.safeguarding_note.startswith("Agreed with DS Khan") and decision.rule == "welfare-check"
    assert _events(AuditAction.REVIEW)[-1].details["safeguarding"] is True


def test_a_record_that_does_not_exist_is_404(app, admin):
    browser = factories.signed_in(app, admin)
    assert browser.get("/retention/entries/999999").status_code == 404
    assert browser.get("/retention/people/999999").status_code == 404


def test_a_child_named_in_a_welfare_check_needs_the_note_too(app, admin):
    author = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    check = factories.welfare(author, occurred_at=LONG_AGO)
    child = check.links[0].person
    db.session.commit()
    browser = factories.signed_in(app, admin)
    page = factories.soup(browser.get(f"/retention/people/{child.id}"))
    assert page.select_one("[data-testid=safeguarding-warning]") is not None and "welfare-child" in page.get_text()
    assert "Jordan" not in page.get_text()
    refused = browser.post(f"/retention/people/{child.id}", data={"decision": "dispose", "rationale": "Adult now",
                                                                  "confirm": "yes"})
    assert refused.status_code == 400 and db.session.scalar(sa.select(sa.func.count(RetentionDecision.id))) == 0
