"""The audit viewer's pages: the auditor's home and reach, by record ("who viewed this child's record, and
why"), by officer, every audit page audited, the CSV export as a disclosure, and searches from another site."""
from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, Role
from pcso.timeutil import utcnow
from tests import factories
from tests.factories import signed_in, soup

OLD_TRAFFORD = factories.OLD_TRAFFORD
pytestmark = pytest.mark.usefixtures("memoised_hashing")


def events(**where) -> list[AuditEvent]:
    clauses = [getattr(AuditEvent, name) == value for name, value in where.items()]
    return list(db.session.scalars(sa.select(AuditEvent).where(*clauses).order_by(AuditEvent.id)))


@pytest.fixture
def world(app):
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD], name="Pat Author")
    supervisor = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD], name="Sue Pervisor")
    auditor = factories.user(Role.AUDITOR, name="Nadia Rahman")
    check = factories.welfare(author, beat_code=OLD_TRAFFORD, child_name="Casey Childname")
    db.session.commit()
    return author, supervisor, auditor, check


def test_auditor_home_is_the_audit_start_and_nothing_else_opens(app, world):
    author, _, auditor, check = world
    browser = signed_in(app, auditor)
    home = soup(browser.get("/"))
    assert home.select_one("[data-testid=open-audit]")["href"] == "/audit/"
    assert home.select_one("form[data-testid=home-record]")["action"] == "/audit/records"
    menu = {a.get_text(strip=True) for a in home.select("nav[aria-label=Main] a")}
    assert menu == {"Home", "Audit log", "Unusual access", "API tokens", "Password and sign-in"}  # their own account
    assert not home.select("a[href='/data-sources']")  # the footer link too
    for url in (f"/entries/{check.id}", "/beats/", "/beats/outlines.geojson", "/data-sources", "/lists/entries",
                "/search", f"/people/{check.child.id}", "/dashboard", "/briefing"):
        assert browser.get(url).status_code == 403, url
    assert "Casey" not in browser.get(f"/audit/records?type=entry&id={check.id}").get_data(as_text=True)


def test_others_cannot_open_the_audit_pages(app, world):
    author, supervisor, _, _ = world
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    for person in (author, supervisor, admin):
        browser = signed_in(app, person)
        for url in ("/audit/", "/audit/records?type=entry&id=1", "/audit/people", "/audit/events", "/audit/unusual",
                    "/audit/export"):
            assert browser.get(url).status_code == 403, (person, url)


def test_who_viewed_this_childs_record_and_why(app, world):
    author, supervisor, auditor, check = world
    analyst = factories.user(Role.ANALYST)
    db.session.commit()
    sup = signed_in(app, supervisor)
    assert sup.get(f"/entries/{check.id}").status_code == 200  # optional: shown, and asked (folded)
    response = sup.post(f"/entries/{check.id}/reason", data={"why-reason": "safeguarding",
                                                              "why-note": "Strategy  meeting,\nref MASH/77"})
    assert response.location == f"/entries/{check.id}"
    sup.get(f"/entries/{check.id}")  # the page the reason's view was recorded for
    sup.get(f"/entries/{check.id}")  # a reload: remembered
    signed_in(app, author).get(f"/entries/{check.id}")
    listing = AuditEvent(action=AuditAction.VIEW, actor_id=analyst.id, object_type="entry",
                         details={"ids": [check.id + 1, check.id], "count": 2, "context": "beats.detail"})
    unrelated = AuditEvent(action=AuditAction.VIEW, actor_id=analyst.id, object_type="entry", object_id=check.id + 50)
    db.session.add_all([listing, unrelated])
    db.session.commit()

    home = soup(signed_in(app, auditor).get("/audit/"))
    link = home.select_one(f"[data-testid=recent-sensitive] a[data-record-id='{check.id}']")
    assert link["href"] == f"/audit/records?type=entry&id={check.id}"
    page = soup(signed_in(app, auditor).get(link["href"]))
    assert page.select_one("[data-testid=record-heading]").get_text(" ", strip=True) == f"Who viewed Welfare check #{check.id}"
    assert "Old Trafford" in page.select_one("[data-testid=record-meta]").get_text()
    rows = page.select("[data-testid=audit-events] tbody tr")
    table = [(row.select_one("[data-testid=actor]").get_text(" ", strip=True),
              row.select_one("[data-testid=why]").get_text(" ", strip=True)) for row in rows]
    reason = "Safeguarding referral or meeting: “Strategy meeting, ref MASH/77”"
    assert table == [
        (f"{analyst.display_name} ({analyst.collar_number})", ""),  # the list that showed it
        (f"Pat Author ({author.collar_number}) author", ""),  # the author is not asked
        (f"Sue Pervisor ({supervisor.collar_number})", reason),  # the reload: the note found through reason_event
        (f"Sue Pervisor ({supervisor.collar_number})", reason),  # the view the reason was given with
        (f"Sue Pervisor ({supervisor.collar_number})", ""),  # the first view, before answering
    ]
    assert rows[0].select_one("[data-testid=listed]").get_text(strip=True) == "in a list of 2 (beats.detail)"
    # a page about one record, which named the child on it too (one view event per request, pcso/audit.py)
    assert rows[1].select_one("[data-testid=listed]").get_text(strip=True) == \
        "shown with 1 entry, 1 person (entries.detail)"
    assert "Casey" not in page.get_text()
    audited = events(object_type="audit")
    assert [(e.action, e.actor_id, e.details["page"]) for e in audited] == [
        (AuditAction.VIEW, auditor.id, "home"), (AuditAction.VIEW, auditor.id, "records")]
    assert audited[1].details == {"page": "records", "terms": {"type": "entry", "id": check.id}, "results": 5}


