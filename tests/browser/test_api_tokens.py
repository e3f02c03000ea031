"""An officer makes an API token on their phone, sees it once, uses it, and revokes it."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import check_page, login, open_menu_link


def test_pcso_makes_a_token_sees_it_once_and_revokes_it(make_user, page, live_server):
    pcso = make_user()
    login(page, pcso)
    open_menu_link(page, "API tokens")
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
    expect(page.get_by_test_id("no-tokens")).to_be_visible()

    page.get_by_label("Name").fill("Laptop sync")
    page.get_by_label("Read and write").check()
    page.get_by_label("90 days").check()
    page.get_by_role("button", name="Make token").click()
    secret_box = page.get_by_test_id("token-secret")
    expect(secret_box).to_be_visible()
    secret = secret_box.input_value()
    assert re.fullmatch(r"bb_[A-Za-z0-9_-]{40,}", secret)
    expect(page.get_by_test_id("new-token")).to_contain_text("shown only this once")
    row = page.locator("[data-token-id]").first
    expect(row).to_contain_text("Laptop sync")
    expect(row).to_contain_text(secret[:10])
    check_page(page, "70-api-token-made")

    answer = page.request.get(f"{live_server}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status == 200 and answer.json()["collar_number"] == pcso.collar_number

    page.goto("/account/tokens")
    assert secret not in page.content()  # shown once: never again
    page.get_by_role("button", name="Revoke Laptop sync").click()
    expect(page.locator(".flash")).to_contain_text("Revoked")
    expect(page.get_by_test_id("token-state")).to_contain_text("Revoked")
    check_page(page, "71-api-token-revoked")
    refused = page.request.get(f"{live_server}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status == 401
