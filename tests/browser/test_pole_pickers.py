"""Picking an existing person or vehicle while logging: one real person stays one record."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from playwright.sync_api import expect

from pcso.extensions import db
from pcso.models import Link, Person, Role, User
from tests import factories
from tests.browser.conftest import ARTIFACTS, OLD_TRAFFORD, check_page, login


def log_asb(page, summary: str) -> None:
    page.goto("/asb-incidents/new")
    page.fill("#summary", summary)
    page.check("input[name=nsir_category][value=nuisance]")
    page.select_option("#asb_type", "street_drinking")
    page.fill("#description", "Drinking on the benches outside the precinct.")
    page.fill("#postcode", "M15 4AD")


def test_pcso_picks_a_person_and_vehicle_seen_before(page, make_user, in_db):
    pcso = make_user()
    login(page, pcso)
    log_asb(page, "Street drinking at the precinct")
    page.fill("#people-0-name", "Dale Wrigley")
    page.select_option("#people-0-role", "suspect")
    page.fill("#people-0-born_on", "1988-07-14")
    page.fill("#vehicles-0-vrm", "mx65 tkz")
    page.fill("#vehicles-0-colour", "Grey")
    page.fill("#vehicles-0-make", "Ford")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_test_id("people")).to_contain_text("Dale Wrigley")

    log_asb(page, "Street drinking again")
    page.fill("#people-0-name", "dale w")
    suggestion = page.locator("#people-0-name-suggestions button")
    expect(suggestion.locator(".suggestion__name")).to_have_text("Dale Wrigley")
    expect(suggestion.locator(".suggestion__meta")).to_have_text("b. 1988")
    suggestion.click()
    expect(page.locator("#people-0-born_on")).to_have_value("1988-07-14")
    page.select_option("#people-0-role", "suspect")
    page.fill("#vehicles-0-vrm", "MX65")
    page.locator("#vehicles-0-vrm-suggestions button").first.click()
    expect(page.locator("#vehicles-0-make")).to_have_value("Ford")
    check_page(page, "50-asb-picked-person")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_test_id("vehicles")).to_contain_text("MX65TKZ")

    def records():
        people = db.session.scalars(sa.select(Person).where(Person.name_key == "dale wrigley")).all()
        links = db.session.scalars(sa.select(Link).where(Link.person_id.in_([p.id for p in people]))).all()
        return len(people), len(links)

    assert in_db(records) == (1, 2)


def test_suggestions_never_offer_a_child_known_only_from_someone_elses_welfare_check(page, make_user, in_db):
    in_db(lambda: factories.welfare(factories.user(Role.PCSO, beats=[OLD_TRAFFORD]), child_name="Tyler Hidden"))
    pcso = make_user()
    login(page, pcso)
    log_asb(page, "Youths at the precinct")
    with page.expect_response("**/people/suggest") as answer:
        page.fill("#people-0-name", "Tyler")
    assert answer.value.json() == {"results": []}
    expect(page.locator("#people-0-name-suggestions button")).to_have_count(0)
    expect(page.locator("#people-0-name-suggestions")).to_have_text("No match — a new person record will be made.")


def test_pcso_typing_jon_smyth_is_offered_john_smith_with_the_reason_and_picks_him(page, make_user, in_db):
    pcso = make_user()

    def seed():
        officer = db.session.get(User, pcso.id)
        john = factories.person("John Smith", date(1998, 5, 1))
        factories.link(factories.asb(officer), john)
        factories.link(factories.asb(officer), factories.person("John Smith"))  # a namesake, no date of birth
        return john.id

    john_id = in_db(seed)
    login(page, pcso)
    log_asb(page, "Youths at the precinct")
    page.fill("#people-0-name", "Zebedee Quorn")
    expect(page.locator("#people-0-name-suggestions")).to_contain_text("No match — a new person record will be made.")
    page.fill("#people-0-name", "Jon Smyth")  # a name alone: two John Smiths, nothing tells them apart
    offered = page.locator("#people-0-name-suggestions")
    expect(offered.locator(".suggestion-option--possible button")).to_have_count(2)
    expect(offered.locator(".suggestion-option--likely")).to_have_count(0)
    expect(offered).to_contain_text("Possible matches — nothing typed tells them apart:")
    expect(offered).to_contain_text("A date of birth tells people with the same name apart.")
    check_page(page, "51a-asb-jon-smyth-possible-only")
    page.locator("[data-person-row]").first.screenshot(path=str(ARTIFACTS / "51c-people-picker-possible-only.png"))
    page.fill("#people-0-born_on", "1998-05-01")
    page.fill("#people-0-name", "Jon Smyth ")
    likely = offered.locator(".suggestion-option--likely button")
    expect(likely.locator(".suggestion__reason")).to_have_text("similar name (Jon for John), same date of birth")
    expect(offered.locator(".suggestion-option--possible")).to_have_count(0)  # the very date: he alone
    page.fill("#people-0-born_on", "1998-01-05")  # day and month swapped: likely still, the namesake possible
    page.fill("#people-0-name", "Jon Smyth")
    expect(likely).to_have_count(1)
    expect(likely.locator(".suggestion__name")).to_have_text("John Smith")
    expect(likely.locator(".suggestion__meta")).to_have_text("b. 1998")
    expect(likely.locator(".suggestion__reason")).to_have_text(
        "similar name (Jon for John), date of birth nearly the same")
    possible = offered.locator(".suggestion-option--possible button")
    expect(possible).to_have_count(1)
    expect(possible.locator(".suggestion__reason")).to_have_text(
        "similar name (Jon for John), no date of birth on record to compare")
    expect(offered.locator(".suggestions__group")).to_have_text(["Likely the same person:", "Also possible:"])
    expect(offered).to_contain_text("None of these? A new person record will be made.")
    suggestion = likely
    check_page(page, "51-asb-jon-smyth-offered")
    page.locator("[data-person-row]").first.screenshot(path=str(ARTIFACTS / "51b-people-picker-both-tiers.png"))
    suggestion.click()
    expect(page.locator("#people-0-name")).to_have_value("John Smith")
    expect(page.locator("#people-0-person_id")).to_have_value(str(john_id))
    expect(page.locator("#people-0-name-suggestions")).to_contain_text("Existing record picked: John Smith, b. 1998")
    check_page(page, "52-asb-john-smith-picked")
    page.select_option("#people-0-role", "witness")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_test_id("people")).to_contain_text("John Smith")

    def links():
        return db.session.scalar(sa.select(sa.func.count(Link.id)).where(Link.person_id == john_id))

    assert in_db(links) == 2  # the same record, linked again: no new John Smith
