"""A PCSO opens the suggested patrols on a phone (390x844): the list with its reasons, the map, and starts a patrol
from a suggestion; the patrol keeps which suggestion it came from."""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from playwright.sync_api import expect

from pcso.extensions import db
from pcso.models import Patrol, PatrolSuggestion, User
from pcso.timeutil import utcnow
from tests import factories
from tests.browser.conftest import OLD_TRAFFORD, check_page, entry_id_from_url, flash, login, wait_for_map

SPOT = (53.4590, -2.2810)  # in Old Trafford ward


def test_pcso_starts_a_patrol_from_a_suggestion_on_a_phone(live_app, page, make_user, in_db, no_entries):
    pcso = make_user(name="Pat Walker")
    colleague = make_user(name="Col League")

    def reports():
        other, now = db.session.get(User, colleague.id), utcnow()
        for weeks in range(4):  # the same evening, four weeks running
            incident = factories.asb(other, OLD_TRAFFORD, occurred_at=now - timedelta(days=7 * weeks, hours=2))
            incident.lat, incident.lon = SPOT[0] + weeks * 0.0001, SPOT[1]

    in_db(reports)
    login(page, pcso)
    page.goto("/patrols/suggested")
    expect(page.get_by_role("heading", level=1)).to_have_text("Suggested patrols")
    suggestion = page.get_by_test_id("suggestion")
    expect(suggestion).to_have_count(1)
    expect(suggestion.get_by_test_id("suggestion-reason")).to_contain_text("4 ASB reports near ")
    expect(suggestion.get_by_test_id("suggestion-reason")).to_contain_text("last 28 days")
    wait_for_map(page)
    expect(page.locator("[data-map] path.leaflet-interactive").first).to_be_attached()
    expect(page.locator("[data-map] .leaflet-interactive[stroke='#0b2545']")).to_have_count(1)  # its point
    start = suggestion.get_by_test_id("start-suggested")
    box = start.bounding_box()
    assert box["height"] >= 44
    check_page(page, "patrol-plans-01-list-and-map")

    start.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Start a patrol")
    expect(flash(page)).to_contain_text("Suggested: 4 ASB reports near ")
    assert page.locator("#purpose").input_value().startswith("Suggested patrol near ")
    check_page(page, "patrol-plans-02-start-form")
    page.get_by_label("Foot").check()
    page.get_by_role("button", name="Start patrol").click()
    expect(page).to_have_url(re.compile(r"/entries/\d+$"), timeout=20_000)  # a loaded machine: give it time
    expect(page.locator(".flash", has_text="Patrol saved")).to_be_visible()
    patrol_id = entry_id_from_url(page)
    check_page(page, "patrol-plans-03-patrol")

    def recorded():
        patrol = db.session.get(Patrol, patrol_id)
        row = db.session.scalar(sa.select(PatrolSuggestion).where(PatrolSuggestion.user_id == pcso.id))
        return patrol.suggestion_id == row.id and patrol.author_id == pcso.id

    assert in_db(recorded)

    # The dashboard's block: the place was suggested today, too soon to compare (the open patrol is a draft).
    page.goto("/dashboard")
    block = page.get_by_test_id("dash-suggestions")
    expect(block.get_by_test_id("too-soon")).to_contain_text("1 place suggested less than 14 days ago")
    block.locator("summary", has_text="The places").click()
    expect(block.get_by_test_id("suggested-place")).to_contain_text("4 ASB reports near ")
    block.scroll_into_view_if_needed()
    check_page(page, "patrol-plans-04-dashboard")
