"""Two-person approval of OFFICIAL-SENSITIVE bulk exports, and handling code C conditions travelling with exports.

The rules (issue 10, item 5): a supervisor or analyst asks, stating purpose and recipient; a different supervisor
or analyst approves or refuses; only then does the requester download it (once, or for a configurable time);
the request, the decision (review) and the download (disclose, with the recipient) are audited; the filter is
frozen when asked for, not the data.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from pcso.extensions import db
from pcso.models import (
    AuditAction, AuditEvent, ExportRequest, ExportRequestStatus, HandlingCode, Role, SecurityMarking,
)
from pcso.timeutil import utcnow
from tests import factories
from tests.api.helpers import bearer, token
from tests.factories import signed_in
from tests.job_files import download_from_job, job_page

OLD_TRAFFORD = factories.OLD_TRAFFORD
PURPOSE = "Problem-solving meeting on the precinct, ref 26/311"
RECIPIENT = "A Patel, Trafford CSP analyst"
CONDITIONS = "=Only to the CSP analyst; not to be shared with the retailer"

pytestmark = pytest.mark.usefixtures("memoised_hashing")


def page(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def events(action: AuditAction, object_type: str | None = None) -> list[AuditEvent]:
    db.session.expire_all()
    query = sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    return list(db.session.scalars(query))


def read_csv(body: bytes) -> tuple[list[list[str]], list[dict]]:
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    meta = [row for row in rows if row and row[0].startswith("#")]
    header, *data = [row for row in rows if row and not row[0].startswith("#")]
    return meta, [dict(zip(header, row, strict=True)) for row in data]


@pytest.fixture
def team(app):
    """Two supervisors and an analyst; an OFFICIAL ASB incident, an OFFICIAL-SENSITIVE one, and intelligence with
    handling code C."""
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    people = {
        "pcso": pcso,
        "sergeant": factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD], collar="PS5001"),
        "other_sergeant": factories.user(Role.SUPERVISOR, collar="PS5002"),
        "analyst": factories.user(Role.ANALYST, collar="AN5003"),
    }
    ids = {
        "asb": factories.asb(pcso, OLD_TRAFFORD, summary="Bins set alight").id,
        "sensitive": factories.asb(pcso, OLD_TRAFFORD, summary="Threats to a shop worker",
                                   marking=SecurityMarking.OFFICIAL_SENSITIVE).id,
        "intel": factories.intel(pcso, OLD_TRAFFORD, handling_code=HandlingCode.CONDITIONS,
                                 handling_conditions=CONDITIONS).id,
    }
    db.session.commit()
    return people, ids


def ask(browser, query: str = "kind=asb-incidents", fmt: str = "csv"):
    return browser.post(f"/lists/entries/export?{query}", data={"format": fmt, "purpose": PURPOSE,
                                                                 "recipient": RECIPIENT})


def request_id_of(response) -> int:
    assert response.status_code == 302 and response.location.startswith("/exports/"), response.status_code
    return int(response.location.rsplit("/", 1)[1])


def test_a_sensitive_export_is_a_request_no_file_and_no_disclosure_until_approved(app, team):
    people, _ = team
    browser = signed_in(app, people["sergeant"])
    response = ask(browser)
    request_id = request_id_of(response)
    assert events(AuditAction.DISCLOSE) == []
    (created,) = events(AuditAction.CREATE, "export_request")
    assert (created.object_id, created.actor_id) == (request_id, people["sergeant"].id)
    assert created.details == {"format": "csv", "filters": {"kind": ["asb-incidents"]}, "count": 2,
                               "marking": "OFFICIAL-SENSITIVE", "conditions_apply": 0}
    asked = db.session.get(ExportRequest, request_id)
    assert (asked.status, asked.purpose, asked.recipient, asked.filters, asked.count) == (
        ExportRequestStatus.PENDING, PURPOSE, RECIPIENT, {"kind": ["asb-incidents"]}, 2)

    shown = page(browser.get(f"/exports/{request_id}"))
    assert shown.select_one("[data-testid=request-status]").get_text(strip=True) == "Waiting for approval"
    assert shown.select_one("[data-testid=waiting]") and not shown.select_one("[data-testid=download-form]")
    assert not shown.select_one("[data-testid=decision-form]")  # not theirs to decide
    early = browser.post(f"/exports/{request_id}/download")
    assert early.status_code == 409 and early.mimetype == "text/html"
    assert events(AuditAction.DISCLOSE) == []


def test_the_requester_cannot_approve_their_own_export(app, team):
    people, _ = team
    browser = signed_in(app, people["sergeant"])
    request_id = request_id_of(ask(browser))
    assert browser.post(f"/exports/{request_id}/decision", data={"decision": "approve"}).status_code == 403
    assert db.session.get(ExportRequest, request_id).status == ExportRequestStatus.PENDING
    assert events(AuditAction.REVIEW) == []
    queue = page(browser.get("/exports"))
    assert not queue.select("[data-testid=to-decide] [data-request-id]")  # own requests wait for someone else
    assert [int(a["data-request-id"]) for a in queue.select("[data-testid=mine] [data-request-id]")] == [request_id]


@pytest.mark.parametrize("approver", ["other_sergeant", "analyst"])
def test_a_second_person_approves_then_the_requester_downloads_once(app, team, approver):
    people, ids = team
    requester = signed_in(app, people["sergeant"])
    request_id = request_id_of(ask(requester))

    second = signed_in(app, people[approver])
    queue = page(second.get("/exports"))
    assert [int(a["data-request-id"]) for a in queue.select("[data-testid=to-decide] [data-request-id]")] == [request_id]
    shown = page(second.get(f"/exports/{request_id}"))
    assert shown.select_one("[data-testid=purpose]").get_text(strip=True) == PURPOSE
    assert shown.select_one("[data-testid=recipient]").get_text(strip=True) == RECIPIENT
    assert shown.select_one("[data-testid=decision-form]")
    decided = second.post(f"/exports/{request_id}/decision", data={"decision": "approve", "comment": "Agreed"})
    assert decided.location == "/exports"
    (review,) = events(AuditAction.REVIEW, "export_request")
    assert (review.object_id, review.actor_id) == (request_id, people[approver].id)
    assert review.details["decision"] == "approved" and review.details["requester_id"] == people["sergeant"].id
    assert review.details["count"] == 2 and review.details["marking"] == "OFFICIAL-SENSITIVE"
    assert "recipient" not in review.details  # free text: on the request, and on the download's disclosure
    assert review.details["filters"] == {"kind": ["asb-incidents"]} and review.details["expires_at"]
    assert events(AuditAction.DISCLOSE) == []  # approval is not yet a disclosure

    assert second.post(f"/exports/{request_id}/download").status_code == 409  # the approver can't take the file
    assert page(requester.get(f"/exports/{request_id}")).select_one("[data-testid=download-form]")
    response = requester.post(f"/exports/{request_id}/download")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    meta, rows = read_csv(response.get_data())
    assert {int(row["id"]) for row in rows} == {ids["asb"], ids["sensitive"]}
    assert meta[0] == ["# OFFICIAL-SENSITIVE"]
    assert ["# export_request", str(request_id)] in meta
    assert ["# approved_by", people[approver].collar_number] in meta
    (disclosure,) = events(AuditAction.DISCLOSE)
    assert disclosure.actor_id == people["sergeant"].id
    assert disclosure.details["recipient"] == RECIPIENT and disclosure.details["purpose"] == PURPOSE
    assert disclosure.details["export_request"] == request_id
    assert disclosure.details["approved_by"] == people[approver].id
    assert ["# audit_event", str(disclosure.id)] in meta

    again = requester.post(f"/exports/{request_id}/download")  # approved for one download
    assert again.status_code == 409 and "downloaded already" in again.get_data(as_text=True)
    assert len(events(AuditAction.DISCLOSE)) == 1
    assert db.session.get(ExportRequest, request_id).status == ExportRequestStatus.DOWNLOADED


def test_a_refusal_needs_a_reason_and_stops_the_download(app, team):
    people, _ = team
    requester = signed_in(app, people["sergeant"])
    request_id = request_id_of(ask(requester))
    second = signed_in(app, people["analyst"])
    blank = second.post(f"/exports/{request_id}/decision", data={"decision": "refuse", "comment": "  "})
    assert blank.status_code == 409
    assert "Say why you refuse it" in page(blank).select_one("[data-testid=error-summary]").get_text()
    assert second.post(f"/exports/{request_id}/decision", data={}).status_code == 400  # no decision chosen
    refused = second.post(f"/exports/{request_id}/decision", data={"decision": "refuse",
                                                                   "comment": "Send a summary instead"})
    assert refused.location == "/exports"
    (review,) = events(AuditAction.REVIEW, "export_request")
    assert review.details["decision"] == "refused" and review.details["commented"] is True
    shown = page(requester.get(f"/exports/{request_id}"))
    assert shown.select_one("[data-testid=request-status]").get_text(strip=True) == "Refused"
    assert shown.select_one("[data-testid=decision-comment]").get_text(strip=True) == "Send a summary instead"
    assert requester.post(f"/exports/{request_id}/download").status_code == 409
    # and once decided, no one decides again
    third = signed_in(app, people["other_sergeant"])
    assert third.post(f"/exports/{request_id}/decision", data={"decision": "approve"}).status_code == 409
    assert events(AuditAction.DISCLOSE) == [] and len(events(AuditAction.REVIEW)) == 1


def test_an_approval_can_allow_several_downloads_until_it_expires(app, team, monkeypatch):
    people, _ = team
    monkeypatch.setitem(app.config, "EXPORT_APPROVAL_SINGLE_USE", False)
    requester = signed_in(app, people["sergeant"])
    request_id = request_id_of(ask(requester))
    signed_in(app, people["analyst"]).post(f"/exports/{request_id}/decision", data={"decision": "approve"})
    assert requester.post(f"/exports/{request_id}/download").status_code == 200
    assert requester.post(f"/exports/{request_id}/download").status_code == 200
    assert len(events(AuditAction.DISCLOSE)) == 2  # each download is a disclosure
    asked = db.session.get(ExportRequest, request_id)
    asked.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    late = requester.post(f"/exports/{request_id}/download")
    assert late.status_code == 409 and "expired" in late.get_data(as_text=True)
    assert len(events(AuditAction.DISCLOSE)) == 2


def test_the_filter_is_frozen_when_asked_for_and_the_data_read_when_downloaded(app, team):
    people, ids = team
    requester = signed_in(app, people["sergeant"])
    request_id = request_id_of(ask(requester))
    later = factories.asb(people["pcso"], OLD_TRAFFORD, summary="Logged after the request")  # matches the filter
    changed = db.session.get(type(later), ids["asb"])
    changed.summary = "Bins set alight (corrected)"
    db.session.commit()
    signed_in(app, people["analyst"]).post(f"/exports/{request_id}/decision", data={"decision": "approve"})
    _, rows = read_csv(requester.post(f"/exports/{request_id}/download").get_data())
    assert {int(row["id"]) for row in rows} == {ids["asb"], ids["sensitive"]}  # nothing logged since
    assert {row["summary"] for row in rows} == {"Bins set alight (corrected)", "Threats to a shop worker"}


def test_an_official_export_needs_no_approval(app, team):
    people, ids = team
    patrol = factories.patrol(people["pcso"], OLD_TRAFFORD)
    db.session.commit()
    response = ask(signed_in(app, people["sergeant"]), "kind=patrols")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert [int(row["id"]) for row in read_csv(response.get_data())[1]] == [patrol.id]
    assert db.session.scalar(sa.select(sa.func.count(ExportRequest.id))) == 0
    (event,) = events(AuditAction.DISCLOSE)
    assert event.details["marking"] == "OFFICIAL"


def test_pcsos_and_safeguarding_leads_have_no_export_approvals(app, team):
    people, _ = team
    request_id = request_id_of(ask(signed_in(app, people["sergeant"])))
    lead = factories.user(Role.SAFEGUARDING)
    db.session.commit()
    for person in (people["pcso"], lead):
        browser = signed_in(app, person)
        assert browser.get("/exports").status_code == 403
        assert browser.get(f"/exports/{request_id}").status_code == 403
        assert browser.post(f"/exports/{request_id}/decision", data={"decision": "approve"}).status_code == 403
        assert not page(browser.get("/")).select("a[href='/exports']")  # no menu link
    assert page(signed_in(app, people["analyst"]).get("/")).select("a[href='/exports']")


# --- handling code C ------------------------------------------------------------------------------------------

def approved_download(app, people, query: str, fmt: str = "csv"):
    requester = signed_in(app, people["sergeant"])
    request_id = request_id_of(ask(requester, query, fmt))
    signed_in(app, people["analyst"]).post(f"/exports/{request_id}/decision", data={"decision": "approve"})
    return requester.post(f"/exports/{request_id}/download")


def test_handling_code_c_conditions_travel_in_the_csv_column_and_its_header(app, team):
    people, ids = team
    form = page(signed_in(app, people["sergeant"]).get("/lists/entries/export?kind=intelligence-reports"))
    assert "Handling code C" in form.select_one("[data-testid=conditions-notice]").get_text()
    body = approved_download(app, people, "kind=intelligence-reports").get_data()
    meta, (row,) = read_csv(body)
    assert row["intel_handling_conditions"] == "'" + CONDITIONS  # the column (a formula neutralised)
    notice = ["# handling_code_C", "1 intelligence report in this file is handling code C: lawful sharing only on "
              "the conditions recorded with each (listed here and in the intel_handling_conditions column). "
              "The conditions travel with the data."]
    assert meta[1:].count(notice) == 2  # under the top marking and above the bottom one
    assert ["# conditions", str(ids["intel"]), "'" + CONDITIONS] in meta
    assert meta[-2] == notice and meta[-1] == ["# OFFICIAL-SENSITIVE"]
    (created,) = events(AuditAction.CREATE, "export_request")
    assert created.details["conditions_apply"] == 1


def test_handling_code_c_conditions_travel_in_geojson_properties_and_metadata(app, team):
    people, ids = team
    document = json.loads(approved_download(app, people, "kind=intelligence-reports", fmt="geojson").get_data())
    assert document["metadata"]["handling_conditions"] == [{"id": ids["intel"], "conditions": CONDITIONS}]
    assert document["metadata"]["conditions_apply"] == 1
    (feature,) = document["features"]
    assert feature["properties"]["intel_handling_conditions"] == CONDITIONS
    assert feature["properties"]["intel_grading"].endswith("/ C")


def test_an_export_without_code_c_reports_carries_no_conditions(app, team):
    people, _ = team
    meta, _ = read_csv(approved_download(app, people, "kind=asb-incidents").get_data())
    assert not [row for row in meta if row[0] in ("# handling_code_C", "# conditions")]


# --- the API -------------------------------------------------------------------------------------------------

def test_the_api_refuses_pcsos_and_makes_a_sensitive_export_a_request(app, team):
    people, ids = team
    client = app.test_client()
    order = {"format": "csv", "purpose": PURPOSE, "recipient": RECIPIENT, "filters": {"kind": ["asb-incidents"]}}
    assert client.post("/api/v1/exports", json=order, headers=bearer(token(people["pcso"]))).status_code == 403
    secret = token(people["sergeant"])
    response = client.post("/api/v1/exports", json=order, headers=bearer(secret))
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "pending" and body["approve_url"] == f"/exports/{body['id']}"
    assert response.headers["Location"].endswith(f"/api/v1/exports/{body['id']}")
    assert events(AuditAction.DISCLOSE) == []
    assert client.post(f"/api/v1/exports/{body['id']}/download", headers=bearer(secret)).status_code == 409
    signed_in(app, people["other_sergeant"]).post(f"/exports/{body['id']}/decision", data={"decision": "approve"})
    assert client.get(f"/api/v1/exports/{body['id']}", headers=bearer(secret)).get_json()["status"] == "approved"
    other = token(people["analyst"])
    assert client.post(f"/api/v1/exports/{body['id']}/download", headers=bearer(other)).status_code == 409
    download = client.post(f"/api/v1/exports/{body['id']}/download", headers=bearer(secret))
    assert download.status_code == 200 and download.mimetype == "text/csv"
    _, rows = read_csv(download.get_data())
    assert {int(row["id"]) for row in rows} == {ids["asb"], ids["sensitive"]}
    (event,) = events(AuditAction.DISCLOSE)
    assert event.details["recipient"] == RECIPIENT and event.details["export_request"] == body["id"]


def test_an_export_holding_welfare_checks_is_approved_by_a_supervisor_not_an_analyst(app, team):
    """Analysts may not read welfare checks on children, so they may not let them leave either."""
    people, _ = team
    check = factories.welfare(people["pcso"], beat_code=OLD_TRAFFORD, child_name="Riley Child")
    db.session.commit()
    requester = signed_in(app, people["sergeant"])
    request_id = request_id_of(ask(requester, "kind=welfare-checks"))
    refused = signed_in(app, people["analyst"]).post(f"/exports/{request_id}/decision", data={"decision": "approve"})
    assert refused.status_code == 409 and "a supervisor, who may read them" in refused.get_data(as_text=True)
    assert db.session.get(ExportRequest, request_id).status == ExportRequestStatus.PENDING
    approved = signed_in(app, people["other_sergeant"]).post(f"/exports/{request_id}/decision",
                                                             data={"decision": "approve"})
    assert approved.location == "/exports"
    _, rows = read_csv(requester.post(f"/exports/{request_id}/download").get_data())
    assert [int(row["id"]) for row in rows] == [check.id]


def test_an_approved_export_over_the_size_limit_is_written_by_a_job_for_its_requester(app, team):
    """Like a large OFFICIAL export (tests/test_jobs.py): the download is recorded, and spent, before a byte is
    written; the file is the requester's alone; a second download is refused as the page refuses it."""
    people, ids = team
    requester = signed_in(app, people["sergeant"])
    request_id = request_id_of(ask(requester))
    second = signed_in(app, people["analyst"])
    second.post(f"/exports/{request_id}/decision", data={"decision": "approve", "comment": "Agreed"})
    app.config["EXPORT_JOB_ROWS"] = 1
    try:
        started = requester.post(f"/exports/{request_id}/download")
        assert page(job_page(requester, started)).select_one("[data-testid=job-state]").text.strip() == "Ready"
        (disclosure,) = events(AuditAction.DISCLOSE)
        assert disclosure.actor_id == people["sergeant"].id and disclosure.details["export_request"] == request_id
        assert db.session.get(ExportRequest, request_id).status == ExportRequestStatus.DOWNLOADED
        response = download_from_job(requester, started)
        assert response.status_code == 200 and response.mimetype == "text/csv"
        meta, rows = read_csv(response.get_data())
        assert {int(row["id"]) for row in rows} == {ids["asb"], ids["sensitive"]}
        assert ["# audit_event", str(disclosure.id)] in meta and ["# export_request", str(request_id)] in meta
        assert second.get(started.headers["Location"]).status_code == 404  # the job and file: the requester's alone
        again = job_page(requester, requester.post(f"/exports/{request_id}/download"))
        assert "downloaded already" in again.get_data(as_text=True)
        assert len(events(AuditAction.DISCLOSE)) == 1
    finally:
        app.config["EXPORT_JOB_ROWS"] = 20_000
