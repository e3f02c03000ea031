"""The beat dashboard in a browser: a supervisor's morning at phone size and at a desk; a PCSO's own beat."""
from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from pcso.extensions import db
from pcso.models import AsbType, EntryStatus, PatrolMode, Role, StreetCrime
from pcso.timeutil import to_london, utcnow
from tests import factories
from tests.browser.conftest import OLD_TRAFFORD, beat_id, check_page, login, open_menu_link, screenshot, settle_maps
from tests.test_dashboard import asb, at, patrol, welfare

DESK = {"width": 1280, "height": 900}


def a_month_on_old_trafford():
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    victim = factories.person("Vera Repeatvictim")
    for days in (1, 2, 4):
        asb(pcso, OLD_TRAFFORD, days, asb_type=AsbType.NOISE, victims=[victim])
    for days, asb_type in ((3, AsbType.ROWDY_BEHAVIOUR), (9, AsbType.LITTERING_DRUGS), (15, AsbType.FIREWORKS),
                           (40, AsbType.NOISE)):
        asb(pcso, OLD_TRAFFORD, days, asb_type=asb_type)
    asb(pcso, OLD_TRAFFORD, 5, status=EntryStatus.DRAFT)
    for days, mode, minutes in ((1, PatrolMode.FOOT, 120), (6, PatrolMode.CYCLE, 90), (12, PatrolMode.FOOT, 60)):
        patrol(pcso, OLD_TRAFFORD, days, mode=mode, minutes=minutes)
    welfare(pcso, factories.person("Kai Overduechild"), 35, -3)
    welfare(pcso, factories.person("Lena Duesoonchild"), 26, 2)
    factories.school_visit(pcso, OLD_TRAFFORD, occurred_at=at(8))
    beat = factories.beat(OLD_TRAFFORD)
    for i in range(3):
        db.session.add(StreetCrime(row_key=str(uuid.uuid4()), month=to_london(utcnow()).date().replace(day=1),
                                   reported_by="Greater Manchester Police", falls_within="Greater Manchester Police",
                                   lat=beat.min_lat + 0.004 + i * 0.001, lon=beat.min_lon + 0.006,
                                   crime_type="Vehicle crime", beat_id=beat.id, source_file="test.csv"))
    return pcso.id


def test_supervisor_reads_the_dashboard_on_a_phone_and_opens_a_figure(new_context, make_user, in_db, live_app,
                                                                     no_entries):
    in_db(a_month_on_old_trafford)
    sergeant = make_user(Role.SUPERVISOR, beats=(OLD_TRAFFORD,))
    page = new_context().new_page()
    login(page, sergeant)
    open_menu_link(page, "Dashboard")
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    page.select_option("#beat", str(beat_id(live_app)))
    expect(page.locator("[data-dash-dates]")).to_be_hidden()  # dates only for "Dates I choose"
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("dash-scope")).to_contain_text("Old Trafford")

    expect(page.get_by_test_id("figure-welfare-overdue").locator(".dash-tile__n")).to_have_text("1")
    expect(page.get_by_test_id("figure-welfare-due-week").locator(".dash-tile__n")).to_have_text("1")
    expect(page.get_by_test_id("figure-repeat-victims").locator(".dash-tile__n")).to_have_text("1")
    expect(page.get_by_test_id("repeat-victims")).to_contain_text("Vera Repeatvictim")
    expect(page.get_by_test_id("figure-kind-asb-incidents")).to_contain_text("6 ASB incidents")
    expect(page.get_by_test_id("figure-mode-foot")).to_contain_text("3.0 h")

    # the over-time chart is drawn (Chart.js) and its figures are also a table
    chart = page.locator(".dash-chart--time")
    expect(chart).to_be_visible()
    assert chart.locator("canvas").bounding_box()["height"] > 150
    page.get_by_text("Entries per day, as a table").click()
    expect(page.get_by_test_id("kinds-table")).to_be_visible()

    # the map: hotspot markers for 7 days, then 28; the public layer is labelled and can be shown
    expect(page.locator(".dash-spot")).to_have_count(1)
    expect(page.locator(".dash-spot")).to_have_text("4")  # days 1, 2, 3, 4 (the draft is not counted)
    page.get_by_role("radio", name="Last 28 days").check()
    expect(page.locator(".dash-spot")).to_have_text("6")
    toggle = page.get_by_label(re.compile(r"data\.police\.uk \(public, monthly, approximate\)"))
    toggle.check()
    expect(page.locator(".dash-map path.leaflet-interactive, .dash-map canvas").first).to_be_attached()
    page.get_by_text("Entries per day, as a table").click()  # fold the table again for the picture
    check_page(page, "70-supervisor-dashboard-phone")

    # a figure opens the list behind it, with the same count
    page.get_by_test_id("figure-kind-asb-incidents").click()
    expect(page).to_have_url(re.compile(r"/lists/entries\?"))
    expect(page.get_by_test_id("result-count")).to_have_text(re.compile(r"^6 entries"))


def test_supervisor_dashboard_at_a_desk_and_a_pcsos_own_beat(new_context, make_user, in_db, live_app, problems,
                                                             no_entries):
    author_id = in_db(a_month_on_old_trafford)
    sergeant = make_user(Role.SUPERVISOR, beats=(OLD_TRAFFORD,))
    page = new_context(viewport=DESK, is_mobile=False, has_touch=False).new_page()
    login(page, sergeant)
    page.goto("/dashboard")
    expect(page.locator(".dash-chart--bars").first).to_be_visible()  # ASB by type: the chart beside its table
    expect(page.get_by_test_id("welfare-due")).to_contain_text("Kai Overduechild")
    settle_maps(page)
    screenshot(page, "71-supervisor-dashboard-desk")
    assert page.evaluate("document.documentElement.scrollWidth") <= DESK["width"]

    # a PCSO on another beat: only their beats to choose, no welfare names, and another beat is a 404
    colleague = make_user(Role.PCSO, beats=("E05015239",))
    page = new_context().new_page()
    login(page, colleague)
    open_menu_link(page, "Dashboard")
    expect(page.locator("#beat option")).to_have_count(2)  # all my beats, Altrincham
    expect(page.locator("main")).not_to_contain_text("Kai Overduechild")
    expect(page.get_by_test_id("figure-welfare-overdue").locator(".dash-tile__n")).to_have_text("0")
    check_page(page, "72-pcso-dashboard-phone")
    problems.allow(r"status of 404")  # asked for below
    response = page.goto(f"/dashboard?beat={beat_id(live_app)}")
    assert response.status == 404
    assert author_id
