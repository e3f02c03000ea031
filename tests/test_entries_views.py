"""Logging each kind of entry through the real forms, and finding it again."""
from __future__ import annotations

import uuid

import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import (
    AsbIncident, AuditAction, AuditEvent, Entry, EntryRevision, EntryStatus, Patrol, Role, School, SecurityMarking,
    WelfareCheck,
)
from pcso.timeutil import to_london, utcnow
from tests import factories
from tests.factories import soup

OLD_TRAFFORD = "E05015253"
POINT = {"lat": "53.464903", "lon": "-2.260757"}  # M15 4AD, in Old Trafford


def now_local() -> str:
    return to_london(utcnow()).strftime("%Y-%m-%dT%H:%M")


def base_form(**extra) -> dict:
    data = {"client_key": str(uuid.uuid4()), "occurred_at": now_local(), "summary": "Test summary",
            "marking": "OFFICIAL", **POINT, "accuracy_m": "12", "location_source": "gps", "beat_id": ""}
    data.update(extra)
    return data


def test_pcso_can_start_log_and_end_a_patrol(client):
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    factories.login(client, pcso)
    response = client.post("/patrols/new", data=base_form(mode="foot", purpose="Car crime on Shrewsbury St",
                                                          summary="", action="draft"))
    patrol = db.session.scalar(sa.select(Patrol))
    assert response.location == f"/entries/{patrol.id}"
    assert patrol.is_open and patrol.beat.code == OLD_TRAFFORD
    assert patrol.summary == "Foot patrol: Car crime on Shrewsbury St"

    response = client.post("/asb-incidents/new", data=base_form(
        nsir_category="nuisance", asb_type="rowdy_behaviour", description="Group kicking a ball at cars",
        **{"people-0-name": "Sam Smith", "people-0-role": "victim", "vehicles-0-vrm": "ab12 cde"},
        victim_risk="medium", action="submit"))
    assert response.status_code == 302, soup(response).select_one("[data-testid=error-summary]")
    incident = db.session.scalar(sa.select(AsbIncident))
    assert response.location == f"/entries/{incident.id}"
    assert incident.patrol_id == patrol.id
    assert [link.vehicle.vrm for link in incident.vehicle_links] == ["AB12CDE"]
    assert [(link.person.full_name, link.role) for link in incident.people_links] == [("Sam Smith", "victim")]
    assert incident.status == EntryStatus.SUBMITTED

    page = soup(client.get(f"/entries/{patrol.id}"))
    assert page.select_one(f'[data-entry-id="{incident.id}"]') is not None
    response = client.post(f"/patrols/{patrol.id}/end", data={"ended_at": now_local(), "notes": "Quiet"})
    db.session.refresh(patrol)
    assert not patrol.is_open
    assert [r.action for r in patrol.revisions] == ["created", "ended"]


def test_retried_submission_returns_the_same_entry(client):
    pcso = factories.user(Role.PCSO)
    db.session.commit()
    factories.login(client, pcso)
    data = base_form(nsir_category="nuisance", asb_type="noise", description="Loud music", action="submit")
    first = client.post("/asb-incidents/new", data=data)
    second = client.post("/asb-incidents/new", data=data)
    assert first.location == second.location
    assert db.session.scalar(sa.select(sa.func.count(Entry.id))) == 1


def test_pcso_can_log_school_visit_and_welfare_check(client):
    pcso = factories.user(Role.PCSO)
    db.session.commit()
    factories.login(client, pcso)
    school = db.session.scalars(sa.select(School).where(School.beat_id.is_not(None))).first()
    response = client.post("/school-visits/new", data=base_form(
        lat="", lon="", accuracy_m="", location_source="none", school_id=str(school.id), visit_type="assembly",
        topic="Knife crime", year_groups=["Y7", "Y8"], audience_size="120", action="submit"))
    assert response.status_code == 302, soup(response).select_one("[data-testid=error-summary]")
    response = client.post("/welfare-checks/new", data=base_form(
        child_name="Alex Example", child_born_on="2012-05-01", spoc_id=str(pcso.id), visit_type="planned",
        is_seen_alone="yes", risk_level="medium", indicators=["new_phone", "older_associates"],
        marking="OFFICIAL", action="submit"))
    check = db.session.scalar(sa.select(WelfareCheck))
    assert response.location == f"/entries/{check.id}"
    assert check.marking == SecurityMarking.OFFICIAL_SENSITIVE
    client.get(f"/entries/{check.id}")
    views = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.VIEW,
                                                           AuditEvent.object_id == check.id)).all()
    assert len(views) == 1 and views[0].actor_id == pcso.id


