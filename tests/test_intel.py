"""Intelligence reports: 3x5x2 grading, the restricted source, and raising one from an incident or welfare check."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from pcso.access import can_view_source, visible_changes
from pcso.entries.kinds.intelligence_report import IntelligenceReportForm
from pcso.extensions import db
from pcso.models import (
    AuditAction, AuditEvent, EntryRevision, EntryStatus, HandlingCode, IntelligenceReport, Link, LinkRole, Location,
    Person, Role, SecurityMarking, Vehicle, WelfareCheck, name_key,
)
from pcso.timeutil import to_london, utcnow
from tests import factories
from tests.factories import signed_in, soup

OLD_TRAFFORD = factories.OLD_TRAFFORD
ALTRINCHAM = "E05015239"
SOURCE = "Shop worker on the precinct, rings on Tuesdays"


def intel_form(**extra) -> dict:
    """A complete, valid intelligence report as the browser posts it (located in Old Trafford)."""
    data = {"client_key": str(uuid.uuid4()), "occurred_at": to_london(utcnow()).strftime("%Y-%m-%dT%H:%M"),
            "summary": "Red Audi dropping off at the precinct", "marking": "OFFICIAL-SENSITIVE",
            **factories.POINT, "accuracy_m": "12", "location_source": "gps", "beat_id": "",
            "sanitised_text": "A red Audi A3 stops at the precinct most evenings around 8pm; "
                              "the driver hands small packages to youths on bikes.",
            "source_evaluation": "2", "assessment": "B", "handling_code": "P", "handling_conditions": "",
            "source_details": SOURCE, "action": "submit"}
    data.update(extra)
    return data


def validate(app, data):
    return factories.validate_entry_form(app, IntelligenceReportForm, data)


# --- the form ------------------------------------------------------------------------------------------------

def test_a_complete_report_is_valid_and_sensitive_by_default(app):
    ok, form = validate(app, intel_form())
    assert ok, form.errors
    with app.test_request_context():
        assert IntelligenceReportForm().marking.data == "OFFICIAL-SENSITIVE"


@pytest.mark.parametrize("extra, field, words", [
    ({"handling_code": "C"}, "handling_conditions", "record the conditions"),
    ({"handling_code": "C", "handling_conditions": "   "}, "handling_conditions", "record the conditions"),
    ({"handling_conditions": "Not to partner agencies"}, "handling_conditions", "choose c"),
    ({"source_evaluation": "4"}, "source_evaluation", "not a valid choice"),
    ({"source_evaluation": ""}, "source_evaluation", "source evaluation"),
    ({"assessment": "F"}, "assessment", "not a valid choice"),
    ({"assessment": ""}, "assessment", "a to e"),
    ({"handling_code": "X"}, "handling_code", "not a valid choice"),
    ({"handling_code": ""}, "handling_code", "p or c"),
    ({"sanitised_text": ""}, "sanitised_text", "enter the intelligence"),
    ({"handling_code": "C", "handling_conditions": "Police only", "marking": "OFFICIAL"}, "marking",
     "stays official-sensitive"),
    ({"people-0-name": "Dale Wrigley", "people-0-role": "victim"}, "people", "not a valid choice"),
    ({"people-0-name": "Dale Wrigley"}, "people", "role"),
])
def test_the_form_refuses_bad_grading_and_missing_conditions(app, extra, field, words):
    ok, form = validate(app, intel_form(**extra))
    assert not ok
    assert words in str(form.errors.get(field, "")).lower(), form.errors


@pytest.mark.parametrize("grading", [("1", "A", "P"), ("3", "E", "C"), ("2", "D", "P")])
def test_every_grading_is_accepted(app, grading):
    evaluation, assessment, code = grading
    ok, form = validate(app, intel_form(source_evaluation=evaluation, assessment=assessment, handling_code=code,
                                        handling_conditions="Police only" if code == "C" else ""))
    assert ok, form.errors


def test_the_role_choices_leave_out_victim_and_reporter(app):
    with app.test_request_context():
        roles = [value for value, _ in IntelligenceReportForm().people[0].form.role.choices if value]
    assert roles == ["subject", "associate", "suspect", "witness", "mentioned"]


# --- logging one ---------------------------------------------------------------------------------------------

def test_pcso_logs_a_report_with_people_and_a_vehicle_and_sees_its_grading(app):
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    browser = signed_in(app, pcso)
    response = browser.post("/intelligence-reports/new", data=intel_form(**{
        "people-0-name": "Dale Wrigley", "people-0-role": "suspect", "people-0-born_on": "1988-07-14",
        "people-0-description": "Driver, about 35",
        "people-1-name": "Kieran Holt", "people-1-role": "associate",
        "vehicles-0-vrm": "mx65 tkz", "vehicles-0-colour": "Red", "vehicles-0-make": "Audi",
        "vehicles-0-model": "A3"}))
    report = db.session.scalar(sa.select(IntelligenceReport))
    assert response.location == f"/entries/{report.id}", soup(response).select_one("[data-testid=error-summary]")
    assert report.grading == "2 / B / P"
    assert report.marking == SecurityMarking.OFFICIAL_SENSITIVE
    assert report.status == EntryStatus.SUBMITTED and report.beat.code == OLD_TRAFFORD
    assert report.handling_conditions is None and report.source_details == SOURCE
    assert [(link.person.full_name, link.role, link.note) for link in report.people_links] == [
        ("Dale Wrigley", LinkRole.SUSPECT, "Driver, about 35"), ("Kieran Holt", LinkRole.ASSOCIATE, None)]
    vehicles = [(link.vehicle.vrm, link.vehicle.summary) for link in report.vehicle_links]
    assert vehicles == [("MX65TKZ", "Red Audi A3")]

    page = soup(browser.get(f"/entries/{report.id}"))
    assert page.select_one("[data-testid=grading-code]").get_text(strip=True) == "2 / B / P"
    grading = page.select_one("[data-testid=grading]").get_text(" ", strip=True)
    assert "2: Untested" in grading and "B: Known indirectly to the source but corroborated" in grading
    assert "P: Lawful sharing permitted" in grading
    assert page.select_one("[data-testid=marking]").get_text(strip=True) == "OFFICIAL-SENSITIVE"
    assert "Dale Wrigley" in page.select_one("[data-testid=people]").get_text()
    assert "MX65TKZ" in page.select_one("[data-testid=vehicles]").get_text()
    assert page.select_one("[data-testid=source-details]") is None  # submitted: the author no longer reads it


def test_handling_code_c_keeps_its_conditions(app):
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    browser = signed_in(app, pcso)
    browser.post("/intelligence-reports/new", data=intel_form(source_evaluation="1", assessment="A", handling_code="C",
                                                              handling_conditions="Not to be shared with the school"))
    report = db.session.scalar(sa.select(IntelligenceReport))
    assert (report.grading, report.handling_conditions) == ("1 / A / C", "Not to be shared with the school")
    page = soup(browser.get(f"/entries/{report.id}"))
    assert page.select_one("[data-testid=grading-code]").get_text(strip=True) == "1 / A / C"
    assert "Not to be shared with the school" in page.select_one("[data-testid=grading]").get_text(" ", strip=True)


def test_a_report_may_be_lowered_to_official_and_then_the_beat_sees_it(app):
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    colleague = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    signed_in(app, author).post("/intelligence-reports/new", data=intel_form(marking="OFFICIAL"))
    report = db.session.scalar(sa.select(IntelligenceReport))
    assert report.marking == SecurityMarking.OFFICIAL
    page = signed_in(app, colleague).get(f"/entries/{report.id}")
    assert page.status_code == 200
    assert SOURCE not in page.get_data(as_text=True)


def test_choose_page_offers_intelligence(app):
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    tile = soup(signed_in(app, pcso).get("/entries/new")).select_one("a.kind-tile--intelligence_report")
    assert tile["href"] == "/intelligence-reports/new"
    assert "3x5x2" in tile.get_text()


# --- the restricted source -----------------------------------------------------------------------------------

@pytest.fixture
def intel_world(app):
    """A submitted OFFICIAL report by a PCSO on Old Trafford, so everyone on the beat may open it."""
    people = {
        "author": factories.user(Role.PCSO, beats=[OLD_TRAFFORD]),
        "colleague": factories.user(Role.PCSO, beats=[OLD_TRAFFORD]),
        "supervisor": factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD]),
        "analyst": factories.user(Role.ANALYST),
        "safeguarding": factories.user(Role.SAFEGUARDING),
    }
    report = factories.intel(people["author"], OLD_TRAFFORD, marking=SecurityMarking.OFFICIAL, source_details=SOURCE)
    db.session.commit()
    return people, report


SOURCE_SHOWN = {"author": False, "colleague": False, "supervisor": True, "analyst": True}


def test_source_details_are_shown_to_supervisors_and_analysts_only(app, intel_world):
    people, report = intel_world
    shown = {}
    for who in SOURCE_SHOWN:
        response = signed_in(app, people[who]).get(f"/entries/{report.id}")
        assert response.status_code == 200, who
        section = soup(response).select_one("[data-testid=source-details]")
        shown[who] = section is not None
        assert (SOURCE in response.get_data(as_text=True)) == shown[who], who
        if section is not None:
            assert SOURCE in section.get_text()
    assert shown == SOURCE_SHOWN
    # Safeguarding leads do not read intelligence on the beat at all.
    assert signed_in(app, people["safeguarding"]).get(f"/entries/{report.id}").status_code == 404


def test_who_may_read_a_source_by_rule(app, intel_world):
    people, report = intel_world
    assert {who: can_view_source(people[who], report) for who in SOURCE_SHOWN} == SOURCE_SHOWN
    assert not can_view_source(people["safeguarding"], report)
    draft = factories.intel(people["author"], OLD_TRAFFORD, status=EntryStatus.DRAFT)
    assert can_view_source(people["author"], draft)  # while writing it
    assert not can_view_source(people["supervisor"], draft)  # nobody else opens a draft
    sensitive = factories.intel(people["author"], OLD_TRAFFORD)
    assert not can_view_source(people["colleague"], sensitive)
    assert can_view_source(people["analyst"], sensitive)


def test_a_supervisor_reading_the_source_is_audited(app, intel_world):
    people, report = intel_world
    signed_in(app, people["supervisor"]).get(f"/entries/{report.id}")
    signed_in(app, people["colleague"]).get(f"/entries/{report.id}")
    views = {event.actor_id: event.details for event in db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.VIEW, AuditEvent.object_id == report.id))}
    assert views[people["supervisor"].id]["source_details"] == "shown"
    assert "source_details" not in views[people["colleague"].id]


def test_history_never_names_or_shows_a_changed_source(app):
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    colleague = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    supervisor = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD])
    db.session.commit()
    browser = signed_in(app, author)
    data = intel_form(marking="OFFICIAL", source_details="First source note", action="draft")
    browser.post("/intelligence-reports/new", data=data)
    report = db.session.scalar(sa.select(IntelligenceReport))
    edit_page = soup(browser.get(f"/entries/{report.id}/edit"))
    assert edit_page.select_one("#source_details").get_text().strip() == "First source note"  # the author's draft
    response = browser.post(f"/entries/{report.id}/edit", data={
        **data, "source_details": "Second source note", "summary": "Red Audi, evenings", "action": "submit"})
    assert response.location == f"/entries/{report.id}"
    revision = db.session.scalars(sa.select(EntryRevision).where(EntryRevision.entry_id == report.id,
                                                                 EntryRevision.action == "submitted")).one()
    assert revision.changes["source_details"] == ["First source note", "Second source note"]  # kept for audit

    for who, allowed in ((colleague, False), (author, False), (supervisor, True)):
        response = signed_in(app, who).get(f"/entries/{report.id}")
        history = soup(response).select_one("[data-testid=history]").get_text(" ", strip=True)
        assert "summary" in history
        assert ("source details" in history) == allowed, who.role
        text = response.get_data(as_text=True)
        assert "First source note" not in text  # no page prints a revision's values
        assert ("Second source note" in text) == allowed
    assert "source_details" not in visible_changes(colleague, report, revision.changes)
    assert "source_details" in visible_changes(supervisor, report, revision.changes)


def test_lists_never_carry_the_source(app, intel_world):
    people, report = intel_world
    for who in ("supervisor", "colleague"):
        browser = signed_in(app, people[who])
        listing = browser.get(f"/beats/{factories.beat(OLD_TRAFFORD).id}")
        assert report.id in {int(a["data-entry-id"]) for a in soup(listing).select("[data-entry-id]")}
        assert SOURCE not in listing.get_data(as_text=True)
    mine = signed_in(app, people["author"]).get("/entries")
    assert SOURCE not in mine.get_data(as_text=True)


# --- raising one from a welfare check or an ASB incident -------------------------------------------------

@pytest.fixture
def welfare_world(app):
    spoc = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    people = {
        "spoc": spoc,
        "colleague": factories.user(Role.PCSO, beats=[OLD_TRAFFORD]),
        "supervisor": factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD]),
        "analyst": factories.user(Role.ANALYST),
        "safeguarding": factories.user(Role.SAFEGUARDING),
    }
    check = factories.welfare(spoc, beat_code=OLD_TRAFFORD, child_name="Casey Welfarename",
                              location_text="Home address (on file)")
    db.session.commit()
    return people, check


def test_raising_from_a_welfare_check_links_the_child_place_and_check(app, welfare_world):
    people, check = welfare_world
    browser = signed_in(app, people["spoc"])
    button = soup(browser.get(f"/entries/{check.id}")).find("a", string="Raise intelligence report")
    assert button["href"] == f"/intelligence-reports/new?from={check.id}"

    form = soup(browser.get(button["href"]))
    child = check.child
    assert form.select_one("#raised_from_id")["value"] == str(check.id)
    assert form.select_one("#people-0-person_id")["value"] == str(child.id)
    assert form.select_one("#people-0-name")["value"] == "Casey Welfarename"
    assert form.select_one("#people-0-role option[selected]")["value"] == "subject"
    assert (float(form.select_one("#lat")["value"]), float(form.select_one("#lon")["value"])) == (check.lat, check.lon)
    assert form.select_one("#location_source")["value"] == "map"
    assert form.select_one("#location_text")["value"] == "Home address (on file)"
    assert form.select_one("[data-testid=raised-from] a")["href"] == f"/entries/{check.id}"
    assert form.select_one("input[name=marking]") is None  # raised from a welfare check: always sensitive

    posted = {field["name"]: field.get("value", "") for field in form.select("input[type=hidden]")}
    response = browser.post("/intelligence-reports/new", data=intel_form(**{
        **posted, "people-0-name": "Casey Welfarename", "people-0-role": "subject",
        "people-1-name": "Older Male", "people-1-role": "associate", "marking": "OFFICIAL",
        "summary": "Older male collecting a child in a grey BMW"}))
    report = db.session.scalar(sa.select(IntelligenceReport))
    assert response.location == f"/entries/{report.id}", soup(response).select_one("[data-testid=error-summary]")
    assert report.raised_from_id == check.id
    assert report.marking == SecurityMarking.OFFICIAL_SENSITIVE  # OFFICIAL was posted, and refused
    assert [(link.person_id, link.role) for link in report.people_links][0] == (child.id, LinkRole.SUBJECT)
    assert (report.lat, report.lon, report.beat_id) == (check.lat, check.lon, check.beat_id)

    db.session.expire_all()
    check = db.session.get(WelfareCheck, check.id)
    assert check.is_intelligence_raised
    revision = check.revisions[-1]
    assert (revision.actor_id, revision.changes) == (people["spoc"].id, {"is_intelligence_raised": [False, True]})

    back = soup(browser.get(f"/entries/{report.id}")).select_one("[data-testid=raised-from] a")
    assert back["href"] == f"/entries/{check.id}"
    raised = soup(browser.get(f"/entries/{check.id}")).select_one("[data-testid=intelligence-raised] a")
    assert raised["href"] == f"/entries/{report.id}" and "2 / B / P" in raised.get_text()


def test_links_between_the_check_and_the_report_show_only_to_those_who_may_open_both(app, welfare_world):
    people, check = welfare_world
    report = factories.intel(people["spoc"], OLD_TRAFFORD, raised_from_id=check.id,
                             links=[Link(person=check.child, role=LinkRole.SUBJECT)])
    db.session.commit()
    # The analyst may read the intelligence, not the welfare check: no way back to it.
    analyst = signed_in(app, people["analyst"])
    assert analyst.get(f"/entries/{check.id}").status_code == 404
    page = soup(analyst.get(f"/entries/{report.id}"))
    assert page.select_one("[data-testid=raised-from]") is None
    assert f"/entries/{check.id}" not in str(page)
    # The safeguarding lead may read the check, not the (OFFICIAL-SENSITIVE) report: no link to it.
    page = soup(signed_in(app, people["safeguarding"]).get(f"/entries/{check.id}"))
    assert page.select_one("[data-testid=intelligence-raised]") is None
    assert page.find("a", string="Raise intelligence report") is None  # safeguarding leads log nothing
    # The supervisor may open both, and raise more.
    supervisor = signed_in(app, people["supervisor"])
    page = soup(supervisor.get(f"/entries/{check.id}"))
    assert page.select_one("[data-testid=intelligence-raised] a")["href"] == f"/entries/{report.id}"
    assert page.find("a", string="Raise intelligence report") is not None
    assert soup(supervisor.get(f"/entries/{report.id}")).select_one("[data-testid=raised-from] a")["href"] == (
        f"/entries/{check.id}")


def test_raising_from_an_entry_the_officer_may_not_open_is_not_found(app, welfare_world):
    people, check = welfare_world
    colleague = signed_in(app, people["colleague"])  # same beat, not the SPOC: the check is need-to-know
    assert colleague.get(f"/entries/{check.id}").status_code == 404
    assert soup(colleague.get(f"/entries/{check.id}")).find("a", string="Raise intelligence report") is None
    for url in (f"/intelligence-reports/new?from={check.id}", "/intelligence-reports/new?from=999999",
                "/intelligence-reports/new?from=abc", "/intelligence-reports/new?from=-1"):
        response = colleague.get(url)
        assert response.status_code == 404, url
        assert "Casey" not in response.get_data(as_text=True)
    # A forged hidden field is refused the same way, and nothing is written.
    response = colleague.post("/intelligence-reports/new", data=intel_form(raised_from_id=str(check.id)))
    assert response.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(IntelligenceReport.id))) == 0
    db.session.expire_all()
    assert not db.session.get(WelfareCheck, check.id).is_intelligence_raised


def test_only_asb_incidents_and_welfare_checks_raise_intelligence(app):
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    patrol = factories.patrol(pcso, OLD_TRAFFORD)
    other = factories.intel(pcso, OLD_TRAFFORD)
    db.session.commit()
    browser = signed_in(app, pcso)
    for entry in (patrol, other):
        assert soup(browser.get(f"/entries/{entry.id}")).find("a", string="Raise intelligence report") is None
        assert browser.get(f"/intelligence-reports/new?from={entry.id}").status_code == 404


def test_raising_from_an_asb_incident_copies_suspects_and_vehicles_not_who_may_be_the_source(app):
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    suspect, victim, reporter, witness = (Person(full_name=name, name_key=name_key(name))
                                          for name in ("Dale Wrigley", "Margaret Holt", "Joan Lomax", "Ewa Nowak"))
    car = Vehicle(vrm="MX65TKZ", colour="Red", make="Audi", model="A3")
    precinct = Location(address="Shrewsbury Street precinct", postcode="M16 7NP")
    incident = factories.asb(pcso, OLD_TRAFFORD, links=[
        Link(location=precinct, role=LinkRole.MENTIONED, position=50),
        Link(person=victim, role=LinkRole.VICTIM, position=0),
        Link(person=reporter, role=LinkRole.REPORTER, position=1),
        Link(person=suspect, role=LinkRole.SUSPECT, note="Male, about 35, driver", position=2),
        Link(person=witness, role=LinkRole.WITNESS, position=3),
        Link(vehicle=car, role=LinkRole.MENTIONED, position=100)])
    db.session.commit()
    browser = signed_in(app, pcso)
    form = soup(browser.get(f"/intelligence-reports/new?from={incident.id}"))
    rows = [(form.select_one(f"#people-{i}-name").get("value"),
             (form.select_one(f"#people-{i}-role option[selected]") or {}).get("value")) for i in range(2)]
    assert rows == [("Dale Wrigley", "suspect"), ("", "")]  # one empty row to add to
    assert form.select_one("#people-0-person_id")["value"] == str(suspect.id)
    assert form.select_one("#people-0-description")["value"] == "Male, about 35, driver"
    assert [form.select_one(f"#vehicles-0-{name}")["value"] for name in ("vrm", "colour", "make", "model")] == [
        "MX65TKZ", "Red", "Audi", "A3"]
    assert form.select_one("input[name=marking][checked]")["value"] == "OFFICIAL-SENSITIVE"
    for name in ("Margaret Holt", "Joan Lomax", "Ewa Nowak"):  # victim, reporter, witness: maybe the source
        assert name not in str(form)

    posted = {field["name"]: field.get("value", "") for field in form.select("input[type=hidden]")}
    browser.post("/intelligence-reports/new", data=intel_form(**{
        **posted, "people-0-name": "Dale Wrigley", "people-0-role": "suspect", "vehicles-0-vrm": "MX65TKZ"}))
    report = db.session.scalar(sa.select(IntelligenceReport))
    assert report.raised_from_id == incident.id
    assert [link.person_id for link in report.people_links] == [suspect.id]  # one person, one record
    assert [link.vehicle_id for link in report.vehicle_links] == [car.id]
    assert [link.location_id for link in report.links if link.location_id] == [precinct.id]  # the place, too


def test_a_colleague_on_the_beat_may_raise_from_an_asb_incident_they_can_read(app):
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    colleague = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    elsewhere = factories.user(Role.PCSO, beats=[ALTRINCHAM])
    incident = factories.asb(author, OLD_TRAFFORD)
    db.session.commit()
    assert signed_in(app, colleague).get(f"/intelligence-reports/new?from={incident.id}").status_code == 200
    assert signed_in(app, elsewhere).get(f"/intelligence-reports/new?from={incident.id}").status_code == 404


def test_editing_a_draft_report_keeps_its_grading_people_and_source(app):
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    browser = signed_in(app, pcso)
    browser.post("/intelligence-reports/new", data=intel_form(
        source_evaluation="3", assessment="C", handling_code="C", handling_conditions="Police only",
        action="draft", **{"people-0-name": "Dale Wrigley", "people-0-role": "subject", "vehicles-0-vrm": "MX65TKZ"}))
    report = db.session.scalar(sa.select(IntelligenceReport))
    page = soup(browser.get(f"/entries/{report.id}"))
    assert SOURCE in page.select_one("[data-testid=source-details]").get_text()  # the author, while a draft
    form = soup(browser.get(f"/entries/{report.id}/edit"))
    checked = {radio["name"]: radio["value"] for radio in form.select("input[type=radio][checked]")}
    assert checked == {"source_evaluation": "3", "assessment": "C", "handling_code": "C",
                       "marking": "OFFICIAL-SENSITIVE"}
    assert form.select_one("#handling_conditions").get_text().strip() == "Police only"
    assert form.select_one("#people-0-name")["value"] == "Dale Wrigley"
    assert form.select_one("#people-0-role option[selected]")["value"] == "subject"
    assert form.select_one("#vehicles-0-vrm")["value"] == "MX65TKZ"
    assert form.select_one("#source_details").get_text().strip() == SOURCE


def test_the_database_requires_conditions_for_handling_code_c(app):
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError):
        factories.intel(pcso, OLD_TRAFFORD, handling_code=HandlingCode.CONDITIONS)
    db.session.rollback()
