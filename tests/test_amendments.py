"""Amending an approved entry: its author proposes (the edit form and a reason), a supervisor approves or refuses;
on approval the entry changes with a revision, stays approved and shows who amended it, when and why."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from pcso.extensions import db
from pcso.models import (
    AmendmentStatus, AsbIncident, AuditAction, AuditEvent, EntryAmendment, EntryRevision, EntryStatus, Role,
)
from tests import factories
from tests.factories import signed_in

OLD_TRAFFORD = factories.OLD_TRAFFORD
REASON = "Wrong description recorded: it was shouting and bottles thrown"

pytestmark = pytest.mark.usefixtures("memoised_hashing")


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def form_values(page: BeautifulSoup, selector: str = "form[data-entry-form]") -> dict:
    """What a browser would post from the form as it is shown (one value per name is enough here)."""
    form, data = page.select_one(selector), {}
    for field in form.select("input, textarea, select"):
        name = field.get("name")
        if not name or field.get("type") in ("file", "submit"):
            continue
        if field.name == "textarea":  # a browser drops the one newline that opens a textarea's content
            text = field.get_text()
            data[name] = text[2:] if text.startswith("\r\n") else text[1:] if text.startswith("\n") else text
        elif field.name == "select":
            chosen = field.select_one("option[selected]")
            data[name] = chosen["value"] if chosen else ""
        elif field.get("type") in ("checkbox", "radio"):
            if field.has_attr("checked"):
                data[name] = field.get("value", "y")
        else:
            data[name] = field.get("value", "")
    return data


def events(action: AuditAction) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.fixture
def approved(app):
    """An ASB incident logged through the form by a PCSO and approved by their sergeant."""
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD], name="Sam Jones")
    sergeant = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD], name="Sgt Kay Lee")
    db.session.commit()
    author = signed_in(app, pcso)
    made = author.post("/asb-incidents/new", data=factories.asb_form(description="Shouting"))
    entry_id = int(made.location.rsplit("/", 1)[1])
    supervisor = signed_in(app, sergeant)
    assert supervisor.post(f"/entries/{entry_id}/review", data={"decision": "approve"}).status_code == 302
    assert db.session.get(AsbIncident, entry_id).status == EntryStatus.APPROVED
    return {"pcso": pcso, "sergeant": sergeant, "author": author, "supervisor": supervisor, "id": entry_id}


def propose(world, **changes):
    page = soup(world["author"].get(f"/entries/{world['id']}/amend"))
    data = {**form_values(page), "action": "amend", "amendment_reason": REASON, **changes}
    return world["author"].post(f"/entries/{world['id']}/amend", data=data)


def test_the_author_of_an_approved_entry_proposes_an_amendment_and_nothing_changes_yet(app, approved):
    entry_id = approved["id"]
    page = soup(approved["author"].get(f"/entries/{entry_id}"))
    assert page.select_one("[data-testid=propose-amendment]")["href"] == f"/entries/{entry_id}/amend"
    form = soup(approved["author"].get(f"/entries/{entry_id}/amend"))
    assert form.select_one("h1").get_text(strip=True) == "Amend ASB incident"
    assert form.select_one("textarea[name=amendment_reason]") and form.select_one("[data-testid=propose-amendment]")
    assert not form.select_one("input[type=file]")  # photos are not part of an amendment

    response = propose(approved, description="Shouting and bottles thrown")
    assert response.location == f"/entries/{entry_id}", soup(response).select_one("[data-testid=error-summary]")
    entry = db.session.get(AsbIncident, entry_id)
    assert entry.description == "Shouting" and entry.status == EntryStatus.APPROVED  # unchanged until approved
    (amendment,) = db.session.scalars(sa.select(EntryAmendment)).all()
    assert (amendment.status, amendment.reason, amendment.author_id) == (AmendmentStatus.PENDING, REASON,
                                                                        approved["pcso"].id)
    assert amendment.changes == {"description": ["Shouting", "Shouting and bottles thrown"]}
    assert not [name for name, _ in amendment.form if name in ("csrf_token", "amendment_reason", "action")]
    (created,) = [e for e in events(AuditAction.CREATE) if e.object_type == "entry_amendment"]
    assert created.details == {"entry_id": entry_id, "fields": ["description"]}

    shown = soup(approved["author"].get(f"/entries/{entry_id}"))
    pending = shown.select_one("[data-testid=amendment-pending]")
    assert "Amendment waiting for a supervisor" in pending.get_text()
    assert shown.select_one("[data-testid=amendment-reason]").get_text(strip=True) == REASON
    assert "description" in shown.select_one("[data-testid=amendment-changes]").get_text()
    assert not shown.select_one("[data-testid=propose-amendment]")  # one at a time
    assert approved["author"].get(f"/entries/{entry_id}/amend").status_code == 409


@pytest.mark.parametrize("changes, problem", [
    ({"amendment_reason": "typo"}, "Say why it needs amending"),
    ({}, "Nothing is changed"),
    ({"description": "Loud", "summary": ""}, "Enter a short summary"),
])
def test_an_amendment_needs_a_reason_a_change_and_a_valid_form(app, approved, changes, problem):
    response = propose(approved, **changes)
    assert response.status_code == 400
    assert problem in " ".join(s.get_text(" ", strip=True) for s in soup(response).select("[data-testid=error-summary]"))
    assert db.session.scalars(sa.select(EntryAmendment)).all() == []


def test_only_the_author_of_an_approved_entry_may_propose(app, approved):
    colleague = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    submitted = factories.asb(approved["pcso"], OLD_TRAFFORD)
    db.session.commit()
    assert signed_in(app, colleague).get(f"/entries/{approved['id']}/amend").status_code == 403  # sees it, not theirs
    assert approved["supervisor"].get(f"/entries/{approved['id']}/amend").status_code == 403
    assert approved["author"].get(f"/entries/{submitted.id}/amend").status_code == 403  # not approved yet: edit
    assert not soup(signed_in(app, colleague).get(f"/entries/{approved['id']}")).select_one(
        "[data-testid=propose-amendment]")


def test_a_supervisor_approves_it_from_the_queue_and_the_entry_changes_and_stays_approved(app, approved):
    entry_id = approved["id"]
    propose(approved, description="Shouting and bottles thrown")
    queue = soup(approved["supervisor"].get("/review"))
    assert [int(a["data-entry-id"]) for a in queue.select("[data-testid=amendments] [data-entry-id]")] == [entry_id]
    assert approved["author"].post(f"/entries/{entry_id}/amendment", data={"decision": "approve"}).status_code == 403
    page = soup(approved["supervisor"].get(f"/entries/{entry_id}"))
    assert page.select_one("[data-testid=amendment-form]")
    decided = approved["supervisor"].post(f"/entries/{entry_id}/amendment", data={"decision": "approve"})
    assert decided.location == "/review"

    entry = db.session.get(AsbIncident, entry_id)
    assert entry.description == "Shouting and bottles thrown" and entry.status == EntryStatus.APPROVED
    revision = db.session.scalars(sa.select(EntryRevision).where(EntryRevision.entry_id == entry_id)
                                  .order_by(EntryRevision.id.desc())).first()
    assert (revision.action, revision.actor_id) == ("amended", approved["pcso"].id)
    assert revision.changes == {"description": ["Shouting", "Shouting and bottles thrown"]}
    amendment = db.session.scalars(sa.select(EntryAmendment)).one()
    assert (amendment.status, amendment.decided_by_id, amendment.revision_id) == (
        AmendmentStatus.APPROVED, approved["sergeant"].id, revision.id)
    update = [e for e in events(AuditAction.UPDATE) if e.details.get("amendment_id") == amendment.id]
    assert len(update) == 1 and update[0].actor_id == approved["sergeant"].id
    assert update[0].details == {"fields": ["description"], "amendment_id": amendment.id,
                                 "proposed_by": approved["pcso"].id}
    review = [e for e in events(AuditAction.REVIEW) if e.details.get("amendment_id") == amendment.id]
    assert len(review) == 1 and review[0].details["decision"] == "amendment_approved"

    shown = soup(approved["author"].get(f"/entries/{entry_id}"))
    amended = shown.select_one("[data-testid=amended]").get_text(" ", strip=True)
    assert amended.startswith(f"Amended on {amendment.decided_at:%d %b %Y} by Sam Jones: {REASON}")
    assert "approved by Sgt Kay Lee" in amended
    assert "Amended" in shown.select_one("[data-testid=history]").get_text()
    assert not shown.select_one("[data-testid=amendment-pending]")
    assert shown.select_one("[data-testid=propose-amendment]")  # another may follow
    assert soup(approved["supervisor"].get("/review")).select_one("[data-testid=amendments-empty]")


def test_a_refused_amendment_needs_a_reason_and_leaves_the_entry_alone(app, approved):
    entry_id = approved["id"]
    propose(approved, description="Something else entirely")
    blank = approved["supervisor"].post(f"/entries/{entry_id}/amendment", data={"decision": "refuse"})
    assert blank.status_code == 409
    assert "Say why you refuse" in soup(blank).select_one("[data-testid=amendment-form]").get_text()
    refused = approved["supervisor"].post(f"/entries/{entry_id}/amendment",
                                          data={"decision": "refuse", "comment": "The original is right"})
    assert refused.location == "/review"
    entry = db.session.get(AsbIncident, entry_id)
    assert entry.description == "Shouting" and entry.status == EntryStatus.APPROVED
    assert db.session.scalars(sa.select(EntryAmendment)).one().status == AmendmentStatus.REFUSED
    assert [e.details["decision"] for e in events(AuditAction.REVIEW) if "amendment_id" in e.details] == [
        "amendment_refused"]
    shown = soup(approved["author"].get(f"/entries/{entry_id}"))
    assert "The original is right" in shown.select_one("[data-testid=amendment-refused]").get_text()
    assert not shown.select_one("[data-testid=amended]")
    again = approved["supervisor"].post(f"/entries/{entry_id}/amendment", data={"decision": "approve"})
    assert again.status_code == 404  # nothing waits now


def test_an_amendment_is_decided_once(app, approved):
    entry_id = approved["id"]
    propose(approved, description="Shouting and bottles thrown")
    other = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD])
    db.session.commit()
    first = approved["supervisor"].post(f"/entries/{entry_id}/amendment", data={"decision": "approve"})
    second = signed_in(app, other).post(f"/entries/{entry_id}/amendment", data={"decision": "approve"})
    assert first.status_code == 302 and second.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(EntryRevision.id)).where(
        EntryRevision.entry_id == entry_id, EntryRevision.action == "amended")) == 1


def test_an_entry_timed_to_the_second_keeps_its_time_when_the_form_shows_the_same_minute(app):
    """The form gives minutes; an entry from the API or the phone has seconds: not a change to propose."""
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    entry = factories.asb(pcso, OLD_TRAFFORD, status=EntryStatus.APPROVED)
    db.session.commit()
    world = {"author": signed_in(app, pcso), "id": entry.id}
    response = propose(world, description="Youths shouting and swearing")
    assert response.status_code == 302
    amendment = db.session.scalars(sa.select(EntryAmendment)).one()
    assert amendment.changes == {"description": ["Youths shouting", "Youths shouting and swearing"]}
    shown = soup(world["author"].get(f"/entries/{entry.id}"))
    assert shown.select_one("[data-testid=amendment-changes]").get_text(" ", strip=True) == (
        "description : “Youths shouting” → “Youths shouting and swearing”")


def test_a_pcso_amending_approved_intelligence_never_sees_nor_changes_the_source(app):
    from pcso.models import IntelligenceReport

    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    sergeant = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD])
    report = factories.intel(pcso, OLD_TRAFFORD, status=EntryStatus.APPROVED)
    db.session.commit()
    world = {"author": signed_in(app, pcso), "id": report.id}
    form = world["author"].get(f"/entries/{report.id}/amend")
    assert form.status_code == 200 and "Shop worker on the precinct" not in form.get_data(as_text=True)
    assert not soup(form).select_one("[name=source_details]") and soup(form).select_one("[data-testid=source-kept]")
    response = propose(world, sanitised_text="Red Audi seen dropping off at the precinct twice")
    assert response.status_code == 302, soup(response).select_one("[data-testid=error-summary]")
    amendment = db.session.scalars(sa.select(EntryAmendment)).one()
    assert set(amendment.changes) == {"sanitised_text"}
    decided = signed_in(app, sergeant).post(f"/entries/{report.id}/amendment", data={"decision": "approve"})
    assert decided.location == "/review"
    db.session.expire_all()
    kept = db.session.get(IntelligenceReport, report.id)
    assert kept.sanitised_text.endswith("twice") and kept.source_details.startswith("Shop worker on the precinct")
    assert kept.status == EntryStatus.APPROVED
