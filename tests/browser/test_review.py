"""Review in the browser: a supervisor approves one entry and returns another; the author corrects and resubmits."""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from pcso.extensions import db
from pcso.models import Entry, EntryStatus, Role
from pcso.timeutil import utcnow
from tests import factories
from tests.browser.conftest import OLD_TRAFFORD, check_page, flash, login, open_menu_link, screenshot


def test_supervisor_approves_one_returns_another_and_the_author_resubmits(live_app, new_context, make_user, in_db,
                                                                         problems, no_entries):
    problems.allow(r"status of 400 .*/entries/\d+/review\]")  # the return without a comment, refused
    author = make_user(name="Pat Walker")
    sergeant = make_user(Role.SUPERVISOR, name="Sam Sergeant")

    def two_submissions():
        pcso = db.session.get(factories.User, author.id)
        first = factories.asb(pcso, OLD_TRAFFORD, summary="Fireworks thrown at the bus stop")
        first.submitted_at = utcnow() - timedelta(days=4)
        second = factories.asb(pcso, OLD_TRAFFORD, summary="Shouting outside the chip shop")
        second.submitted_at = utcnow() - timedelta(hours=3)
        return first.id, second.id

    oldest_id, newer_id = in_db(two_submissions)

    # The supervisor starts on the queue: the oldest first, flagged.
    desk = new_context(viewport={"width": 1280, "height": 900}, is_mobile=False, has_touch=False).new_page()
    login(desk, sergeant)
    expect(desk.get_by_test_id("queue-summary")).to_contain_text("2 entries awaiting your review")
    open_menu_link(desk, "Review queue")
    items = desk.get_by_test_id("queue").locator("[data-entry-id]")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("Fireworks thrown at the bus stop")
    expect(items.first.get_by_test_id("oldest")).to_be_visible()
    expect(items.first.get_by_test_id("age")).to_contain_text("waiting 4 days")
    screenshot(desk, "review-01-queue-desk")

    items.first.click()
    desk.get_by_role("button", name="Approve").click()
    expect(flash(desk)).to_contain_text("Approved. Next, the oldest still waiting")
    expect(desk.get_by_test_id("entry-summary")).to_have_text("Shouting outside the chip shop")

    # Returning without a comment is refused with a clear message; with one, it goes back.
    desk.get_by_role("button", name="Return to author").click()
    expect(desk.get_by_test_id("error-summary")).to_contain_text("Say what the author should correct")
    desk.fill("#comment", "Which chip shop? Add the street and the time it stopped.")
    desk.get_by_role("button", name="Return to author").click()
    expect(flash(desk)).to_contain_text("Your review queue is empty")

    # The author, on the phone, is told on the home page and corrects it.
    phone = new_context().new_page()
    login(phone, author)
    returned = phone.get_by_test_id("returned-to-me")
    expect(returned).to_contain_text("1 returned to you for correction")
    expect(returned).to_contain_text("Which chip shop?")
    check_page(phone, "review-02-home-returned-phone")
    returned.get_by_role("link").click()
    expect(phone.get_by_test_id("returned-notice")).to_contain_text("Sam Sergeant")
    check_page(phone, "review-03-returned-entry-phone")
    phone.get_by_test_id("returned-notice").get_by_role("link", name="Correct it").click()
    phone.fill("#summary", "Shouting outside the Golden Fry, Shrewsbury Street, until 23:40")
    phone.get_by_role("button", name="Submit for review").click()
    expect(flash(phone)).to_contain_text("Submitted for review.")
    expect(phone.get_by_test_id("history")).to_contain_text("Resubmitted")

    def statuses():
        return {db.session.get(Entry, oldest_id).status, db.session.get(Entry, newer_id).status}

    assert in_db(statuses) == {EntryStatus.APPROVED, EntryStatus.SUBMITTED}

    # Back in the supervisor's queue, marked as a resubmission.
    desk.goto("/review")
    expect(desk.get_by_test_id("queue").locator("[data-entry-id]")).to_have_count(1)
    expect(desk.get_by_test_id("queue")).to_contain_text("Resubmitted after a return")
    expect(desk.get_by_test_id("queue")).to_contain_text("Golden Fry")
