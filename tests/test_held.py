"""Held submissions on the web: a sealed entry the server refused is its author's to fix and submit (or discard)."""
from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, Entry, EntryKind, EntryStatus, HeldSubmission, Role
from pcso.timeutil import to_london
from tests import factories
from tests.api.helpers import bearer, key, seal, token
from tests.api.test_sealed import welfare_fields
from tests.test_entry_json import body as entry_body

OLD_TRAFFORD = factories.OLD_TRAFFORD


def send_sealed(app, person, kind: EntryKind, **extra) -> dict:
    """What the phone does: seal the entry and send it (with the author's token); returns the answer."""
    body = entry_body(kind, **extra)
    db.session.commit()
    client, secret = app.test_client(), token(person)
    found = client.get("/api/v1/seal-key", headers=bearer(secret)).get_json()
    response = client.post("/api/v1/sealed", json=seal(found, {"kind": kind.slug, "submit": True, "body": body}),
                           headers=bearer(secret, **{"Idempotency-Key": key()}))
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def posted(form) -> MultiDict:
    """A parsed form's fields as the browser would post them."""
    data = MultiDict()
    for field in form.select("input[name], textarea[name], select[name]"):
        name = field["name"]
        if field.name == "textarea":
            data.add(name, field.text)
        elif field.name == "select":
            chosen = field.select_one("option[selected]") or field.select_one("option")
            data.add(name, chosen.get("value", chosen.text) if chosen else "")
        elif field.get("type") in ("radio", "checkbox"):
            if field.has_attr("checked"):
                data.add(name, field.get("value", "y"))
        elif field.get("type") != "submit":
            data.add(name, field.get("value", ""))
    return data


@pytest.fixture
def author(app):
    person = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    return person


def test_pcso_sees_the_held_welfare_check_filled_in_with_the_servers_reasons(app, author):
    answer = send_sealed(app, author, EntryKind.WELFARE_CHECK, summary="", child_words="I'm fine, honest",
                         indicators=["new_phone"], is_seen_alone=True)
    browser = factories.signed_in(app, author)
    index = factories.soup(browser.get("/entries"))
    held_list = index.select_one("[data-testid=held-list]")
    assert held_list.select_one("h2").text == "Needs fixing: 1 held from your phone"
    assert held_list.select_one("a")["href"] == answer["url"]
    page = factories.soup(browser.get(answer["url"]))
    held = db.session.get(HeldSubmission, answer["id"])
    assert page.select_one("[data-testid=held-notice]").text.startswith(
        f"Sent from your phone at {to_london(held.created_at):%H:%M}")
    assert "could not be accepted: fix it and submit" in page.select_one("[data-testid=held-notice]").text
    form = page.select_one("form[data-entry-form]")
    assert form["action"] == "/welfare-checks/new"
    assert form.select_one("input[name=client_key]")["value"] == held.client_key
    assert form.select_one("input[name=child_name]")["value"] == "Riley Morgan"
    assert form.select_one("textarea[name=child_words]").text.strip() == "I'm fine, honest"
    assert form.select_one("input[name=is_seen_alone][value=yes]").has_attr("checked")
    assert form.select_one("input[name=indicators][value=new_phone]").has_attr("checked")
    sent_at = datetime.fromisoformat(held.data["occurred_at"])
    assert form.select_one("input[name=occurred_at]")["value"] == to_london(sent_at).strftime("%Y-%m-%dT%H:%M")
    assert "Enter a short summary" in page.select_one("[data-testid=error-summary]").text
    assert db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.object_type == "held_submission", AuditEvent.action == AuditAction.VIEW)).one().object_id == held.id


