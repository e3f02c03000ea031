""""Use my location" and the postcode lookup with no signal, from the copy of the user's beats on the phone.

The page keeps /geo/offline-pack in Cache Storage while online; offline (context.set_offline), a GPS fix
still shows its accuracy and the beat worked out on the phone, a postcode in the beat is found from the
copy, and a point outside the user's beats says so.
"""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import check_page, login

M16_0WE = "m16 0we"  # an Old Trafford postcode, typed as a PCSO might
ALTRINCHAM = {"latitude": 53.385906, "longitude": -2.338394, "accuracy": 20}  # WA13 0QD: another beat


def pack_is_cached(page, user_id: int) -> None:
    assert page.evaluate("() => window.BeatbookPlaces.refreshed") is True
    count = page.evaluate("""(name) => caches.open(name)
        .then(cache => cache.match('/geo/offline-pack')).then(r => r ? r.json() : null)
        .then(pack => pack && pack.postcodes.length)""", f"beatbook-data-{user_id}")
    assert count and count > 100, count


def test_use_my_location_and_a_postcode_work_offline(context, make_user):
    pcso = make_user()
    page = context.new_page()
    login(page, pcso)
    page.goto("/asb-incidents/new")
    pack_is_cached(page, pcso.id)

    context.set_offline(True)
    assert page.evaluate("() => navigator.onLine") is False
    status = page.locator("[data-location-status]")
    page.get_by_role("button", name="Use my location").click()
    expect(status).to_have_text("Location found, accurate to ±12 m. Beat (worked out on this phone): "
                                "Old Trafford (E05015253). It is checked again when the entry is sent.")
    form = page.locator("form[data-entry-form]")
    assert form.evaluate("f => [f.dataset.phoneBeatName, f.dataset.phoneBeatSource]") == ["Old Trafford", "phone"]
    assert form.evaluate("f => f.dataset.phoneBeatId").isdigit()
    assert page.locator("#lat").input_value() == "53.464903"
    check_page(page, "70-location-offline-beat-from-phone")

    page.fill("#postcode", M16_0WE)
    page.get_by_role("button", name="Find").click()
    expect(status).to_have_text("M16 0WE found on this phone. Beat (worked out on this phone): "
                                "Old Trafford (E05015253). It is checked again when the entry is sent.")
    # The same field meanings as online: the server looks the postcode up again on save.
    assert page.locator("#postcode").input_value() == "M16 0WE"
    assert (page.locator("#lat").input_value(), page.locator("#location_source").input_value()) == ("", "postcode")

    page.fill("#postcode", "WA13 0QD")  # Altrincham: not among this PCSO's beats' postcodes
    page.get_by_role("button", name="Find").click()
    expect(status).to_contain_text("WA13 0QD is not among your beats' postcodes saved on this phone")
    assert form.evaluate("f => f.dataset.phoneBeatId") is None

    context.set_geolocation(ALTRINCHAM)
    page.get_by_role("button", name="Use my location").click()
    expect(status).to_have_text("Location found, accurate to ±20 m. This is outside your beats on this phone's map: "
                                "choose the beat below, or it will be worked out when the entry is sent.")
    check_page(page, "71-location-offline-outside-beats")
    context.set_offline(False)


def test_a_dropped_signal_while_online_falls_back_to_the_phone(context, make_user, problems):
    """navigator.onLine can say online with no signal: a failed /geo/locate falls back the same way."""
    pcso = make_user()
    page = context.new_page()
    login(page, pcso)
    page.goto("/patrols/new")
    pack_is_cached(page, pcso.id)
    problems.allow(r"net::ERR_FAILED|Failed to load resource")
    page.route("**/geo/locate", lambda route: route.abort())
    page.get_by_role("button", name="Use my location").click()
    expect(page.locator("[data-location-status]")).to_contain_text(
        "Beat (worked out on this phone): Old Trafford (E05015253)")