def test_welfare_check_for_an_18_year_old_is_refused(client):
    pcso = factories.user(Role.PCSO)
    db.session.commit()
    factories.login(client, pcso)
    born = to_london(utcnow()).date().replace(year=to_london(utcnow()).year - 18)
    response = client.post("/welfare-checks/new", data=base_form(
        child_name="Old Enough", child_born_on=born.isoformat(), spoc_id=str(pcso.id), visit_type="planned",
        is_seen_alone="yes", risk_level="low", action="submit"))
    assert response.status_code == 400
    summary = soup(response).select_one("[data-testid=error-summary]")
    assert "under 18" in summary.get_text()
    assert db.session.scalar(sa.select(sa.func.count(Entry.id))) == 0


def test_point_outside_every_beat_asks_for_a_beat(client):
    pcso = factories.user(Role.PCSO)
    db.session.commit()
    factories.login(client, pcso)
    response = client.post("/asb-incidents/new", data=base_form(
        lat="51.5", lon="-0.12", nsir_category="nuisance", asb_type="noise", description="x", action="submit"))
    assert response.status_code == 400
    assert "outside every beat" in soup(response).select_one("[data-testid=error-summary]").get_text()


def test_beat_override_is_recorded(client):
    pcso = factories.user(Role.PCSO)
    db.session.commit()
    factories.login(client, pcso)
    altrincham = factories.beat("E05015239")
    client.post("/asb-incidents/new", data=base_form(beat_id=str(altrincham.id), nsir_category="nuisance",
                                                     asb_type="noise", description="x", action="draft"))
    entry = db.session.scalar(sa.select(Entry))
    assert entry.beat_id == altrincham.id
    assert entry.located_beat.code == OLD_TRAFFORD
    assert entry.is_beat_overridden


def test_editing_a_draft_keeps_a_revision(client):
    pcso = factories.user(Role.PCSO)
    db.session.commit()
    factories.login(client, pcso)
    data = base_form(nsir_category="nuisance", asb_type="noise", description="Loud", action="draft")
    client.post("/asb-incidents/new", data=data)
    entry = db.session.scalar(sa.select(Entry))
    page = client.get(f"/entries/{entry.id}/edit")
    assert soup(page).select_one("#description").get_text().strip() == "Loud"
    assert soup(page).select_one("input[name=nsir_category][checked]")["value"] == "nuisance"
    assert soup(page).select_one("#asb_type option[selected]")["value"] == "noise"
    response = client.post(f"/entries/{entry.id}/edit", data={**data, "description": "Very loud", "action": "submit"})
    assert response.location == f"/entries/{entry.id}", soup(response).select_one("[data-testid=error-summary]")
    revisions = db.session.scalars(sa.select(EntryRevision).where(EntryRevision.entry_id == entry.id)
                                   .order_by(EntryRevision.id)).all()
    assert [r.action for r in revisions] == ["created", "submitted"]
    assert revisions[1].changes["description"] == ["Loud", "Very loud"]
    assert client.get(f"/entries/{entry.id}/edit").status_code == 403  # submitted: no more edits


def test_my_entries_filters_by_kind(client):
    pcso = factories.user(Role.PCSO)
    factories.asb(pcso)
    factories.patrol(pcso)
    db.session.commit()
    factories.login(client, pcso)
    page = soup(client.get("/entries?kind=asb-incidents"))
    assert len(page.select(".entry-item")) == 1
    assert "ASB incident" in page.select_one(".entry-item").get_text()


def test_pcso_can_add_rows_for_more_people_without_saving(client):
    pcso = factories.user(Role.PCSO)
    db.session.commit()
    factories.login(client, pcso)
    data = base_form(nsir_category="nuisance", asb_type="noise", description="Loud",
                     **{"people-0-name": "Sam Smith", "people-0-role": "victim"})
    response = client.post("/asb-incidents/new", data={**data, "action": "add-person"})
    page = soup(response)
    assert response.status_code == 200
    assert page.select_one("#people-0-name")["value"] == "Sam Smith"
    assert page.select_one("#people-1-name") is not None
    assert page.select_one("[data-testid=error-summary]") is None
    assert db.session.scalar(sa.select(sa.func.count(Entry.id))) == 0
