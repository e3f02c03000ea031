"""On a phone: a PCSO proposes an amendment to their approved entry with a reason; their sergeant approves it
from the review queue; the entry then shows it was amended, by whom and why, and stays approved."""
from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from pcso.extensions import db
from pcso.models import AsbIncident, EntryStatus, Role
from tests import factories
from tests.browser.conftest import OLD_TRAFFORD, check_page, login, open_menu_link

REASON = "Wrong description recorded: bottles were thrown at the tram"


def test_a_pcso_amends_an_approved_entry_and_a_supervisor_approves_it(new_context, make_user, in_db, live_app,
                                                                       no_entries):
    pcso = make_user(collar="PC7201", name="Sam Jones")
    sergeant = make_user(Role.SUPERVISOR, collar="PS7202", name="Sgt Kay Lee")
    entry_id = in_db(lambda: factories.asb(db.session.get(factories.User, pcso.id), OLD_TRAFFORD,
                                           status=EntryStatus.APPROVED, summary="Youths on the tram platform").id)

    author = new_context().new_page()
    login(author, pcso)
    author.goto(f"/entries/{entry_id}")
    author.get_by_test_id("propose-amendment").click()
    expect(author.get_by_role("heading", level=1)).to_have_text("Amend ASB incident")
    expect(author.get_by_test_id("amend-notice")).to_contain_text("a supervisor approves the amendment")
    author.get_by_label("What happened?").fill("Youths shouting, and bottles thrown at the tram")
    author.get_by_label("Why it needs amending").fill(REASON)
    check_page(author, "150-pcso-amendment-form")
    author.get_by_role("button", name="Propose amendment").click()
    expect(author.locator(".flash")).to_contain_text("Amendment proposed")
    pending = author.get_by_test_id("amendment-pending")
    expect(pending).to_contain_text("Amendment waiting for a supervisor")
    expect(pending).to_contain_text(REASON)
    expect(author.get_by_test_id("amendment-changes")).to_contain_text("description")
    expect(author.get_by_test_id("propose-amendment")).to_have_count(0)
    check_page(author, "151-pcso-amendment-pending")

    supervisor = new_context().new_page()
    login(supervisor, sergeant)
    open_menu_link(supervisor, "Review queue")
    waiting = supervisor.get_by_test_id("amendments").locator(f"[data-entry-id='{entry_id}']")
    expect(waiting).to_contain_text(REASON[:40])
    check_page(supervisor, "152-supervisor-queue-with-amendment")
    waiting.click()
    expect(supervisor.get_by_test_id("amendment-changes")).to_contain_text("bottles thrown at the tram")
    check_page(supervisor, "153-supervisor-amendment-decision")
    supervisor.get_by_role("button", name="Approve amendment").click()
    expect(supervisor.locator(".flash")).to_contain_text("Amendment approved")

    author.reload()
    expect(author.get_by_test_id("amended")).to_contain_text(f"by Sam Jones: {REASON}")
    expect(author.get_by_test_id("amended")).to_contain_text("approved by Sgt Kay Lee")
    expect(author.get_by_test_id("history")).to_contain_text("Amended")
    expect(author.get_by_test_id("amendment-pending")).to_have_count(0)
    expect(author.locator(".tag--approved").first).to_have_text("Approved")
    check_page(author, "154-pcso-entry-amended")

    with live_app.app_context():
        entry = db.session.get(AsbIncident, entry_id)
        assert entry.description == "Youths shouting, and bottles thrown at the tram"
        assert entry.status == EntryStatus.APPROVED
        db.session.remove()
