"""A sergeant on a phone (390x844) records a victim's risk review from the ASB incident's page, and the
dashboard's "risk reviews due" falls by one (issue 10, item 5)."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from pcso.models import RiskLevel, Role
from tests import factories
from tests.browser.conftest import OLD_TRAFFORD, check_page, flash, login, open_menu_link
from tests.test_dashboard import asb


def two_victims_due():
    """Two high-risk victims assessed 20 and 18 days ago: both reviews fell due days ago."""
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    asb(pcso, OLD_TRAFFORD, 20, risk=RiskLevel.HIGH, victims=[factories.person("Rhea Riskvictim")])
    asb(pcso, OLD_TRAFFORD, 18, risk=RiskLevel.HIGH, victims=[factories.person("Otto Othervictim")])


def due_figure(page):
    return page.get_by_test_id("figure-risk-review-due").locator(".dash-tile__n")


def test_sergeant_records_a_risk_review_on_a_phone_and_the_dashboard_count_falls(new_context, make_user, in_db,
                                                                                problems, no_entries):
    problems.allow(r"status of 400 .*/asb-incidents/\d+/risk-reviews\]")  # the review without an outcome, refused
    in_db(two_victims_due)
    sergeant = make_user(Role.SUPERVISOR, beats=(OLD_TRAFFORD,))
    page = new_context().new_page()
    assert page.viewport_size == {"width": 390, "height": 844}
    login(page, sergeant)
    open_menu_link(page, "Dashboard")
    expect(due_figure(page)).to_have_text("2")
    due = page.get_by_test_id("risk-review-due")
    expect(due).to_contain_text("Rhea Riskvictim")
    expect(due).to_contain_text("no review since the initial assessment")

    # from the victim's line on the dashboard to the incident behind it, and its review form
    due.locator("li", has_text="Rhea Riskvictim").get_by_role("link", name=re.compile("assessed on the incident")).click()
    expect(page.get_by_test_id("result-count")).to_have_text(re.compile(r"^1 entr"))
    page.locator("a.entry-item").first.click()
    form = page.get_by_test_id("risk-review-form")
    expect(form).to_be_visible()
    expect(page.get_by_test_id("risk-latest")).to_contain_text("High risk")

    # nothing written: the form says what is missing, beside the field
    form.get_by_role("button", name="Record review").click()
    expect(page.get_by_test_id("risk-review-form").locator(".error-message").first).to_be_visible()
    expect(page.get_by_test_id("risk-review-form")).to_contain_text("Say what the review found")
    check_page(page, "80-risk-review-refused-phone")

    form = page.get_by_test_id("risk-review-form")
    form.get_by_label("Medium").check()
    form.get_by_label("Outcome").fill("Visited at home with the council's ASB officer: no incidents since.")
    form.get_by_role("button", name="Record review").click()
    expect(flash(page)).to_contain_text("Risk review recorded.")
    expect(page).to_have_url(re.compile(r"/entries/\d+#risk$"))
    history = page.get_by_test_id("risk-history")
    expect(history).to_contain_text("Review of Rhea Riskvictim")
    expect(history).to_contain_text(sergeant.display_name)
    expect(page.get_by_test_id("next-review")).to_contain_text("next review due")
    check_page(page, "81-risk-review-recorded-phone")

    # the dashboard: one due now, and it is the other victim
    open_menu_link(page, "Dashboard")
    expect(due_figure(page)).to_have_text("1")
    expect(page.get_by_test_id("risk-review-due")).not_to_contain_text("Rhea Riskvictim")
    expect(page.get_by_test_id("risk-review-due")).to_contain_text("Otto Othervictim")
    check_page(page, "82-risk-review-dashboard-phone")
