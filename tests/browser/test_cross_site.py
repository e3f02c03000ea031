"""A link on another site to a search or an export: the officer is asked first, nothing runs until they say so."""
from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent
from tests.browser.conftest import check_page, login

ELSEWHERE = "http://elsewhere.example"


def searches(in_db) -> int:
    return in_db(lambda: db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == AuditAction.SEARCH)))


def test_a_link_on_another_site_asks_before_running_a_search(page, make_user, in_db, live_server):
    officer = make_user()
    login(page, officer)
    target = f"{live_server}/lists/entries?kind=asb-incidents"
    page.route(f"{ELSEWHERE}/**", lambda route: route.fulfill(
        content_type="text/html", body=f'<!doctype html><title>Elsewhere</title><a id="go" href="{target}">Beatbook</a>'))
    before = searches(in_db)

    page.goto(f"{ELSEWHERE}/mail")
    page.click("#go")  # Chromium sends Sec-Fetch-Site: cross-site, and the Lax session cookie
    expect(page.locator("h1")).to_have_text("Open this page?")
    check_page(page, "cross-site-confirm")
    assert searches(in_db) == before

    page.get_by_test_id("confirm-navigation").click()  # now same-origin
    expect(page.locator("h1")).not_to_have_text("Open this page?")
    assert searches(in_db) == before + 1
