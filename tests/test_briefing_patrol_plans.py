"""The briefing's suggested patrols beyond the page (issue 12, part 5): the printable PDF and GET /api/v1/briefing
carry the same plans as the page, with their place, window and reason, built only from what the viewer may see,
and the PDF's disclosure names the entries behind them."""
from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

import pcso.pdf
from pcso.dashboard.hotspots import nearest_postcode
from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, EntryStatus, HandlingCode, PatrolSuggestion, Role, SecurityMarking
from pcso.patrol_plans.method import to_metres
from pcso.pdf import latin1_text
from pcso.timeutil import from_london, to_london, utcnow
from tests import factories
from tests.api.helpers import bearer, token
from tests.factories import signed_in, soup
from tests.job_files import download_from_job
from tests.test_exports import pdf_words

pytestmark = pytest.mark.usefixtures("memoised_hashing")

BEAT, OTHER_BEAT = "E05015247", "E05015253"
SPOT = (53.4650, -2.2700)  # inside Gorse Hill & Cornbrook (E05015247)
HIDDEN = (53.4680, -2.2650)  # the same beat, ~450 m away: only what the PCSO may not see is put here
PURPOSE, RECIPIENT = "Briefing the late turn PCSO team", "Old Trafford PCSO team"


def near(a, b, metres=200) -> bool:
    return math.dist(to_metres(*a), to_metres(*b)) < metres


def placed(entry, point):
    entry.lat, entry.lon = point
    db.session.flush()
    return entry


def ago(days: float):
    return utcnow() - timedelta(days=days)


@pytest.fixture
def world(app):
    """Three ASB reports at SPOT, one, eight and fifteen days ago (one weekday and hour): one plan. Submitted as
    they happened, so the briefing does not list them as new: only its suggested patrols draw on them."""
    pcso = factories.user(Role.PCSO, beats=[BEAT], name="Pat Beat")
    colleague = factories.user(Role.PCSO, beats=[BEAT], name="Col League")
    entries = [placed(factories.asb(colleague, BEAT, occurred_at=ago(1 + 7 * i)), (SPOT[0] + i * 0.0001, SPOT[1]))
               for i in range(3)]
    for entry in entries:
        entry.submitted_at = entry.occurred_at
    db.session.commit()
    return pcso, colleague, entries


@pytest.fixture
def core_font(monkeypatch):
    """The job's PDF in a core font (no DejaVu), so that its text can be read back."""
    monkeypatch.setattr(pcso.pdf, "unicode_font_paths", lambda: None)


def printed(app, user) -> str:
    browser = signed_in(app, user)
    response = download_from_job(browser, browser.post("/briefing.pdf", data={"purpose": PURPOSE,
                                                                            "recipient": RECIPIENT}))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return pdf_words(response.data)


def api_plans(app, user) -> list[dict]:
    response = app.test_client().get("/api/v1/briefing", headers=bearer(token(user)))
    assert response.status_code == 200
    return response.get_json()["patrol_plans"]


def page_reasons(app, user) -> list[str]:
    page = soup(signed_in(app, user).get("/briefing"))
    section = page.select_one("[data-testid=briefing-suggestions]")
    return [p.text for p in section.select("[data-testid=suggestion-reason]")]


def disclosure() -> AuditEvent:
    db.session.expire_all()
    (event,) = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.object_type == "briefing",
                                                              AuditEvent.action == AuditAction.DISCLOSE))
    return event


def test_the_briefing_pdf_prints_the_pages_suggested_patrols_and_its_disclosure_names_their_entries(
        app, world, core_font):
    pcso, _, entries = world
    (reason,) = page_reasons(app, pcso)
    assert reason.startswith("3 ASB reports near ")
    text = printed(app, pcso)
    assert "Suggested patrols" in text and latin1_text(reason) in text  # the en dash of the window prints as "-"
    row = db.session.scalar(sa.select(PatrolSuggestion).where(PatrolSuggestion.user_id == pcso.id))
    assert f"1. Near {row.postcode}" in text
    assert f"When: {latin1_text(row.reason.split(', ')[1])}" in text  # "Fri 20:00-23:00": the window
    assert f"Where: {row.lat:.4f}, {row.lon:.4f}, about {int(row.radius_m)} m around" in text
    event = disclosure()
    assert event.details["new"] == 0  # not listed: named because the suggestion is drawn from them
    assert {e.id for e in entries} <= set(event.details["records"]["entry"]["ids"])
    assert event.details["suggestions"] == [row.id]  # the row the page kept today: one suggestion, kept once
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PatrolSuggestion)) == 1


def test_the_briefing_pdf_says_when_there_is_nothing_to_suggest(app, core_font):
    pcso = factories.user(Role.PCSO, beats=[BEAT])
    db.session.commit()
    text = printed(app, pcso)
    assert "Suggested patrols Nothing clusters enough in the last 28 days to suggest a place." in text
    assert disclosure().details["suggestions"] == []


