"""Phone comfort at 390x844: the dashboard's links are thumb-sized and no word breaks mid-word; "Use my
location" is the first thing on a form; "Log another" on the saved page; Leaflet only where there is a map."""
from __future__ import annotations

from playwright.sync_api import expect

from pcso.models import PatrolMode, Role
from tests import factories
from tests.browser.conftest import OLD_TRAFFORD, check_page, flash, login, use_my_location
from tests.browser.test_dashboard import a_month_on_old_trafford
from tests.test_dashboard import patrol

STRETFORD, GORSE_HILL = "E05015256", "E05015247"  # "Stretford & Humphrey Park", "Gorse Hill & Cornbrook"

SMALL_TARGETS = """() => Array.from(document.querySelectorAll('main a, main summary, main button'))
  .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
  .map(el => { const r = el.getBoundingClientRect();
               return {text: el.textContent.trim().slice(0, 40), width: Math.round(r.width), height: Math.round(r.height)}; })
  .filter(r => r.height < 44 || r.width < 24)"""

# A word laid out on two lines has client rects at two heights.
BROKEN_WORDS = """() => { const found = [];
  const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement.getClientRects().length) continue;
    for (const m of node.data.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
      const lines = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (lines.size > 1) found.push(m[0]);
    } }
  return found; }"""


def busy_beats():
    pcso = factories.user(Role.PCSO, beats=[STRETFORD, GORSE_HILL])
    for code in (STRETFORD, GORSE_HILL):
        patrol(pcso, code, 2, mode=PatrolMode.FOOT, minutes=75)
        patrol(pcso, code, 3, mode=PatrolMode.CYCLE, minutes=45)


def test_dashboard_links_are_thumb_sized_and_no_word_breaks(new_context, make_user, in_db, no_entries):
    in_db(a_month_on_old_trafford)
    in_db(busy_beats)
    sergeant = make_user(Role.SUPERVISOR, beats=(OLD_TRAFFORD, STRETFORD, GORSE_HILL))
    page = new_context().new_page()
    login(page, sergeant)
    page.goto("/dashboard")
    expect(page.locator(".dash-spot").first).to_be_visible()  # the map has drawn (its zoom buttons count too)
    page.locator("main details").evaluate_all("all => all.forEach(d => d.open = true)")  # tables included
    expect(page.get_by_test_id("patrol-table")).to_contain_text("Stretford & Humphrey Park")
    small = page.evaluate(SMALL_TARGETS)
    assert not small, f"links under 44 px tall or 24 px wide at 390 px: {small}"
    broken = page.evaluate(BROKEN_WORDS)
    assert not broken, f"words broken across lines at 390 px: {broken}"
    check_page(page, "80-dashboard-targets")


def test_pcso_logs_another_from_the_saved_page(page, make_user):
    login(page, make_user())
    page.goto("/asb-incidents/new")
    button = page.get_by_role("button", name="Use my location")
    assert button.bounding_box()["y"] < page.locator("#summary").bounding_box()["y"], \
        "'Use my location' should come before the first field"
    assert button.bounding_box()["y"] < 844, "'Use my location' should be on the first screen"
    use_my_location(page)
    page.fill("#summary", "Youths on the tram platform")
    page.check("input[name=nsir_category][value=nuisance]")
    page.select_option("#asb_type", "rowdy_behaviour")
    page.fill("#description", "Shouting at passengers.")
    page.get_by_role("button", name="Submit for review").click()
    expect(flash(page)).to_contain_text("ASB incident saved.")

    another = page.get_by_role("link", name="Log another ASB incident")
    assert another.bounding_box()["y"] + another.bounding_box()["height"] < 844, "on the first screen"
    check_page(page, "81-saved-log-another")
    another.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New ASB incident")
    expect(page.locator("#summary")).to_have_value("")
    page.go_back()
    page.get_by_role("link", name="Log something else").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What are you logging?")


def test_leaflet_loads_only_on_pages_with_a_map(page, make_user):
    login(page, make_user())
    page.goto("/")
    assert page.evaluate("typeof window.L") == "undefined"
    page.goto("/beats/")
    expect(page.locator("[data-map] path.leaflet-interactive").first).to_be_attached()
    assert page.evaluate("typeof window.L.map") == "function"
