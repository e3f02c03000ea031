"""Profiles on a phone: from an entry to a person, their timeline and associates; merging; what stays hidden."""
from __future__ import annotations

import itertools
import re
from datetime import date, timedelta

from playwright.sync_api import expect

from pcso.extensions import db
from pcso.models import LinkRole, Role, User
from pcso.timeutil import utcnow
from tests import factories
from tests.browser.conftest import OLD_TRAFFORD, check_page, login


_plates = itertools.count(10)  # the live app's database lasts the session: one registration per seeding


def seed_incidents(author_id: int) -> dict:
    """Two ASB incidents on Old Trafford with Reece, a third person and a car; a welfare check with a child."""
    author = db.session.get(User, author_id)
    dale = factories.person("Reece Hallworth", date(1988, 7, 14), description="Tall, grey tracksuit")
    kim = factories.person("Nadia Brennan", approx_age=30)
    car = factories.vehicle(f"PF{next(_plates):02d} XYZ", make="Ford", model="Focus", colour="Grey")
    older = factories.asb(author, OLD_TRAFFORD, summary="Street drinking by the precinct",
                          occurred_at=utcnow() - timedelta(days=6))
    newer = factories.asb(author, OLD_TRAFFORD, summary="Youths kicking a ball at cars",
                          occurred_at=utcnow() - timedelta(days=1))
    for entry, people in ((older, [(dale, LinkRole.SUSPECT)]),
                          (newer, [(dale, LinkRole.SUSPECT), (kim, LinkRole.VICTIM)])):
        for position, (person, role) in enumerate(people):
            factories.link(entry, person, role, position=position)
        factories.link(entry, car, LinkRole.MENTIONED, position=100)
    check = factories.welfare(author, beat_code=OLD_TRAFFORD, child_name="Morgan Hiddenchild")
    factories.link(check, dale, LinkRole.ASSOCIATE)  # an older associate the check names: only its readers see
    return {"vrm": car.vrm, "newer": newer.id, "older": older.id, "dale": dale.id, "kim": kim.id, "car": car.id,
            "child": check.child.id}


def test_pcso_taps_a_person_on_an_asb_entry_and_sees_their_profile(page, make_user, in_db):
    author = make_user(name="Pat Walker")
    ids = in_db(lambda: seed_incidents(author.id))
    colleague = make_user(name="Chris Other")
    login(page, colleague)

    page.goto(f"/entries/{ids['newer']}")
    page.get_by_test_id("people").get_by_role("link", name="Reece Hallworth").tap()
    expect(page).to_have_url(re.compile(rf"/people/{ids['dale']}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Reece Hallworth")

    timeline = page.get_by_test_id("timeline").locator("[data-entry-id]")
    expect(timeline).to_have_count(2)  # the two incidents; never the welfare check
    expect(timeline.first).to_contain_text("Youths kicking a ball at cars")
    expect(timeline.first).to_contain_text("Suspect")
    expect(page.get_by_test_id("associates").locator(f'[data-associate="vehicle-{ids["car"]}"]')).to_contain_text(
        "2 times")
    expect(page.get_by_test_id("associates").locator(f'[data-associate="person-{ids["kim"]}"]')).to_contain_text(
        "1 time")
    expect(page.get_by_test_id("associates").locator("[data-associate]")).to_have_count(2)
    expect(page.locator("main")).not_to_contain_text("Morgan")
    expect(page.get_by_test_id("duplicates")).to_have_count(0)  # merging is for supervisors and analysts
    check_page(page, "60-person-profile")

    page.get_by_test_id("associates").get_by_role("link", name=ids["vrm"]).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(ids["vrm"])
    expect(page.get_by_test_id("timeline").locator("[data-entry-id]")).to_have_count(2)
    check_page(page, "61-vehicle-profile")


def test_pcso_without_access_to_a_welfare_check_gets_404_on_its_child(page, make_user, in_db, problems):
    author = make_user(name="Pat Walker")
    ids = in_db(lambda: seed_incidents(author.id))
    colleague = make_user(name="Chris Other")
    login(page, colleague)
    problems.allow(r"status of 404 .*/people/%d\]" % ids["child"])
    response = page.goto(f"/people/{ids['child']}")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.locator("main")).not_to_contain_text("Morgan")
    check_page(page, "62-child-profile-404")


