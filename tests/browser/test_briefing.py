"""A PCSO starts the shift on the briefing, on a phone (390x844), and prints it."""
from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import expect

from pcso.extensions import db
from pcso.models import BeatPriority, EntryStatus, Role, User
from pcso.timeutil import to_london, utcnow
from tests import factories
from tests.browser.conftest import OLD_TRAFFORD, beat_id, check_page, flash, login


def test_pcso_reads_the_briefing_on_a_phone(live_app, page, make_user, in_db, no_entries):
    pcso = make_user(name="Pat Walker")
    colleague = make_user(name="Col League")
    sergeant = make_user(Role.SUPERVISOR, name="Sam Sergeant")
    old_trafford = beat_id(live_app)

    def the_night_before():
        me, other = db.session.get(User, pcso.id), db.session.get(User, colleague.id)
        now = utcnow()
        for hours in (2, 5, 9):
            incident = factories.asb(other, OLD_TRAFFORD, summary=f"Youths on bikes, Shrewsbury St ({hours} h ago)",
                                     occurred_at=now - timedelta(hours=hours))
            incident.submitted_at = now - timedelta(hours=hours - 1)
        check = factories.welfare(other, spoc=me, beat_code=OLD_TRAFFORD, child_name="Riley Brookes",
                                  occurred_at=now - timedelta(days=29),
                                  next_visit_on=to_london(now).date() - timedelta(days=1))
        check.recorded_at = check.submitted_at = now - timedelta(days=29)  # last month's visit: not new
        returned = factories.asb(me, OLD_TRAFFORD, summary="Noise complaint, Ayres Road", status=EntryStatus.RETURNED)
        returned.reviewer_id, returned.reviewed_at = sergeant.id, now
        db.session.add(BeatPriority(beat_id=old_trafford, issue="Car crime on Shrewsbury Street overnight",
                                    issue_date=date(2026, 10, 20), action="Early-morning foot patrols",
                                    action_date=to_london(now).date() + timedelta(days=5), set_by_id=sergeant.id))

    in_db(the_night_before)
    login(page, pcso)
    page.get_by_test_id("open-briefing").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Shift briefing")
    page.get_by_role("button", name="Start shift").click()
    expect(flash(page)).to_contain_text("Shift started")
    expect(page.get_by_test_id("on-shift")).to_contain_text("On shift since")

    expect(page.get_by_test_id("marking")).to_have_text("OFFICIAL-SENSITIVE")  # it names a child
    expect(page.get_by_test_id("briefing-new").locator("[data-entry-id]")).to_have_count(3)
    expect(page.get_by_test_id("briefing-returned")).to_contain_text("Noise complaint, Ayres Road")
    expect(page.get_by_test_id("briefing-priorities")).to_contain_text("Car crime on Shrewsbury Street overnight")
    welfare = page.get_by_test_id("briefing-welfare")
    expect(welfare).to_contain_text("Riley Brookes")
    expect(welfare).to_contain_text("Overdue")
    expect(page.get_by_test_id("hotspot")).to_contain_text("4 ASB incidents")  # with my returned one
    expect(page.get_by_test_id("briefing-actions")).to_contain_text("Early-morning foot patrols")
    check_page(page, "briefing-01-phone")

    # A hotspot opens the list of its incidents.
    page.get_by_test_id("hotspot").click()
    expect(page.locator("[data-entry-id]")).to_have_count(4)
    page.go_back()

    page.get_by_role("link", name="Printable PDF").click()  # a disclosure: why, and for whom (issue 10)
    expect(page.get_by_test_id("marking")).to_have_text("OFFICIAL-SENSITIVE")
    page.get_by_label("Purpose").fill("Late turn briefing for the Old Trafford team")
    page.get_by_label("Recipient").fill("Old Trafford PCSO team")
    check_page(page, "briefing-02-pdf-form")
    live_app.config["JOBS_MODE"] = "thread"  # as `make run` without Redis: the page follows the job
    try:
        page.get_by_role("button", name="Download PDF").click()
        expect(page).to_have_url(re.compile(r"/jobs/[A-Za-z0-9_-]+$"))
        expect(page.get_by_role("heading", name="Briefing PDF")).to_be_visible()
        download_button = page.get_by_role("button", name=re.compile(r"^Download briefing-.*\.pdf$"))
        expect(download_button).to_be_visible(timeout=30_000)  # the page reloads itself when the job is done
        check_page(page, "briefing-03-job-ready")
        with page.expect_download() as download:
            download_button.click()
        pdf = download.value
    finally:
        live_app.config["JOBS_MODE"] = "inline"
    assert pdf.suggested_filename.startswith("briefing-") and pdf.suggested_filename.endswith(".pdf")
    with open(pdf.path(), "rb") as handle:
        assert handle.read(4) == b"%PDF"