def test_pcso_fixes_the_held_entry_and_submits_it_through_the_normal_form(app, author):
    answer = send_sealed(app, author, EntryKind.WELFARE_CHECK, summary="")
    browser = factories.signed_in(app, author)
    form = factories.soup(browser.get(answer["url"])).select_one("form[data-entry-form]")
    data = posted(form)
    data["summary"], data["action"] = "Planned visit, all well", "submit"
    response = browser.post(form["action"], data=data)
    held = db.session.get(HeldSubmission, answer["id"])
    entry = db.session.scalars(sa.select(Entry)).one()
    assert response.location == f"/entries/{entry.id}"
    assert (entry.kind, entry.status, entry.client_key) == (EntryKind.WELFARE_CHECK, EntryStatus.SUBMITTED,
                                                            held.client_key)
    assert held.resolved_entry_id == entry.id and held.resolved_at is not None and held.body == "{}"
    assert factories.soup(browser.get("/entries")).select_one("[data-testid=held-list]") is None
    assert browser.get(answer["url"]).status_code == 404  # resolved: nothing left to fix


def test_people_and_vehicles_come_back_as_their_rows(app, author):
    answer = send_sealed(app, author, EntryKind.ASB_INCIDENT, description="")
    form = factories.soup(factories.signed_in(app, author).get(answer["url"])).select_one("form[data-entry-form]")
    assert form.select_one("input[name=people-0-name]")["value"] == "Sam Reed"
    assert form.select_one("select[name=people-0-role] option[selected]")["value"] == "victim"
    assert form.select_one("input[name=vehicles-0-vrm]")["value"] == "ab12 cde"


@pytest.mark.parametrize("role", [Role.PCSO, Role.SUPERVISOR])
def test_no_one_else_can_open_or_discard_a_held_entry(app, author, role):
    answer = send_sealed(app, author, EntryKind.WELFARE_CHECK, summary="")
    other = factories.user(role, beats=[OLD_TRAFFORD])
    db.session.commit()
    browser = factories.signed_in(app, other)
    assert browser.get(answer["url"]).status_code == 404
    assert browser.post(answer["url"] + "/discard").status_code == 404
    assert factories.soup(browser.get("/entries")).select_one("[data-testid=held-list]") is None
    assert not db.session.get(HeldSubmission, answer["id"]).is_resolved


def test_pcso_discards_a_held_entry_and_it_is_recorded_without_its_content(app, author):
    answer = send_sealed(app, author, EntryKind.WELFARE_CHECK, summary="", child_words="secret words")
    browser = factories.signed_in(app, author)
    response = browser.post(answer["url"] + "/discard")
    assert response.location == "/entries"
    held = db.session.get(HeldSubmission, answer["id"])
    assert held.is_resolved and held.resolved_entry_id is None and held.body == "{}"
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.ERASE)).one()
    assert (event.object_type, event.object_id, event.details) == ("held_submission", held.id,
                                                                   {"kind": "welfare_check"})
    assert browser.get(answer["url"]).status_code == 404 and db.session.scalar(sa.select(sa.func.count(Entry.id))) == 0


def test_a_held_form_comes_back_as_it_was_typed_and_is_fixed_through_the_page(app, author):
    client, secret = app.test_client(), token(author)
    found = client.get("/api/v1/seal-key", headers=bearer(secret)).get_json()
    fields = welfare_fields(author.id, summary="", child_words="Typed on the phone")
    answer = client.post("/api/v1/sealed", json=seal(found, {"kind": "welfare-checks", "submit": True, "fields": fields}),
                         headers=bearer(secret, **{"Idempotency-Key": key()})).get_json()
    browser = factories.signed_in(app, author)
    page = factories.soup(browser.get(answer["url"]))
    form = page.select_one("form[data-entry-form]")
    assert form.select_one("textarea[name=child_words]").text.strip() == "Typed on the phone"
    assert {box["value"] for box in form.select("input[name=indicators][checked]")} == {"new_phone", "drugs"}
    assert form.select_one("input[name=client_key]")["value"] == db.session.get(HeldSubmission, answer["id"]).client_key
    assert page.select_one("#summary-error").text == "Enter a short summary"
    data = posted(form)
    data["summary"], data["action"] = "Planned visit", "submit"
    entry_url = browser.post(form["action"], data=data).location
    assert db.session.get(HeldSubmission, answer["id"]).resolved_entry_id == int(entry_url.rsplit("/", 1)[1])
