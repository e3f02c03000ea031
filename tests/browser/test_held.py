"""A sealed welfare check the server refused, fixed on the phone's browser at 390x844 from "My entries"."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from pcso.extensions import db
from pcso.models import EntryKind, HeldSubmission, User, WelfareCheck
from tests.api.helpers import bearer, key, seal, token
from tests.browser.conftest import check_page, entry_id_from_url, login
from tests.test_entry_json import body as entry_body


def send_refused_welfare_check(live_app, officer) -> int:
    """What the phone does when signal returns: seal the entry (here: no summary) and send it. Held: 202."""
    with live_app.app_context():
        author = db.session.get(User, officer.id)
        body = entry_body(EntryKind.WELFARE_CHECK, summary="", child_words="I'm fine, school is OK")
        body["spoc_id"] = officer.id
        db.session.commit()
        client, secret = live_app.test_client(), token(author)
        found = client.get("/api/v1/seal-key", headers=bearer(secret)).get_json()
        response = client.post("/api/v1/sealed", json=seal(found, {"kind": "welfare-checks", "submit": True,
                                                                   "body": body}),
                               headers=bearer(secret, **{"Idempotency-Key": key()}))
        assert response.status_code == 202, response.get_json()
        held_id = response.get_json()["id"]
        db.session.remove()
    return held_id


def test_pcso_fixes_a_held_welfare_check_on_the_phone(page: Page, live_app, make_user):
    officer = make_user()
    held_id = send_refused_welfare_check(live_app, officer)
    login(page, officer)
    page.goto("/entries")
    held_list = page.get_by_test_id("held-list")
    expect(held_list.get_by_role("heading")).to_have_text("Needs fixing: 1 held from your phone")
    held_list.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/entries/held/{held_id}$"))
    expect(page.get_by_test_id("held-notice")).to_contain_text("could not be accepted: fix it and submit")
    expect(page.get_by_test_id("error-summary")).to_contain_text("Enter a short summary")
    expect(page.get_by_label("Child's name")).to_have_value("Riley Morgan")
    expect(page.get_by_label("The child's own words")).to_have_value("I'm fine, school is OK")
    check_page(page, "held-welfare-check")
    page.get_by_label("Summary").fill("Planned visit, child seen alone")
    page.get_by_role("button", name="Submit for review").click()  # the page's script fetches a fresh CSRF token first
    expect(page).to_have_url(re.compile(r"/entries/\d+$"))
    expect(page.locator(".flash")).to_contain_text("Welfare check saved.")
    entry_id = entry_id_from_url(page)
    check_page(page, "held-welfare-check-submitted")
    with live_app.app_context():
        held = db.session.get(HeldSubmission, held_id)
        assert held.resolved_entry_id == entry_id and held.body == "{}"
        assert db.session.get(WelfareCheck, entry_id).client_key == held.client_key
        db.session.remove()
    page.goto("/entries")
    expect(page.get_by_test_id("held-list")).to_have_count(0)
