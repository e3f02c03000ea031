"""Every page each role can open fits a 390 px phone: no sideways scroll, nothing the CSP blocks."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from pcso.models import EntryStatus, HandlingCode, Role
from tests import factories
from tests.browser.conftest import OLD_TRAFFORD, beat_id, check_page, login


@pytest.mark.parametrize("role", list(Role))
def test_every_page_of_each_role_fits_a_phone(role, make_user, in_db, live_app, page):
    officer = make_user(role)
    entry_id = in_db(lambda: factories.asb(factories.user(Role.PCSO, beats=[OLD_TRAFFORD]),
                                           OLD_TRAFFORD, status=EntryStatus.SUBMITTED).id)
    intel_id = in_db(lambda: factories.intel(factories.user(Role.PCSO, beats=[OLD_TRAFFORD]), OLD_TRAFFORD,
                                             handling_code=HandlingCode.CONDITIONS,
                                             handling_conditions="Police only: not for partner agencies").id)
    login(page, officer)
    pages = {"home": "/", "tokens": "/account/tokens", "api-reference": "/api/v1/reference",
             "sign-in-security": "/account/security", "password": "/account/password"}
    if role != Role.AUDITOR:
        pages |= {"data-sources": "/data-sources", "beats": "/beats/"}
    if role in (Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING):
        pages["beat"] = f"/beats/{beat_id(live_app)}"
        pages["search"] = "/search"
        pages["entries-list"] = "/lists/entries"
    if role in (Role.SUPERVISOR, Role.ANALYST):  # bulk exports (issue 10)
        pages["export-form"] = "/lists/entries/export?kind=asb-incidents"
        pages["export-approvals"] = "/exports"
    if role in (Role.PCSO, Role.SUPERVISOR):
        pages |= {"my-entries": "/entries", "choose": "/entries/new", "patrol-form": "/patrols/new",
                  "asb-form": "/asb-incidents/new", "school-form": "/school-visits/new",
                  "welfare-form": "/welfare-checks/new", "intel-form": "/intelligence-reports/new",
                  "raise-intel-form": f"/intelligence-reports/new?from={entry_id}",
                  "briefing": "/briefing", "briefing-pdf-form": "/briefing.pdf", "dashboard": "/dashboard",
                  "suggested-patrols": "/patrols/suggested"}
    if role in (Role.PCSO, Role.SUPERVISOR, Role.ANALYST):  # ASB Case Review applications
        pages |= {"case-reviews": "/case-reviews", "case-review-victims": "/case-reviews/new"}
    if role in (Role.PCSO, Role.SUPERVISOR, Role.ANALYST):
        pages["entry"] = f"/entries/{entry_id}"
        pages["entry-pdf-form"] = f"/entries/{entry_id}/pdf"
    if role == Role.SUPERVISOR:
        pages |= {"review-queue": "/review", "priority-form": f"/beats/{beat_id(live_app)}/priorities/new"}
    if role in (Role.SUPERVISOR, Role.ANALYST):
        pages["intel"] = f"/entries/{intel_id}"  # with its source details
    if role == Role.AUDITOR:  # the audit pages, and nothing of the records themselves
        pages |= {"audit": "/audit/", "audit-record": f"/audit/records?type=entry&id={entry_id}",
                  "audit-officer": f"/audit/people?collar={officer.collar_number}", "audit-events": "/audit/events",
                  "audit-unusual": "/audit/unusual", "audit-export": "/audit/export?action=view"}
    if role == Role.ADMIN:
        pages |= {"users": "/admin/users", "user": f"/admin/users/{officer.id}",
                  "user-tokens": f"/admin/users/{officer.id}/tokens"}
    for name, url in pages.items():
        response = page.goto(url)
        assert response.status == 200, f"{role} {url} answered {response.status}"
        expect(page.get_by_test_id("current-beat")).to_be_visible()
        check_page(page, f"40-{role.value}-{name}")
