"""Whole records on a phone: a PCSO records a person's alias, a warning marker and an address, and edits a vehicle."""
from __future__ import annotations

import itertools
import re
from datetime import date, timedelta

from playwright.sync_api import expect

from pcso.extensions import db
from pcso.models import LinkRole, User
from pcso.timeutil import london_today, utcnow
from tests import factories
from tests.browser.conftest import OLD_TRAFFORD, check_page, flash, login

_plates = itertools.count(40)


def seed(author_id: int) -> dict:
    author = db.session.get(User, author_id)
    person = factories.person("Tyler Ashworth", date(1999, 3, 2))
    car = factories.vehicle(f"PX{next(_plates):02d} ABC", make="Vauxhall", colour="Silver")
    entry = factories.asb(author, OLD_TRAFFORD, summary="Youths on the precinct roof",
                          occurred_at=utcnow() - timedelta(days=1))
    factories.link(entry, person, LinkRole.SUSPECT)
    factories.link(entry, car, LinkRole.MENTIONED, position=100)
    return {"person": person.id, "car": car.id, "entry": entry.id, "vrm": car.vrm}


def test_pcso_records_an_alias_a_warning_marker_and_an_address_on_the_phone(page, make_user, in_db):
    author = make_user(name="Pat Walker")
    ids = in_db(lambda: seed(author.id))
    colleague = make_user(name="Sam Okafor")  # same beat: sees the entry, and so the person
    login(page, colleague)

    page.goto(f"/people/{ids['person']}")
    page.get_by_test_id("edit-record").tap()
    expect(page).to_have_url(re.compile(rf"/people/{ids['person']}/edit$"))

    page.get_by_label("Other name or nickname").fill("Ty")
    page.get_by_role("button", name="Add name").tap()
    expect(flash(page)).to_contain_text("Other name added")
    expect(page.get_by_test_id("alias-list")).to_contain_text("Ty")

    marker_form = page.get_by_test_id("marker-form")
    marker_form.get_by_label("Warning marker").select_option("weapons")
    marker_form.get_by_label("Why").fill("Lock knife found on him, entry of 2 March")
    marker_form.get_by_label("Review by").fill((london_today() + timedelta(days=180)).isoformat())
    page.get_by_role("button", name="Set marker").tap()
    expect(flash(page)).to_contain_text("Warning marker set")

    address_form = page.get_by_test_id("address-form")
    address_form.get_by_label("Connection").select_option("home")
    address_form.get_by_label("Or type the address").fill("14 Ayres Road")
    address_form.get_by_label("Postcode").fill("m16 9ne")
    page.get_by_role("button", name="Add address").tap()
    expect(flash(page)).to_contain_text("Address added")
    expect(page.get_by_test_id("address-list")).to_contain_text("14 Ayres Road, M16 9NE")
    check_page(page, "70-person-edit")

    page.get_by_role("link", name="Back to the person's page").tap()
    safety = page.get_by_test_id("officer-safety")
    expect(safety).to_contain_text("Weapons")
    expect(safety).to_contain_text("Lock knife found on him")
    expect(safety).to_contain_text("Sam Okafor")
    expect(page.get_by_test_id("aliases")).to_have_text("Ty")
    expect(page.get_by_test_id("addresses")).to_contain_text("Home address")
    check_page(page, "71-person-profile-markers")

    page.goto(f"/entries/{ids['entry']}")
    expect(page.get_by_test_id("people").get_by_test_id("person-warnings")).to_have_text("Weapons")


def test_pcso_sees_a_form_error_and_edits_a_vehicles_keeper(page, make_user, in_db, problems):
    author = make_user(name="Pat Walker")
    ids = in_db(lambda: seed(author.id))
    problems.allow(r"status of 400 .*/people/%d/addresses\]" % ids["person"])  # the form's error page
    login(page, author)
    page.goto(f"/people/{ids['person']}/edit")
    page.get_by_test_id("address-form").get_by_label("Or type the address").fill("1 Nowhere Street")
    page.get_by_test_id("address-form").get_by_label("Postcode").fill("ZZ")
    page.get_by_role("button", name="Add address").tap()
    expect(page.get_by_test_id("error-summary")).to_contain_text("Enter a full UK postcode")

    page.goto(f"/vehicles/{ids['car']}/edit")
    page.get_by_label("Model").fill("Astra")
    page.get_by_label("Description").fill("Dent in the driver's door")
    page.get_by_label("Keeper", exact=True).select_option(str(ids["person"]))
    page.get_by_role("button", name="Save vehicle").tap()
    expect(page).to_have_url(re.compile(rf"/vehicles/{ids['car']}$"))
    expect(page.get_by_test_id("keeper")).to_contain_text("Tyler Ashworth")
    expect(page.get_by_test_id("vehicle-description")).to_have_text("Dent in the driver's door")
    check_page(page, "72-vehicle-keeper")
