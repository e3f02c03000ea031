"""Signing out ends the session on the server, not only in the browser."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import login


def test_pcso_cannot_reuse_the_session_cookie_after_signing_out(new_context, make_user):
    pcso = make_user()
    context = new_context()
    page = context.new_page()
    login(page, pcso)
    old_cookies = context.cookies()
    assert any(c["name"] == "beatbook_session" for c in old_cookies)

    page.locator("details.menu > summary").click()
    with page.expect_response(lambda r: r.url.endswith("/logout")) as signed_out:
        page.get_by_role("button", name="Sign out").click()
    assert signed_out.value.status == 302, f"Sign out answered {signed_out.value.status}"
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator(".flash")).to_contain_text("You have signed out.")

    replay = new_context()
    replay.add_cookies(old_cookies)
    stale = replay.new_page()
    stale.goto("/entries")
    expect(stale).to_have_url(re.compile(r"/login\?next="))
    expect(stale.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(stale.get_by_test_id("whoami")).to_have_count(0)
    stale.goto("/")
    expect(stale).to_have_url(re.compile(r"/login"))