def test_a_persons_record_brings_in_the_entries_it_is_linked_to(app, world):
    author, supervisor, auditor, check = world
    child = check.child
    profile = AuditEvent(action=AuditAction.VIEW, actor_id=supervisor.id, object_type="person", object_id=child.id)
    welfare_view = AuditEvent(action=AuditAction.VIEW, actor_id=supervisor.id, object_type="entry", object_id=check.id)
    db.session.add_all([profile, welfare_view])
    db.session.commit()
    browser = signed_in(app, auditor)
    page = soup(browser.get(f"/audit/records?type=person&id={child.id}"))
    ids = {int(row["data-event-id"]) for row in page.select("[data-testid=audit-events] tbody tr")}
    assert {profile.id, welfare_view.id} <= ids
    assert page.select_one("[data-testid=linked-entries] a")["href"] == f"/audit/records?type=entry&id={check.id}"
    alone = soup(browser.get(f"/audit/records?type=person&id={child.id}&linked=no"))
    assert {int(row["data-event-id"]) for row in alone.select("[data-testid=audit-events] tbody tr")} == {profile.id}


def test_what_did_an_officer_look_at_this_month(app, world):
    author, supervisor, auditor, check = world
    other = factories.asb(author, OLD_TRAFFORD)
    db.session.commit()
    sup = signed_in(app, supervisor)
    sup.get(f"/entries/{other.id}")
    old = AuditEvent(action=AuditAction.VIEW, actor_id=supervisor.id, object_type="entry", object_id=other.id,
                     at=utcnow().replace(day=1) - __import__("datetime").timedelta(days=3))
    db.session.add(old)
    db.session.commit()
    browser = signed_in(app, auditor)
    page = soup(browser.get(f"/audit/people?collar={supervisor.collar_number.lower()}&action=view"))
    rows = page.select("[data-testid=audit-events] tbody tr")
    assert [row.select_one("[data-testid=action]").get_text(strip=True) for row in rows] == ["view"]
    assert rows[0].select_one("a")["href"] == f"/audit/records?type=entry&id={other.id}"
    assert "ASB incident" in rows[0].get_text() and other.summary not in rows[0].get_text()  # metadata, no content
    assert browser.get("/audit/people?collar=ZZ0000").status_code == 400
    empty = soup(browser.get("/audit/people"))  # no officer chosen: the form only, nothing recorded
    assert empty.select_one("form[data-testid=audit-filters]") and not empty.select("[data-testid=audit-events]")
    assert [e.details["page"] for e in events(object_type="audit")] == ["people"]


def test_a_search_from_another_site_is_not_run(app, world):
    _, supervisor, auditor, check = world
    browser = signed_in(app, auditor)
    response = browser.get(f"/audit/people?collar={supervisor.collar_number}", headers={"Sec-Fetch-Site": "cross-site"})
    page = soup(response)
    assert response.status_code == 200 and page.select_one("[data-testid=cross-site]")
    assert not page.select("[data-testid=audit-events]")
    export = browser.post(f"/audit/export?collar={supervisor.collar_number}", headers={"Sec-Fetch-Site": "cross-site"},
                          data={"purpose": "Complaint investigation 2026/41", "recipient": "PSD case officer"})
    assert export.status_code == 400 and export.mimetype == "text/html"
    assert events(object_type="audit") == []
    same_site = browser.get(f"/audit/people?collar={supervisor.collar_number}", headers={"Sec-Fetch-Site": "same-origin"})
    assert soup(same_site).select_one("[data-testid=audit-events], [data-testid=no-events]")


