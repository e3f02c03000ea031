"""The auditor on a phone: "who viewed this child's record, and why" in two taps from the home page, after a
supervisor opened the child's welfare check with a reason and its author opened it too. Each page is
screenshotted, checked for sideways scroll and run through axe-core (WCAG 2.2 AA rules)."""
from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, Role
from tests import factories
from tests.browser.conftest import OLD_TRAFFORD, check_page, login

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page: Page) -> list[str]:
    """axe-core run in the page (loaded with evaluate: the CSP blocks an injected script tag)."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})""")
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in result["violations"]]


def checked(page: Page, name: str) -> None:
    check_page(page, name)
    assert axe_violations(page) == [], name


def test_auditor_finds_who_viewed_a_childs_record_and_why_in_two_taps(live_app, new_context, make_user, in_db):
    author = make_user(name="Pat Walker")
    sergeant = make_user(Role.SUPERVISOR, name="Sam Sergeant")
    auditor = make_user(Role.AUDITOR, beats=(), name="Nadia Rahman")
    check_id = in_db(lambda: factories.welfare(db.session.get(factories.User, author.id), beat_code=OLD_TRAFFORD,
                                               child_name="Casey Childname").id)

    # The supervisor opens the child's welfare check and says why (the question is folded at the top).
    phone = new_context().new_page()
    login(phone, sergeant)
    phone.goto(f"/entries/{check_id}")
    expect(phone.get_by_text("Casey Childname").first).to_be_visible()
    question = phone.get_by_test_id("reason-inline")
    question.locator("summary").click()
    question.get_by_label("Safeguarding referral or meeting").check()
    question.get_by_label("A few words (optional)").fill("Strategy meeting tomorrow, MASH ref 77")
    checked(phone, "audit-01-reason-asked")
    question.get_by_role("button", name="Record why").click()
    expect(phone.get_by_test_id("entry-summary")).to_be_visible()
    expect(phone.get_by_test_id("reason-inline")).to_have_count(0)  # answered: not asked again this session
    phone.reload()
    expect(phone.get_by_test_id("reason-inline")).to_have_count(0)

    # Its author opens it too (not asked: their own record).
    own = new_context().new_page()
    login(own, author)
    own.goto(f"/entries/{check_id}")
    expect(own.get_by_test_id("entry-summary")).to_be_visible()
    expect(own.get_by_test_id("reason-inline")).to_have_count(0)

    # The auditor signs in on a phone: home, then two taps.
    desk = new_context().new_page()
    login(desk, auditor)
    checked(desk, "audit-02-home")
    desk.get_by_test_id("open-audit").click()  # tap 1
    recent = desk.get_by_test_id("recent-sensitive").locator(f"a[data-record-id='{check_id}']")
    expect(recent).to_contain_text(f"Welfare check #{check_id}")
    checked(desk, "audit-03-audit-home")
    recent.click()  # tap 2
    expect(desk.get_by_test_id("record-heading")).to_have_text(f"Who viewed Welfare check #{check_id}")
    rows = desk.get_by_test_id("audit-events").locator("tbody tr")
    with_reason = rows.filter(has_text="Sam Sergeant").filter(has_text="Strategy meeting tomorrow, MASH ref 77")
    expect(with_reason.first).to_contain_text("Safeguarding referral or meeting")
    expect(rows.filter(has_text="Pat Walker").first).to_contain_text("author")
    expect(desk.locator("body")).not_to_contain_text("Casey")  # metadata only, never the child
    checked(desk, "audit-04-who-viewed")

    # The unusual-access report (with a burst of refusals: ids probed that the officer may not see) and the
    # export form fit the phone too.
    in_db(lambda: db.session.add_all([AuditEvent(action=AuditAction.DENY, actor_id=author.id, object_type="entry",
                                                 object_id=check_id + n) for n in range(1, 7)]))
    desk.goto("/audit/unusual")
    expect(desk.get_by_test_id("deny-bursts")).to_contain_text("6 refused requests")
    expect(desk.get_by_test_id("deny-bursts")).to_contain_text("Pat Walker")
    checked(desk, "audit-05-unusual")
    desk.goto(f"/audit/export?type=entry&id={check_id}")
    expect(desk.get_by_test_id("export-count")).to_be_visible()
    checked(desk, "audit-06-export-form")
