"""The data.police.uk context layer on a beat page, in Chromium at 390x844."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from pcso.extensions import db
from pcso.models import Beat, StreetCrime
from tests.browser.conftest import check_page, login, wait_for_map
from tests.conftest import POLICE_UK_CSV

REAL = POLICE_UK_CSV
CITY_BEATS = Path(__file__).resolve().parents[1] / "data" / "city_of_london_beats.geojson"
CITY_CODES = ("COL-W", "COL-E")
LABEL = "data.police.uk street-level crime (public, monthly, approximate location)"


@pytest.fixture
def city_with_crime(live_app):
    """The test beats over part of the City of London, with the real October 2025 file imported; removed after."""
    runner = live_app.test_cli_runner()
    for args in (["beats", "import", str(CITY_BEATS)], ["import", "police-uk", str(REAL)]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    with live_app.app_context():
        west = db.session.scalar(sa.select(Beat.id).where(Beat.code == "COL-W"))
        points = db.session.execute(sa.select(StreetCrime.lat, StreetCrime.lon).where(StreetCrime.beat_id == west)
                                    .distinct()).all()
        rows = db.session.scalar(sa.select(sa.func.count()).where(StreetCrime.beat_id == west))
        db.session.remove()
    yield {"beat_id": west, "points": len(points), "rows": rows}
    with live_app.app_context():
        db.session.execute(sa.delete(StreetCrime))
        db.session.execute(sa.delete(Beat).where(Beat.code.in_(CITY_CODES)))
        db.session.commit()
        db.session.remove()


def test_a_reader_sees_the_street_crime_layer_and_counts_on_a_beat_page(page, make_user, city_with_crime):
    login(page, make_user())
    page.goto(f"/beats/{city_with_crime['beat_id']}")
    wait_for_map(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("City West (test)")

    key = page.get_by_test_id("street-crime-key")
    expect(key).to_be_visible()
    toggle = key.get_by_label(LABEL)
    expect(toggle).to_be_checked()
    expect(key).to_contain_text("October 2025")
    expect(key).to_contain_text("Open Government Licence v3.0 (data.police.uk)")
    markers = page.locator("[data-map] .street-crime-marker")
    expect(markers).to_have_count(city_with_crime["points"])
    shown = sum(int(text) for text in markers.all_inner_texts())
    assert shown == city_with_crime["rows"]  # one marker per snap point, its number the rows there

    counts = page.get_by_test_id("street-crime")
    expect(counts.locator("thead th").nth(1)).to_have_text("Oct 2025")
    expect(counts.locator("tfoot td")).to_have_text(str(city_with_crime["rows"]))
    check_page(page, "beat-context-390")

    markers.first.click()
    popup = page.locator(".leaflet-popup-content .street-crime-popup")
    expect(popup).to_contain_text(re.compile(r"\d+ crimes? \(2025-10\), data\.police\.uk"))
    page.locator(".leaflet-popup-close-button").click()

    toggle.uncheck()
    expect(markers).to_have_count(0)
    toggle.check()
    expect(markers).to_have_count(city_with_crime["points"])