def test_exporting_the_audit_results_is_a_disclosure_and_the_csv_is_safe(app, world):
    author, supervisor, auditor, check = world
    mischief = factories.user(Role.PCSO, name="=HYPERLINK(\"http://evil\",\"x\")")
    db.session.commit()
    for who in (supervisor, mischief):
        db.session.add(AuditEvent(action=AuditAction.SEARCH, actor_id=who.id, object_type="entry",
                                  details={"terms": {"q": "@SUM(1+1)"}}))
    db.session.commit()
    browser = signed_in(app, auditor)
    form = soup(browser.get("/audit/export?action=search"))
    assert form.select_one("[data-testid=export-count]").get_text(strip=True) == "2"
    assert browser.post("/audit/export?action=search", data={"purpose": "short"}).status_code == 400
    response = browser.post("/audit/export?action=search", data={
        "purpose": "Complaint investigation 2026/41", "recipient": "=cmd| PSD case officer"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert lines[0] == ["# OFFICIAL-SENSITIVE"] and lines[-1] == ["# OFFICIAL-SENSITIVE"]
    meta = {row[0]: row[1] for row in lines if row and row[0].startswith("# ") and len(row) > 1}
    assert meta["# recipient"] == "'=cmd| PSD case officer" and meta["# rows"] == "2"
    header = lines.index(["event_id", "at", "actor_collar", "actor_name", "action", "object_type", "object_id",
                          "entry_kind", "entry_beat", "entry_marking", "details"])
    data = lines[header + 1:-1]
    assert [row[2] for row in data] == [mischief.collar_number, supervisor.collar_number]
    assert data[0][3] == "'=HYPERLINK(\"http://evil\",\"x\")"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in data for cell in row)
    (disclosure,) = events(action=AuditAction.DISCLOSE)
    assert meta["# audit_event"] == str(disclosure.id)
    assert disclosure.object_type == "audit" and disclosure.actor_id == auditor.id
    assert disclosure.details["purpose"] == "Complaint investigation 2026/41"
    assert disclosure.details["recipient"] == "=cmd| PSD case officer"
    assert disclosure.details["rows"] == 2 and disclosure.details["filters"]["action"] == ["search"]


def test_the_unusual_access_page_links_each_finding_to_its_events(app, world):
    author, _, auditor, check = world
    off_beat = factories.user(Role.SUPERVISOR, beats=["E05015239"])
    db.session.commit()
    signed_in(app, off_beat).get(f"/entries/{check.id}")
    browser = signed_in(app, auditor)
    page = soup(browser.get("/audit/unusual"))
    (finding,) = page.select("[data-testid=off-beat] a")
    assert f"Welfare check #{check.id}" in finding.get_text()
    followed = soup(browser.get(finding["href"]))
    ids = [int(tr["data-event-id"]) for tr in followed.select("[data-testid=audit-events] tbody tr")]
    viewed = events(action=AuditAction.VIEW, actor_id=off_beat.id, object_type="entry")
    assert ids == [e.id for e in viewed]
    assert browser.get("/audit/unusual?from=2026-02-30").status_code == 400


def test_every_record_type_and_bad_input_answer_cleanly(app, world):
    _, _, auditor, _ = world
    from pcso.audit_viewer.queries import RECORD_TYPES

    browser = signed_in(app, auditor)
    for record_type in RECORD_TYPES:
        response = browser.get(f"/audit/records?type={record_type}&id=999999")
        assert response.status_code == 200, record_type
        assert "No such record now" in soup(response).select_one("[data-testid=record-meta]").get_text()
    for url in ("/audit/records?type=bogus&id=1", "/audit/records?id=abc", "/audit/records?type=person",
                "/audit/events?from=2026-02-30", "/audit/events?before=abc", "/audit/events?action=drop%20table",
                "/audit/records?id=1&id=2", "/audit/people?collar=" + "%00" * 20, "/audit/export?to=99999-01-01"):
        response = browser.get(url)
        assert response.status_code == 400, url
        assert soup(response).select_one("h1"), url  # the error page, with its message
