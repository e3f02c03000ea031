"""MoPI review on a phone: the records manager retains one record, disposes of another (confirmed), is stopped
from disposing of a welfare check without the safeguarding note; after the run the author's page answers 410."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect

from pcso.extensions import db
from pcso.models import Role
from pcso.timeutil import london_today
from tests import factories
from tests.browser.conftest import OLD_TRAFFORD, check_page, flash, login, open_menu_link

LONG_AGO = datetime(2015, 3, 1, 12, tzinfo=timezone.utc)


def test_admin_retains_one_record_and_disposes_of_another(live_app, new_context, make_user, in_db, problems,
                                                         no_entries):
    problems.allow(r"status of 400 .*/retention/entries/\d+\]")  # the welfare disposal without the note
    problems.allow(r"status of 410 .*/entries/\d+\]")  # the disposed entry's page, after the run
    author = make_user(name="Pat Walker")
    admin = make_user(Role.ADMIN, beats=(), name="Rene Records")

    def due_records():
        pcso = db.session.get(factories.User, author.id)
        made = [factories.asb(pcso, OLD_TRAFFORD, occurred_at=LONG_AGO, summary="Fireworks at the bus stop"),
                factories.patrol(pcso, OLD_TRAFFORD, occurred_at=LONG_AGO),
                factories.welfare(pcso, beat_code=OLD_TRAFFORD, occurred_at=LONG_AGO)]
        for days, entry in zip((30, 20, 10), made):
            entry.review_due = london_today() - timedelta(days=days)
        return [entry.id for entry in made]

    asb_id, patrol_id, welfare_id = in_db(due_records)
    page = new_context().new_page()
    login(page, admin)
    open_menu_link(page, "Records due for review")
    queue = page.get_by_test_id("retention-queue")
    for record_id in (asb_id, patrol_id, welfare_id):
        expect(queue.locator(f"[data-record=entry-{record_id}]")).to_be_visible()
    expect(queue.locator("a").first).to_have_attribute("data-record", f"entry-{asb_id}")  # oldest due first
    expect(queue.locator(f"[data-record=entry-{welfare_id}] [data-testid=safeguarding]")).to_be_visible()
    expect(page.get_by_text("Fireworks at the bus stop")).to_have_count(0)  # metadata only
    check_page(page, "retention-01-queue")

    # Retain the ASB incident for three more years.
    queue.locator(f"[data-record=entry-{asb_id}]").click()
    expect(page.get_by_role("heading", name=f"Review entry No. {asb_id}")).to_be_visible()
    page.get_by_label("Retain: keep it and review it again").check()
    page.fill("#rationale", "Linked to a continuing ASB problem on the estate.")
    page.fill("#next_review", (london_today() + timedelta(days=3 * 365)).isoformat())
    check_page(page, "retention-02-retain")
    page.get_by_role("button", name="Record the decision").click()
    expect(flash(page)).to_contain_text(f"Entry {asb_id}: decision recorded (retain).")
    expect(queue.locator(f"[data-record=entry-{asb_id}]")).to_have_count(0)

    # Dispose of the patrol: a confirmation first.
    queue.locator(f"[data-record=entry-{patrol_id}]").click()
    page.get_by_label("Dispose: erase its content").check()
    page.fill("#rationale", "Routine patrol log past 7 years; no policing purpose.")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_test_id("confirm-warning")).to_contain_text("can't be recovered")
    check_page(page, "retention-03-confirm")
    page.get_by_role("button", name="Confirm disposal").click()
    expect(flash(page)).to_contain_text(f"Entry {patrol_id}: decision recorded (dispose).")
    expect(queue.locator(f"[data-record=entry-{patrol_id}] [data-testid=pending]")).to_contain_text(
        "waiting for the retention run")
    check_page(page, "retention-04-pending")

    # The welfare check: warned, and refused without the safeguarding lead's note.
    queue.locator(f"[data-record=entry-{welfare_id}]").click()
    expect(page.get_by_test_id("safeguarding-warning")).to_contain_text("never disposed of automatically")
    page.get_by_label("Dispose: erase its content").check()
    page.fill("#rationale", "Child now an adult.")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_test_id("error-summary")).to_contain_text("record what the safeguarding lead said")
    check_page(page, "retention-05-safeguarding")

    # The scheduled run carries out the one recorded disposal; the author's page now says so.
    with live_app.app_context():
        result = live_app.test_cli_runner().invoke(args=["retention", "run", "--apply"])
        db.session.remove()
    assert result.exit_code == 0 and "1 disposed" in result.output, result.output
    phone = new_context().new_page()
    login(phone, author)
    response = phone.goto(f"/entries/{patrol_id}")
    assert response.status == 410
    expect(phone.locator("h1")).to_have_text("This record has been disposed of")
    expect(phone.locator("main")).to_contain_text(
        re.compile(r"disposed of under the force's retention rules on \d{2} \w+ \d{4}\."))
    check_page(phone, "retention-06-gone")