def test_the_api_briefing_returns_the_pages_suggested_patrols_with_their_reasons(app, world):
    pcso, _, entries = world
    (reason,) = page_reasons(app, pcso)
    before = db.session.scalar(sa.select(sa.func.max(AuditEvent.id)))
    (plan,) = api_plans(app, pcso)
    row = db.session.scalar(sa.select(PatrolSuggestion).where(PatrolSuggestion.user_id == pcso.id))
    assert plan["reason"] == reason == row.reason
    assert (plan["id"], plan["rank"], plan["beat_id"], plan["postcode"]) == (row.id, 1, row.beat_id, row.postcode)
    assert near((plan["lat"], plan["lon"]), SPOT) and plan["days"] == list(row.weekdays)
    assert plan["window"] in reason and plan["hours"] == 3 and plan["counts"]["asb"] == 3
    assert plan["start_url"] == f"/patrols/suggested/{row.id}/start" and plan["handling_conditions"] == []
    (event,) = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id > before,
                                                              AuditEvent.action == AuditAction.VIEW))
    assert event.details["format"] == "api" and event.details["suggestions"] == [row.id]
    assert {e.id for e in entries} <= set(event.details["records"]["entry"]["ids"])


def test_a_pcsos_printed_and_api_suggestions_never_draw_on_what_they_may_not_see(app, world, core_font):
    pcso, colleague, entries = world
    supervisor = factories.user(Role.SUPERVISOR)
    other_pcso = factories.user(Role.PCSO, beats=[OTHER_BEAT])
    hidden = []
    for i in range(4):
        at = ago(2 + 7 * i)
        hidden += [
            placed(factories.welfare(colleague, spoc=supervisor, occurred_at=at), HIDDEN),  # not theirs to see
            placed(factories.intel(colleague, occurred_at=at), HIDDEN),  # OFFICIAL-SENSITIVE
            placed(factories.asb(colleague, BEAT, occurred_at=at, status=EntryStatus.DRAFT), HIDDEN),
            factories.asb(colleague, OTHER_BEAT, occurred_at=at),  # another beat (at its middle)
        ]
    db.session.commit()
    other_place = (hidden[-1].lat, hidden[-1].lon)
    # The other beat's reports do make a place, for an officer of that beat: the data can make one.
    assert any(near((p["lat"], p["lon"]), other_place) for p in api_plans(app, other_pcso))

    (plan,) = api_plans(app, pcso)
    assert near((plan["lat"], plan["lon"]), SPOT) and plan["counts"] == {
        "asb": 3, "asb_in_window": 3, "intel": 0, "intel_in_window": 0, "street_crime": 0}
    text = printed(app, pcso)
    assert plan["reason"].replace("\u2013", "-") in text
    assert text.count("Near ") == 1  # one plan printed (hotspots read "Near" too: none here, the reports are spread)
    for point in (HIDDEN, other_place):
        postcode = nearest_postcode(*point)
        assert postcode and postcode != plan["postcode"] and postcode not in text
    named = set(disclosure().details["records"]["entry"]["ids"])
    assert {e.id for e in entries} <= named and not named & {e.id for e in hidden}
    kept = db.session.scalars(sa.select(PatrolSuggestion).where(PatrolSuggestion.user_id == pcso.id)).all()
    assert [row.id for row in kept] == [plan["id"]] and not set(kept[0].basis["entry_ids"]) & {e.id for e in hidden}


def test_handling_code_c_conditions_go_with_a_suggestion_into_the_pdf_and_the_api(app, world, core_font):
    pcso, colleague, _ = world
    report = placed(factories.intel(colleague, occurred_at=ago(1), marking=SecurityMarking.OFFICIAL,
                                    handling_code=HandlingCode.CONDITIONS,
                                    handling_conditions="Only to the council ASB team"), SPOT)
    report.submitted_at = ago(3)  # before this briefing's 24 hours: it is not listed, only counted in the plan
    db.session.commit()
    (plan,) = api_plans(app, pcso)
    assert plan["counts"]["intel"] == 1 and plan["handling_conditions"] == ["Only to the council ASB team"]
    text = printed(app, pcso)
    assert "No new intelligence you can see." in text  # the report itself is not in the briefing's list
    assert text.count("Handling code C - share only on these conditions: Only to the council ASB team") == 1


def test_a_window_open_now_says_until_when_on_the_page_in_the_pdf_and_in_the_api(app, core_font):
    """Reports at this London hour one, two and three weeks ago: the window is centred on them (this hour, with
    one before and one after), so it is open now and closes two hours after this hour starts."""
    pcso = factories.user(Role.PCSO, beats=[BEAT])
    colleague = factories.user(Role.PCSO, beats=[BEAT])
    here = to_london(utcnow()).replace(tzinfo=None)
    for weeks in (1, 2, 3):
        entry = placed(factories.asb(colleague, BEAT, occurred_at=from_london(here - timedelta(weeks=weeks))), SPOT)
        entry.submitted_at = entry.occurred_at
    db.session.commit()
    closes = f"{(here.hour + 2) % 24:02d}:00"
    (plan,) = api_plans(app, pcso)
    assert plan["is_now"] and plan["hours"] == 3
    assert to_london(datetime.fromisoformat(plan["next_end"])).strftime("%H:%M") == closes
    page = soup(signed_in(app, pcso).get("/briefing")).select_one("[data-testid=briefing-suggestions]")
    assert f"Now, until {closes}" in " ".join(page.select_one("[data-testid=suggestion] .meta").text.split())
    assert f"now, until {closes}" in printed(app, pcso)
