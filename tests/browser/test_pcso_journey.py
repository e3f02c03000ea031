"""The issue's journey on a phone: start a patrol, log three entries during it, end it, find them again."""
from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from pcso.timeutil import to_london, utcnow
from tests.browser.conftest import (
    check_page, entry_id_from_url, flash, login, open_menu_link, school_in_beat, summary_row, use_my_location,
)


def start_entry(page, tile: str) -> None:
    open_menu_link(page, "Log an entry")
    expect(page.get_by_role("heading", level=1)).to_have_text("What are you logging?")
    page.locator(".kind-tile", has_text=tile).click()


def test_pcso_can_patrol_log_three_entries_and_find_them(live_app, page, make_user):
    pcso = make_user(name="Pat Walker")
    login(page, pcso)
    expect(page.get_by_test_id("current-beat")).to_contain_text("Old Trafford")
    check_page(page, "01-home")

    # Start a patrol
    page.get_by_role("link", name="Start a patrol").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Start a patrol")
    page.get_by_role("radio", name="Foot").check()
    page.fill("#purpose", "Car crime on Shrewsbury Street")
    use_my_location(page)
    check_page(page, "02-patrol-form")
    page.get_by_role("button", name="Start patrol").click()
    expect(flash(page)).to_contain_text("Patrol saved.")
    patrol_id = entry_id_from_url(page)

    # ASB incident
    start_entry(page, "ASB incident")
    expect(page.get_by_role("heading", level=1)).to_have_text("New ASB incident")
    expect(page.locator(".notice")).to_contain_text("Logged during your patrol: Car crime on Shrewsbury Street")
    page.check("input[name=nsir_category][value=nuisance]")
    page.select_option("#asb_type", "rowdy_behaviour")
    page.fill("#description", "Group of youths kicking a football at parked cars on Shrewsbury Street.")
    page.fill("#people-0-name", "Sam Smith")
    page.select_option("#people-0-role", "victim")
    page.fill("#people-0-description", "Owner of the blue Corsa")
    page.fill("#vehicles-0-vrm", "ab12 cde")
    page.fill("#vehicles-0-colour", "Blue")
    page.fill("#vehicles-0-make", "Vauxhall")
    page.fill("#vehicles-0-model", "Corsa")
    page.check("input[name=victim_risk][value=medium]")
    use_my_location(page)
    page.fill("#summary", "Youths kicking a ball at parked cars")
    check_page(page, "03-asb-form")
    page.get_by_role("button", name="Submit for review").click()
    expect(flash(page)).to_contain_text("ASB incident saved.")
    asb_id = entry_id_from_url(page)

    # School visit, placed by postcode
    school_id, school_name = school_in_beat(live_app)
    start_entry(page, "School visit")
    page.select_option("#school_id", str(school_id))
    page.check("input[name=visit_type][value=talk]")
    page.fill("#topic", "Knife Crime Awareness Week")
    page.check("input[name=year_groups][value=Y7]")
    page.check("input[name=year_groups][value=Y8]")
    page.fill("#audience_size", "60")
    page.fill("#postcode", "M15 4AD")
    page.get_by_role("button", name="Find").click()
    status = page.locator("[data-location-status]")
    expect(status).to_contain_text("M15 4AD found.")
    expect(status).to_contain_text("Beat: Old Trafford")
    page.fill("#summary", "Knife crime talk to Y7 and Y8")
    check_page(page, "04-school-visit-form")
    page.get_by_role("button", name="Submit for review").click()
    expect(flash(page)).to_contain_text("School visit saved.")
    school_visit_id = entry_id_from_url(page)
    expect(summary_row(page, "School")).to_contain_text(school_name)

    # Welfare check on a 14-year-old
    start_entry(page, "Welfare check")
    expect(page.locator(".marking-banner")).to_have_text("OFFICIAL-SENSITIVE")
    born = to_london(utcnow()).date().replace(day=1) - timedelta(days=14 * 365 + 60)
    page.fill("#child_name", "Alex Example")
    page.fill("#child_born_on", born.isoformat())
    expect(page.locator("#spoc_id")).to_have_value(str(pcso.id))  # the SPOC defaults to the officer
    page.check("input[name=visit_type][value=planned]")
    page.check("input[name=is_seen_alone][value=yes]")
    page.fill("#observations", "Quiet, new trainers and a second phone.")
    page.check("input[name=indicators][value=new_phone]")
    page.check("input[name=indicators][value=money_or_clothes]")
    page.check("input[name=risk_level][value=medium]")
    use_my_location(page)
    page.fill("#summary", "Planned welfare visit, Alex")
    check_page(page, "05-welfare-check-form")
    page.get_by_role("button", name="Submit for review").click()
    expect(flash(page)).to_contain_text("Welfare check saved.")
    welfare_id = entry_id_from_url(page)
    expect(page.get_by_test_id("marking")).to_have_text("OFFICIAL-SENSITIVE")

    # Open the patrol from the home page and end it
    page.get_by_role("link", name="Beatbook").click()
    card = page.get_by_test_id("open-patrol")
    expect(card).to_contain_text("Car crime on Shrewsbury Street")
    check_page(page, "06-home-on-patrol")
    card.get_by_role("link", name="Open patrol / end it").click()
    assert entry_id_from_url(page) == patrol_id
    page.fill("#notes", "Spoke to two shopkeepers. Quiet otherwise.")
    check_page(page, "07-patrol-open")
    page.get_by_role("button", name="End and submit").click()
    expect(flash(page)).to_contain_text("Patrol ended and submitted for review.")
    expect(summary_row(page, "Ended")).not_to_have_text("Still on patrol")

    # My entries lists all four
    open_menu_link(page, "My entries")
    expect(page.get_by_test_id("result-count")).to_have_text("4 entries, newest first")
    listed = {int(i) for i in page.locator(".entry-item").evaluate_all(
        "items => items.map(a => a.dataset.entryId)")}
    assert listed == {patrol_id, asb_id, school_visit_id, welfare_id}
    check_page(page, "08-my-entries")

    # Each entry page shows the beat; screenshot them all
    for entry_id, name in [(asb_id, "asb"), (school_visit_id, "school-visit"), (welfare_id, "welfare-check"),
                           (patrol_id, "patrol")]:
        page.goto(f"/entries/{entry_id}")
        expect(summary_row(page, "Beat")).to_contain_text("Old Trafford")
        if name == "asb":
            expect(page.get_by_test_id("vehicles")).to_contain_text("AB12CDE")
            expect(page.get_by_test_id("people")).to_contain_text("Sam Smith")
            expect(summary_row(page, "Victim risk")).to_have_text(re.compile("Medium", re.I))
        if name == "patrol":
            heading = page.get_by_role("heading", name="Logged during this patrol")
            expect(heading).to_be_visible()
            logged = page.locator("h2:has-text('Logged during this patrol') + ul.entry-list .entry-item")
            expect(logged).to_have_count(3)
            ids = {int(i) for i in logged.evaluate_all("items => items.map(a => a.dataset.entryId)")}
            assert ids == {asb_id, school_visit_id, welfare_id}
        check_page(page, f"09-detail-{name}")
