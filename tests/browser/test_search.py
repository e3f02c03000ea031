"""Search on a phone: part of a registration finds every entry about the car; a child stays hidden."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta

import sqlalchemy as sa
from playwright.sync_api import expect

from pcso.extensions import db
from pcso.models import (
    EntryStatus, HandlingCode, IntelAssessment, IntelligenceReport, Link, LinkRole, LocationSource, Person, Role,
    SecurityMarking, SourceEvaluation, Vehicle, name_key,
)
from pcso.search.index import reindex_entries
from pcso.timeutil import utcnow
from tests import factories
from tests.browser.conftest import OLD_TRAFFORD, check_page, login, open_menu_link


def log_asb_with_a_person_and_a_car(page) -> None:
    page.goto("/asb-incidents/new")
    page.fill("#summary", "Car meet on the retail park")
    page.check("input[name=nsir_category][value=nuisance]")
    page.select_option("#asb_type", "vehicle_nuisance")
    page.fill("#description", "Cars revving engines and doing doughnuts by the precinct.")
    page.fill("#postcode", "M15 4AD")
    page.fill("#people-0-name", "Dean Revver")
    page.select_option("#people-0-role", "suspect")
    page.fill("#vehicles-0-vrm", "yk68 wpd")
    page.fill("#vehicles-0-colour", "Grey")
    page.fill("#vehicles-0-make", "Ford")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_test_id("vehicles")).to_contain_text("YK68WPD")


def intelligence_about_the_car(author_id: int) -> int:
    """Another PCSO's report on the same car, with an associate (made directly: its form has its own tests)."""
    beat = factories.beat(OLD_TRAFFORD)
    car_id = db.session.scalar(sa.select(Vehicle.id).where(Vehicle.vrm == "YK68WPD"))
    report = IntelligenceReport(
        author_id=author_id, beat_id=beat.id, located_beat_id=beat.id, occurred_at=utcnow() - timedelta(hours=1),
        lat=53.4649, lon=-2.2607, location_source=LocationSource.MAP, summary="Grey Ford used to collect youths",
        status=EntryStatus.SUBMITTED, submitted_at=utcnow(), marking=SecurityMarking.OFFICIAL_SENSITIVE,
        client_key=str(uuid.uuid4()), source_evaluation=SourceEvaluation.UNTESTED,
        assessment=IntelAssessment.CORROBORATED, handling_code=HandlingCode.PERMITTED,
        sanitised_text="The grey Ford YK68WPD collects youths from the precinct on Friday nights.",
        links=[Link(vehicle_id=car_id, role=LinkRole.MENTIONED, position=100),
               Link(person=Person(full_name="Jay Associate", name_key=name_key("Jay Associate")),
                    role=LinkRole.ASSOCIATE)])
    db.session.add(report)
    db.session.flush()
    reindex_entries([report.id])
    return report.id


def test_analyst_finds_a_car_from_part_of_its_registration_and_opens_an_entry(new_context, make_user, in_db):
    first, second, analyst = make_user(), make_user(), make_user(Role.ANALYST, beats=())
    page = new_context().new_page()
    login(page, first)
    log_asb_with_a_person_and_a_car(page)
    report_id = in_db(lambda: intelligence_about_the_car(second.id))

    page = new_context().new_page()
    login(page, analyst)
    open_menu_link(page, "Search")
    expect(page.get_by_role("heading", name="Search", exact=True)).to_be_visible()
    page.get_by_label("Vehicle registration").fill("yk68")
    page.get_by_role("button", name="Search", exact=True).click()
    results = page.get_by_test_id("search-results")
    expect(page.get_by_test_id("result-count")).to_have_text("2 entries")
    expect(results.locator("a.entry-item")).to_have_count(2)
    expect(results).to_contain_text("Car meet on the retail park")
    expect(results).to_contain_text("Grey Ford used to collect youths")
    expect(page.get_by_test_id("vehicles-found")).to_contain_text("YK68WPD")
    assert re.search(r"/search/results/[A-Za-z0-9_-]{32}$", page.url), page.url  # the terms went in the body, not the URL
    check_page(page, "60-analyst-search-registration")

    profile = page.get_by_test_id("vehicles-found").get_by_role("link", name="YK68WPD")
    profile_url = profile.get_attribute("href") if profile.count() else None

    results.get_by_role("link", name=re.compile("Grey Ford used to collect youths")).click()
    expect(page).to_have_url(re.compile(rf"/entries/{report_id}$"))
    expect(page.get_by_test_id("entry-summary")).to_have_text("Grey Ford used to collect youths")

    if profile_url:  # once the profile pages exist: the car's profile shows the associate
        page.goto(profile_url)
        expect(page.locator("main")).to_contain_text("Jay Associate")
        expect(page.locator("main")).to_contain_text("Dean Revver")


def test_a_pcso_never_finds_a_child_from_someone_elses_welfare_check(page, make_user, in_db):
    def welfare_check():
        check = factories.welfare(factories.user(Role.PCSO, beats=[OLD_TRAFFORD]), beat_code=OLD_TRAFFORD,
                                  child_name="Tyler Hiddenchild")
        reindex_entries([check.id])

    in_db(welfare_check)
    colleague = make_user()
    login(page, colleague)
    page.goto("/search")
    page.get_by_label("Words").fill("Hiddenchild")
    page.get_by_label("Person's name").fill("Tyler")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_test_id("result-count")).to_have_text("0 entries")
    expect(page.locator("main")).not_to_contain_text("Tyler Hiddenchild")
    expect(page.get_by_test_id("people-found")).to_have_count(0)
    check_page(page, "61-pcso-search-nothing-hidden")
