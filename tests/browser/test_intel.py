"""One tap from an ASB incident to an intelligence report about the same people and vehicle, on a phone."""
from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from pcso.extensions import db
from pcso.models import IntelligenceReport, Link, LinkRole, Person, User, Vehicle, name_key
from tests import factories
from tests.browser.conftest import OLD_TRAFFORD, check_page, login


def test_pcso_raises_intelligence_from_their_asb_incident(page, make_user, in_db):
    pcso = make_user()

    def incident():
        author = db.session.get(User, pcso.id)
        suspect = Person(full_name="Darren Quayle", name_key=name_key("Darren Quayle"))
        victim = Person(full_name="Edna Pilkington", name_key=name_key("Edna Pilkington"))
        car = Vehicle(vrm="KX19VBN", colour="Red", make="Audi", model="A3")
        return factories.asb(author, OLD_TRAFFORD, summary="Car meet at the retail park", links=[
            Link(person=victim, role=LinkRole.VICTIM, position=0),
            Link(person=suspect, role=LinkRole.SUSPECT, note="Male, about 35, driver", position=1),
            Link(vehicle=car, role=LinkRole.MENTIONED, position=100)]).id

    incident_id = in_db(incident)
    login(page, pcso)
    page.goto(f"/entries/{incident_id}")
    page.get_by_role("link", name="Raise intelligence report").click()

    expect(page).to_have_url(f"/intelligence-reports/new?from={incident_id}")  # an id in the URL, never a name
    expect(page.get_by_test_id("raised-from")).to_contain_text("Car meet at the retail park")
    expect(page.locator("#people-0-name")).to_have_value("Darren Quayle")
    expect(page.locator("#people-0-role")).to_have_value("suspect")
    expect(page.locator("#people-1-name")).to_have_value("")  # the victim is not copied
    expect(page.locator("#vehicles-0-vrm")).to_have_value("KX19VBN")
    expect(page.locator("#vehicles-0-make")).to_have_value("Audi")
    expect(page.locator("[data-location-status]")).to_contain_text("Location set")

    page.fill("#summary", "Red Audi at the car meets")
    page.fill("#sanitised_text", "The red Audi attends the car meets at the retail park every Friday.\n\n"
                                 "Officer's assessment: the driver organises them.")
    page.get_by_label("2: Untested").check()
    page.get_by_label("B: Known indirectly to the source but corroborated").check()
    page.get_by_label("P: Lawful sharing permitted", exact=True).check()
    page.fill("#source_details", "Security guard at the retail park")
    expect(page.locator("input[name=marking][value=OFFICIAL-SENSITIVE]")).to_be_checked()
    check_page(page, "60-intel-raised-form")
    page.get_by_role("button", name="Submit for review").click()

    expect(page.get_by_test_id("grading-code")).to_have_text("2 / B / P")
    expect(page.get_by_test_id("marking")).to_have_text("OFFICIAL-SENSITIVE")
    expect(page.get_by_test_id("people")).to_contain_text("Darren Quayle")
    expect(page.get_by_test_id("vehicles")).to_contain_text("KX19VBN")
    expect(page.get_by_test_id("raised-from")).to_contain_text("Car meet at the retail park")
    expect(page.get_by_test_id("source-details")).to_have_count(0)  # submitted: for supervisors and analysts
    check_page(page, "61-intel-detail")

    page.get_by_test_id("raised-from").get_by_role("link").click()
    expect(page.get_by_test_id("intelligence-raised")).to_contain_text("2 / B / P")
    check_page(page, "62-asb-with-intel-raised")

    def stored():
        report = db.session.scalars(sa.select(IntelligenceReport).where(  # the live database is shared
            IntelligenceReport.author_id == pcso.id)).one()
        people = [(link.person.full_name, link.role.value) for link in report.people_links]
        persons = db.session.scalar(sa.select(sa.func.count(Person.id)).where(Person.name_key == "darren quayle"))
        return report.raised_from_id, report.grading, people, persons

    assert in_db(stored) == (incident_id, "2 / B / P", [("Darren Quayle", "suspect")], 1)


def test_handling_code_c_without_conditions_is_sent_back(page, make_user, problems):
    problems.allow(r"status of 400 .*/intelligence-reports/new\]")  # the form again, with its errors
    login(page, make_user())
    page.goto("/intelligence-reports/new")
    page.fill("#summary", "Youths with a knife at the park")
    page.fill("#sanitised_text", "A youth showed a knife at the park on Saturday.")
    page.get_by_label("1: Reliable").check()
    page.get_by_label("A: Known directly to the source").check()
    page.get_by_label("C: Lawful sharing permitted with conditions").check()
    page.fill("#postcode", "M15 4AD")
    page.get_by_role("button", name="Submit for review").click()
    summary = page.get_by_test_id("error-summary")
    expect(summary).to_contain_text("record the conditions")
    summary.get_by_role("link").first.click()
    expect(page.locator("#handling_conditions")).to_be_focused()
    check_page(page, "63-intel-conditions-error")
