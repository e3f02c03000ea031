"""Entry forms in the browser: bad input, a poor GPS fix, dropping a pin, and touch-target size."""
from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from pcso.extensions import db
from pcso.models import Entry
from tests.browser.conftest import M15_4AD, check_page, login, use_my_location, wait_for_map

PIN = "[data-map] path.leaflet-interactive[fill='#ffdd00']"  # app.js draws the dropped pin in yellow


def test_empty_asb_form_shows_a_focused_error_summary_and_saves_nothing(live_app, page, problems, make_user,
                                                                        in_db):
    pcso = make_user()
    login(page, pcso)
    page.goto("/asb-incidents/new")
    problems.allow(r"status of 400 .*/asb-incidents/new\]")  # a refused form answers 400, by design
    page.get_by_role("button", name="Submit for review").click()

    summary = page.get_by_test_id("error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(summary).to_be_focused()
    top = summary.bounding_box()["y"]
    first_field = page.locator("form[data-entry-form] .form-group").first.bounding_box()["y"]
    assert top < first_field, "the error summary should come before the form"

    links = summary.get_by_role("link")
    targets = links.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert {"#nsir_category", "#asb_type", "#description", "#summary"} <= set(targets), targets
    assert targets.index("#summary") < targets.index("#nsir_category") < targets.index("#description"), \
        "errors are listed in the order the fields appear on the page"
    for href in targets:
        expect(page.locator(href)).to_have_count(1)
    expect(page.locator("#description-error")).to_have_text("Describe what happened")
    check_page(page, "30-asb-errors")

    links.filter(has_text="Describe what happened").click()
    expect(page.locator("#description")).to_be_focused()
    assert page.locator("#description").bounding_box()["y"] < 844, "the link should bring the field into view"

    count = in_db(lambda: db.session.scalar(sa.select(sa.func.count(Entry.id)).where(Entry.author_id == pcso.id)))
    assert count == 0


def test_poor_gps_fix_warns_the_officer(new_context, make_user):
    pcso = make_user()
    page = new_context(geolocation={**M15_4AD, "accuracy": 350}).new_page()
    login(page, pcso)
    page.goto("/asb-incidents/new")
    use_my_location(page)
    status = page.locator("[data-location-status]")
    expect(status).to_contain_text("±350 m")  # app.js warns above LOCATION_WARN_ACCURACY_M (100)
    expect(status).to_contain_text("That is poor")
    expect(status).to_have_class("location-status location-status--warn")
    assert page.input_value("input[name=accuracy_m]") == "350"
    check_page(page, "31-poor-gps")


def test_tapping_the_map_drops_a_pin(page, make_user):
    pcso = make_user()
    login(page, pcso)
    page.goto("/asb-incidents/new")
    wait_for_map(page)
    expect(page.locator("[data-map-hint]")).to_be_visible()
    assert page.input_value("input[name=lat]") == ""
    map_box = page.locator("[data-map]")
    map_box.scroll_into_view_if_needed()
    map_box.click()
    status = page.locator("[data-location-status]")
    expect(status).to_contain_text("Pin dropped.")
    expect(status).to_contain_text("Beat:")  # the centre of the Trafford outline is inside a ward
    lat, lon = float(page.input_value("input[name=lat]")), float(page.input_value("input[name=lon]"))
    assert 53.3 < lat < 53.5 and -2.5 < lon < -2.2, (lat, lon)
    assert page.input_value("input[name=location_source]") == "map"
    assert page.input_value("input[name=accuracy_m]") == ""
    expect(page.locator(PIN)).to_have_count(1)
    check_page(page, "32-pin-dropped")


def test_a_refused_form_keeps_the_map_on_the_officers_location(page, problems, make_user):
    """The pin is put back before the beat outlines arrive; their arrival must not zoom out to Trafford."""
    pcso = make_user()
    login(page, pcso)
    page.goto("/asb-incidents/new")
    use_my_location(page)
    problems.allow(r"status of 400 .*/asb-incidents/new\]")
    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_test_id("error-summary")).to_be_visible()
    assert page.input_value("input[name=lat]") == "53.464903"
    wait_for_map(page)
    page.wait_for_timeout(300)  # let any zoom animation finish
    map_box = page.locator("[data-map]").bounding_box()
    pin = page.locator(PIN).bounding_box()
    dx = (pin["x"] + pin["width"] / 2) - (map_box["x"] + map_box["width"] / 2)
    dy = (pin["y"] + pin["height"] / 2) - (map_box["y"] + map_box["height"] / 2)
    assert abs(dx) < 20 and abs(dy) < 20, f"the pin is {dx:.0f}, {dy:.0f} px off the map centre"


TOUCH_TARGETS = """() => {
  // checkVisibility() also drops what sits in a closed <details> (the menu), unlike a bare box size.
  const visible = el => el.checkVisibility({visibilityProperty: true}) && el.getBoundingClientRect().height > 0;
  const small = [];
  let checked = 0;
  for (const el of document.querySelectorAll('input, select, button, textarea')) {
    if (el.type === 'hidden' || el.closest('.leaflet-control-zoom') || !visible(el)) continue;
    checked += 1;
    const box = (el.type === 'radio' || el.type === 'checkbox') ? (el.closest('li, .choice') || el) : el;
    const h = box.getBoundingClientRect().height;
    if (h < 44) {
      small.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}[name=${el.name}]`
                 + ` ${box === el ? '' : '(row) '}${h.toFixed(1)}px`);
    }
  }
  return {checked, small};
}"""


def test_asb_form_touch_targets_are_at_least_44px(page, make_user):
    pcso = make_user()
    login(page, pcso)
    page.goto("/asb-incidents/new")
    wait_for_map(page)
    result = page.evaluate(TOUCH_TARGETS)
    assert result["checked"] >= 20, result  # the whole form was looked at, not a blank page
    assert result["small"] == [], f"touch targets under 44 px: {result['small']}"
