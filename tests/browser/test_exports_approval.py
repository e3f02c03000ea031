"""On a phone: a supervisor asks to export an OFFICIAL-SENSITIVE list; an analyst approves it from Export
approvals; the supervisor then downloads it, once. The file carries its marking, the approval and the handling
code C conditions; the request, the approval and the download are on record."""
from __future__ import annotations

import csv
import io
from datetime import datetime

import sqlalchemy as sa
from playwright.sync_api import expect

from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, HandlingCode, Role, SecurityMarking
from pcso.timeutil import from_london
from tests import factories
from tests.browser.conftest import OLD_TRAFFORD, check_page, login, open_menu_link

PURPOSE = "Problem-solving meeting on the precinct, ref 26/311"
RECIPIENT = "A Patel, Trafford CSP analyst"
CONDITIONS = "Only to the CSP analyst; not to the retailer"


def april_2024(day: int) -> datetime:
    """Dates no other browser test uses, so the filtered list holds only this test's entries."""
    return from_london(datetime(2024, 4, day, 12))


def test_a_sensitive_export_is_approved_by_a_second_person_then_downloaded_once(new_context, make_user, in_db,
                                                                                 live_app):
    sergeant = make_user(Role.SUPERVISOR, collar="PS7101", name="Sgt Asha Khan")
    analyst = make_user(Role.ANALYST, collar="AN7102", name="Jo Analyst")

    def world():
        pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
        return [factories.asb(pcso, OLD_TRAFFORD, occurred_at=april_2024(3), summary="Bins set alight").id,
                factories.asb(pcso, OLD_TRAFFORD, occurred_at=april_2024(4), summary="Threats to a shop worker",
                              marking=SecurityMarking.OFFICIAL_SENSITIVE).id,
                factories.intel(pcso, OLD_TRAFFORD, occurred_at=april_2024(5), handling_code=HandlingCode.CONDITIONS,
                                handling_conditions=CONDITIONS, summary="Grey Ford at the precinct").id]

    ids = in_db(world)

    asker = new_context(accept_downloads=True).new_page()
    login(asker, sergeant)
    asker.goto("/lists/entries?from=2024-04-01&to=2024-04-30")
    expect(asker.get_by_test_id("result-count")).to_contain_text("3 entries")
    asker.get_by_role("link", name="Export CSV").click()
    expect(asker.get_by_test_id("marking")).to_have_text("OFFICIAL-SENSITIVE")
    expect(asker.get_by_test_id("approval-needed")).to_contain_text("A second person must approve it")
    expect(asker.get_by_test_id("conditions-notice")).to_contain_text("Handling code C")
    asker.get_by_label("Purpose").fill(PURPOSE)
    asker.get_by_label("Recipient").fill(RECIPIENT)
    check_page(asker, "140-supervisor-sensitive-export-form")
    asker.get_by_role("button", name="Ask for approval to export 3 entries").click()
    expect(asker.get_by_test_id("request-status")).to_have_text("Waiting for approval")
    expect(asker.get_by_test_id("waiting")).to_be_visible()
    expect(asker.get_by_test_id("decision-form")).to_have_count(0)  # not theirs to approve
    check_page(asker, "141-supervisor-export-request-waiting")
    request_url = asker.url

    approver = new_context().new_page()
    login(approver, analyst)
    open_menu_link(approver, "Export approvals")
    waiting = approver.get_by_test_id("to-decide").locator("[data-request-id]")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text("Sgt Asha Khan")
    check_page(approver, "142-analyst-export-approvals")
    waiting.click()
    expect(approver.get_by_test_id("purpose")).to_have_text(PURPOSE)
    expect(approver.get_by_test_id("recipient")).to_have_text(RECIPIENT)
    approver.get_by_label("Comment for the requester").fill("Agreed for the CSP meeting")
    check_page(approver, "143-analyst-export-decision")
    approver.get_by_role("button", name="Approve export").click()
    expect(approver.locator(".flash")).to_contain_text("Export approved")
    expect(approver.get_by_test_id("to-decide-empty")).to_be_visible()

    asker.goto(request_url)
    expect(asker.get_by_test_id("request-status")).to_have_text("Approved")
    expect(asker.get_by_test_id("decided-by")).to_contain_text("Jo Analyst")
    check_page(asker, "144-supervisor-export-approved")
    with asker.expect_download() as download_info:
        asker.get_by_role("button", name="Download CSV").click()
    body = open(download_info.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["# OFFICIAL-SENSITIVE"] and rows[-1] == ["# OFFICIAL-SENSITIVE"]
    assert ["# approved_by", "AN7102"] in rows
    assert ["# conditions", str(ids[2]), CONDITIONS] in rows
    header, *data = [row for row in rows if not row[0].startswith("#")]
    assert {int(row[header.index("id")]) for row in data} == set(ids)

    asker.reload()
    expect(asker.get_by_test_id("request-status")).to_have_text("Downloaded")
    expect(asker.get_by_test_id("download-form")).to_have_count(0)  # once
    check_page(asker, "145-supervisor-export-downloaded")

    with live_app.app_context():
        request_id = int(request_url.rsplit("/", 1)[1])
        trail = db.session.execute(sa.select(AuditEvent.action, AuditEvent.actor_id).where(
            sa.or_(AuditEvent.object_type == "export_request",
                   AuditEvent.action == AuditAction.DISCLOSE)).where(
            sa.or_(AuditEvent.object_id == request_id, AuditEvent.actor_id == sergeant.id))
            .order_by(AuditEvent.id)).all()
        assert [(action, actor) for action, actor in trail] == [
            (AuditAction.CREATE, sergeant.id), (AuditAction.REVIEW, analyst.id), (AuditAction.DISCLOSE, sergeant.id)]
        db.session.remove()