def test_analyst_compares_a_duplicate_and_a_supervisor_merges_it(page, make_user, in_db, problems):
    """Reece is named in a welfare check as well: an analyst (who can't open it) compares, a supervisor merges."""
    author = make_user(name="Pat Walker")
    ids = in_db(lambda: seed_incidents(author.id))

    def typo():
        entry = factories.asb(db.session.get(User, author.id), OLD_TRAFFORD, summary="Cans thrown at a bus stop")
        return factories.link(entry, factories.person("Reece Halworth", date(1988, 7, 14)), LinkRole.SUSPECT).person_id

    dupe = in_db(typo)
    analyst = make_user(Role.ANALYST, beats=())
    login(page, analyst)
    page.goto(f"/people/{ids['dale']}")
    duplicate = page.locator(f'[data-duplicate="{dupe}"]')
    expect(duplicate).to_contain_text("Same date of birth")
    duplicate.get_by_role("button", name="Compare and merge").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merge two records")
    expect(page.get_by_test_id("merge-away")).to_contain_text("Reece Halworth")
    expect(page.get_by_test_id("merge-refused")).to_contain_text("A supervisor or safeguarding lead must merge")
    expect(page.get_by_role("button", name="Merge into Reece Hallworth")).to_have_count(0)
    check_page(page, "63-merge-compare")

    page.context.clear_cookies()
    login(page, make_user(Role.SUPERVISOR, beats=()))
    page.goto(f"/people/{ids['dale']}")
    page.locator(f'[data-duplicate="{dupe}"]').get_by_role("button", name="Compare and merge").tap()
    problems.allow(r"status of 400 .*/people/%d/merge\]" % ids["dale"])  # no reason given: the form again
    page.get_by_role("button", name="Merge into Reece Hallworth").tap()
    expect(page.get_by_test_id("error-summary")).to_contain_text("Say why these are the same")
    page.fill("#reason", "Same date of birth; surname misspelt on the bus stop incident")
    page.get_by_role("button", name="Merge into Reece Hallworth").tap()
    expect(page.locator(".flash")).to_contain_text("Records merged")
    expect(page.get_by_test_id("merged-from")).to_contain_text("Reece Halworth")
    expect(page.get_by_test_id("aliases")).to_contain_text("Reece Halworth")
    expect(page.get_by_test_id("timeline").locator("[data-entry-id]")).to_have_count(4)  # the check too: a sergeant
    check_page(page, "64-person-after-merge")


def test_a_supervisor_merges_a_place_typed_twice_from_its_page(page, make_user, in_db):
    """The same house typed two ways in two incidents: offered as a duplicate on the place's page, merged there."""
    author = make_user(name="Pat Walker")
    street = f"Shrewsbury Street {next(_plates)}"  # the live app's database lasts the session: a street of its own

    def two_places():
        officer = db.session.get(User, author.id)
        ids = []
        for address in (f"12 {street}", f"12 {street[:-3]} St{street[-3:]}"):
            record = factories.location(address, "M16 9AX", house="12", number_key="12")
            factories.link(factories.asb(officer, OLD_TRAFFORD, summary=f"Noise at {address}"), record,
                           LinkRole.SCENE)
            ids.append(record.id)
        return ids

    keep, dupe = in_db(two_places)
    login(page, make_user(Role.SUPERVISOR, beats=()))
    page.goto(f"/locations/{keep}")
    duplicate = page.locator(f'[data-duplicate="{dupe}"]')
    expect(duplicate).to_contain_text("Same postcode and house number")
    duplicate.get_by_role("button", name="Compare and merge").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merge two records")
    expect(page.get_by_text("people's addresses and organisations at the other move to it")).to_be_visible()
    page.fill("#reason", "The same house: the street typed short in one report")
    check_page(page, "65-place-merge-compare")
    page.get_by_role("button", name=re.compile(r"^Merge into 12 ")).tap()
    expect(page.locator(".flash")).to_contain_text("Records merged")
    expect(page.get_by_test_id("merged-from")).to_be_visible()
    expect(page.get_by_test_id("timeline").locator("[data-entry-id]")).to_have_count(2)
    check_page(page, "66-place-after-merge")
