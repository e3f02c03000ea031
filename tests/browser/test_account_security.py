"""Two-step sign-in and the password change page, on a phone (390x844)."""
from __future__ import annotations

import re
import time

import pyotp
from playwright.sync_api import expect

from pcso.models import Role
from tests.browser.conftest import check_page, flash, login, open_menu_link


def test_supervisor_sets_up_two_step_sign_in_then_signs_in_with_a_code(new_context, make_user, problems):
    problems.allow(r"status of 400 .*/login/set-up-code\]")  # the wrong code, on purpose
    supervisor = make_user(Role.SUPERVISOR, two_step=False)
    page = new_context().new_page()
    page.goto("/login")
    page.fill("#collar_number", supervisor.collar_number)
    page.fill("#password", supervisor.password)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/login/set-up-code$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-step sign-in")
    qr = page.get_by_test_id("totp-qr").locator("svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert 150 <= box["width"] <= 240 and box["x"] >= 0 and box["x"] + box["width"] <= 390, box  # scannable, on screen
    key = page.get_by_test_id("totp-key").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", key)
    check_page(page, "account-security-enrol")

    page.fill("#code", "000000")
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_test_id("error-summary")).to_contain_text("not right")
    check_page(page, "account-security-enrol-wrong-code")
    page.fill("#code", pyotp.TOTP(key).now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_test_id("whoami")).to_contain_text(supervisor.collar_number)

    page.locator("details.menu > summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.fill("#collar_number", supervisor.collar_number)
    page.fill("#password", supervisor.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/login/code$"))
    code = page.locator("#code")
    expect(code).to_have_attribute("autocomplete", "one-time-code")
    expect(code).to_have_attribute("inputmode", "numeric")
    check_page(page, "account-security-code")
    code.fill(pyotp.TOTP(key).at(time.time() + 30))  # the step used to set it up is spent
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("whoami")).to_contain_text(supervisor.collar_number)


def test_officer_changes_their_password(new_context, make_user, problems):
    problems.allow(r"status of 400 .*/account/password\]")  # the weak password, on purpose
    pcso = make_user()
    page = new_context().new_page()
    login(page, pcso)
    open_menu_link(page, "Password and sign-in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign-in security")
    check_page(page, "account-security-overview")
    page.get_by_role("link", name="Change your password").click()

    page.fill("#current", pcso.password)
    page.fill("#new", "password1234")
    page.fill("#confirm", "password1234")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_test_id("error-summary")).to_contain_text("less guessable")
    check_page(page, "account-security-password-weak")

    new = "violet tractor harbour sandwich"
    page.fill("#current", pcso.password)
    page.fill("#new", new)
    page.fill("#confirm", new)
    page.get_by_role("button", name="Change password").click()
    expect(flash(page)).to_contain_text("Your password has been changed")
    expect(page.get_by_test_id("whoami")).to_contain_text(pcso.collar_number)  # still signed in here
    check_page(page, "account-security-password-changed")

    other = new_context().new_page()
    pcso.password = new
    login(other, pcso)
