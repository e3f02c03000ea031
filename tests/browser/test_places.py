"""A PCSO records a place (by postcode) and an organisation on their pages, then links both to an ASB incident
from the phone, picking them from the suggestions as they type."""
from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from pcso.extensions import db
from pcso.models import Link, LinkRole, Location, Organisation
from tests.browser.conftest import check_page, login
from tests.browser.test_pole_pickers import log_asb


def test_pcso_links_a_place_by_postcode_and_an_organisation_to_an_asb_incident(page, make_user, in_db):
    pcso = make_user()
    login(page, pcso)
    page.goto("/locations/new")
    page.fill("#house", "12")
    page.fill("#street", "Acacia Avenue")
    page.fill("#postcode", "m15 4ad")
    check_page(page, "70-new-place")
    page.get_by_role("button", name="Save place").click()
    expect(page.get_by_test_id("record-details")).to_contain_text("M15 4AD")
    expect(page.get_by_test_id("record-details")).to_contain_text("Beat")

    page.goto("/organisations/new")
    page.fill("#name", "The Corner Shop")
    page.select_option("#org_type", "shop")
    page.fill("#address-house", "3")
    page.fill("#address-street", "Acacia Avenue")
    page.fill("#address-postcode", "M15 4AD")
    page.get_by_role("button", name="Save organisation").click()
    expect(page.get_by_test_id("record-name")).to_have_text("The Corner Shop")
    check_page(page, "71-organisation-profile")

    log_asb(page, "Youths outside the corner shop")
    page.fill("#places-0-address", "12 M15 4AD")
    place = page.locator("#places-0-address-suggestions button").first
    expect(place).to_contain_text("Same postcode and number")
    place.click()
    page.select_option("#places-0-role", "scene")
    page.fill("#organisations-0-name", "corner shop")
    shop = page.locator("#organisations-0-name-suggestions button").first
    expect(shop).to_contain_text("The Corner Shop")
    shop.click()
    page.select_option("#organisations-0-role", "reporter")
    check_page(page, "72-asb-linking-places")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_test_id("places")).to_contain_text("12 Acacia Avenue")
    expect(page.get_by_test_id("places")).to_contain_text("The Corner Shop")
    check_page(page, "73-asb-with-places")

    def linked():
        links = db.session.scalars(sa.select(Link).where(
            sa.or_(Link.location_id.is_not(None), Link.organisation_id.is_not(None)))).all()
        return (sorted((link.role.value, bool(link.location_id)) for link in links),
                # this test's records only: other tests on the session's database make places too
                db.session.scalar(sa.select(sa.func.count()).select_from(Location)
                                  .where(Location.street == "Acacia Avenue")),
                db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)
                                  .where(Organisation.name == "The Corner Shop")))

    # picked, not made again: the place, the shop and the shop's own address
    assert in_db(linked) == ([(LinkRole.REPORTER.value, False), (LinkRole.SCENE.value, True)], 2, 1)
