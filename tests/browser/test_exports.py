"""On a phone: a PCSO filters the entry list (no export buttons: bulk exports are for supervisors and
analysts); a supervisor exports an OFFICIAL list as CSV with a purpose and recipient, and the file holds exactly
the rows asked for, marked; the export is on record as a disclosure. The OFFICIAL-SENSITIVE case, approved by a
second person, is tests/browser/test_exports_approval.py."""
from __future__ import annotations

import csv
import io
from datetime import datetime

import sqlalchemy as sa
from playwright.sync_api import expect

from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, Role, SecurityMarking
from pcso.timeutil import from_london, to_london, utcnow
from tests import factories
from tests.browser.conftest import OLD_TRAFFORD, beat_id, check_page, login, open_menu_link

ALTRINCHAM = "E05015239"


def march_2024(day: int, hour: int = 12) -> datetime:
    """Dates no other browser test uses, so the filtered list holds only this test's entries."""
    return from_london(datetime(2024, 3, day, hour))


def test_pcso_filters_the_list_and_a_supervisor_exports_it(new_context, make_user, in_db, live_app):
    me = make_user(collar="PC7001")
    sergeant = make_user(Role.SUPERVISOR, collar="PS7002")

    def world():
        colleague = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
        elsewhere = factories.user(Role.PCSO, beats=[ALTRINCHAM])
        seen = [factories.asb(colleague, OLD_TRAFFORD, occurred_at=march_2024(3), summary="Youths on the tram platform"),
                factories.asb(colleague, OLD_TRAFFORD, occurred_at=march_2024(9), summary="=1+1 graffiti on the bridge"),
                factories.asb(db.session.get(type(colleague), me.id), OLD_TRAFFORD, occurred_at=march_2024(20),
                              summary="Street drinking by the precinct")]
        hidden = [factories.asb(colleague, OLD_TRAFFORD, occurred_at=march_2024(4),
                                marking=SecurityMarking.OFFICIAL_SENSITIVE, summary="Sensitive one"),
                  factories.asb(elsewhere, ALTRINCHAM, occurred_at=march_2024(5), summary="Altrincham one"),
                  factories.welfare(colleague, beat_code=OLD_TRAFFORD, occurred_at=march_2024(6)),
                  factories.patrol(colleague, OLD_TRAFFORD, occurred_at=march_2024(7))]  # another kind
        factories.asb(colleague, OLD_TRAFFORD, occurred_at=march_2024(8), status=factories.EntryStatus.DRAFT)
        return [e.id for e in seen], [e.id for e in hidden]

    seen, hidden = in_db(world)

    page = new_context(accept_downloads=True).new_page()
    login(page, me)
    open_menu_link(page, "Entries")
    expect(page.get_by_role("heading", name="Entries", exact=True)).to_be_visible()
    page.locator(".list-filters > summary").click()  # folded away on a phone
    page.get_by_label("ASB incident", exact=True).check()
    page.get_by_label("From", exact=True).fill("2024-03-01")
    page.get_by_label("To", exact=True).fill("2024-03-31")
    check_page(page, "79-pcso-entry-list-filters-open")
    page.get_by_role("button", name="Show entries").click()

    expect(page.get_by_test_id("list-description")).to_have_text("ASB incidents · 1–31 Mar 2024")
    expect(page.get_by_test_id("result-count")).to_contain_text("3 entries")
    listed = [int(v) for v in page.locator("[data-entry-id]").evaluate_all(
        "links => links.map(a => a.dataset.entryId)")]
    assert listed == list(reversed(seen))  # newest first
    check_page(page, "80-pcso-entry-list-filtered")
    expect(page.locator(".list-exports")).to_have_count(0)  # PCSOs do not export lists

    # The supervisor sees more (the sensitive one, Altrincham): from the 8th, on Old Trafford, the list is OFFICIAL.
    page = new_context(accept_downloads=True).new_page()
    login(page, sergeant)
    page.goto(f"/lists/entries?kind=asb-incidents&beat={beat_id(live_app)}&from=2024-03-08&to=2024-03-31")
    expect(page.get_by_test_id("result-count")).to_contain_text("2 entries")
    page.get_by_role("link", name="Export CSV").click()
    expect(page.get_by_test_id("export-count")).to_have_text("2")
    expect(page.get_by_test_id("marking-reminder")).to_contain_text("This file is OFFICIAL.")
    expect(page.get_by_test_id("approval-needed")).to_have_count(0)
    page.get_by_label("Purpose").fill("ASB case review evidence for Trafford CSP")
    page.get_by_label("Recipient").fill("J Smith, Trafford Council ASB team")
    check_page(page, "81-supervisor-export-form")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export 2 entries").click()
    download = download_info.value
    assert download.suggested_filename.startswith("beatbook-entries-") and download.suggested_filename.endswith(".csv")
    body = open(download.path(), encoding="utf-8-sig").read()
    assert "ASB case review evidence" not in page.url and "Smith" not in page.url  # body only, never the URL

    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["# OFFICIAL"] and rows[-1] == ["# OFFICIAL"]
    header, *data = [row for row in rows if not row[0].startswith("#")]
    exported = {int(row[header.index("id")]): row for row in data}
    assert set(exported) == set(seen[1:]) and not set(exported) & set(hidden)
    assert exported[seen[1]][header.index("summary")] == "'=1+1 graffiti on the bridge"

    old_trafford = beat_id(live_app)
    with live_app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.DISCLOSE,
                                                               AuditEvent.actor_id == sergeant.id)).one()
        assert event.details["purpose"] == "ASB case review evidence for Trafford CSP"
        assert event.details["recipient"] == "J Smith, Trafford Council ASB team"
        assert event.details["count"] == 2 and event.details["format"] == "csv"
        assert event.details["filters"] == {"kind": ["asb-incidents"], "beat": [old_trafford],
                                             "from": "2024-03-08", "to": "2024-03-31"}
        db.session.remove()


def test_supervisor_exports_a_pdf_of_one_entry(new_context, make_user, in_db):
    supervisor = make_user(Role.SUPERVISOR)
    entry_id = in_db(lambda: factories.intel(factories.user(Role.PCSO, beats=[OLD_TRAFFORD]), OLD_TRAFFORD,
                                             summary="Grey Ford — collects youths ’late’").id)
    page = new_context(accept_downloads=True).new_page()
    login(page, supervisor)
    page.goto(f"/entries/{entry_id}")
    page.get_by_test_id("export-pdf").click()
    expect(page.get_by_test_id("marking")).to_have_text("OFFICIAL-SENSITIVE")
    page.get_by_label("Purpose").fill("Briefing pack for the tasking meeting")
    page.get_by_label("Recipient").fill("DS Patel, Trafford tasking")
    check_page(page, "82-supervisor-pdf-export-form")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"beatbook-entry-{entry_id}-{to_london(utcnow()).date().isoformat()}.pdf"
    assert open(download.path(), "rb").read(5) == b"%PDF-"