def test_no_saved_map_and_no_signal_says_so_plainly(context, make_user, problems):
    pcso = make_user()
    page = context.new_page()
    problems.allow(r"net::ERR_FAILED|Failed to load resource")
    page.route("**/geo/offline-pack", lambda route: route.abort())  # the pack never arrived on this phone
    login(page, pcso)
    page.goto("/asb-incidents/new")
    assert page.evaluate("() => window.BeatbookPlaces.refreshed") is False
    context.set_offline(True)
    page.get_by_role("button", name="Use my location").click()
    expect(page.locator("[data-location-status]")).to_have_text(
        "Location found, accurate to ±12 m. No signal and no saved beat map on this phone: "
        "the beat will be worked out when the entry is sent.")
    context.set_offline(False)


def test_a_pack_unchanged_since_the_last_page_is_not_sent_again(context, make_user):
    pcso = make_user()
    page = context.new_page()
    login(page, pcso)
    page.goto("/")
    pack_is_cached(page, pcso.id)
    answers = []
    page.on("response", lambda r: answers.append(r.status) if r.url.endswith("/geo/offline-pack") else None)
    page.goto("/entries/new")
    assert page.evaluate("() => window.BeatbookPlaces.refreshed") is True
    assert answers == [304], answers


SQUARE_WITH_HOLE = [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], [[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]]
FAR_SQUARE = [[[10, 10], [12, 10], [12, 12], [10, 12], [10, 10]]]
TEST_PACK = {"version": "test", "beats": [
    {"id": 1, "code": "T1", "name": "Ring", "outline": {"type": "MultiPolygon",
                                                        "coordinates": [SQUARE_WITH_HOLE, FAR_SQUARE]}},
    {"id": 2, "code": "T2", "name": "Island", "outline": {"type": "Polygon",
                                                          "coordinates": [[[1.5, 1.5], [2.5, 1.5], [2.5, 2.5],
                                                                           [1.5, 2.5], [1.5, 1.5]]]}}],
    "postcodes": [["M16 0WE", 2.0, 2.0, 2], ["M15 4AD", 0.5, 0.5, 1], ["WA14 1AA", 50.0, 50.0, None]]}


def test_the_phone_finds_beats_in_multipolygons_with_holes_and_normalises_postcodes(context, make_user):
    pcso = make_user()
    page = context.new_page()
    page.route("**/geo/offline-pack", lambda route: route.fulfill(json=TEST_PACK))
    login(page, pcso)
    page.goto("/entries/new")
    assert page.evaluate("() => window.BeatbookPlaces.refreshed") is True
    # (lat, lon): GeoJSON rings are [lon, lat]
    cases = {(0.5, 0.5): "T1", (2.0, 0.5): "T1", (1.2, 1.2): None, (2.0, 2.0): "T2", (11, 11): "T1",
             (5, 5): None, (-1, 2): None, (3.5, 3.5): "T1"}
    found = page.evaluate("""(cases) => Promise.all(cases.map(([lat, lon]) =>
        window.BeatbookPlaces.beatAt(lat, lon).then(beat => beat && beat.code)))""", [list(k) for k in cases])
    assert dict(zip(cases, found)) == cases
    postcodes = page.evaluate("""() => Promise.all(['m160we', ' M15  4ad ', 'wa141aa', 'nonsense', 'SW1A 1AA']
        .map(text => window.BeatbookPlaces.postcode(text).then(p => p && [p.postcode, p.beat && p.beat.code])))""")
    assert postcodes == [["M16 0WE", "T2"], ["M15 4AD", "T1"], ["WA14 1AA", None], None, None]
    assert page.evaluate("() => ['gir 0aa', 'M1 1AE', 'm11ae', 'Q1 1AA', 'M1 1CA', 'EC1A1BB']"
                         ".map(window.BeatbookPlaces.normalisePostcode)") == [
        "GIR 0AA", "M1 1AE", "M1 1AE", None, None, "EC1A 1BB"]
