"""Patrol suggestions (pcso/patrol_plans): the method on fixed data, what the viewer may see, the pages, starting a
patrol from a suggestion, and the dashboard's measure."""
from __future__ import annotations

import math
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import (
    AuditAction, AuditEvent, EntryStatus, IntelAssessment, NsirCategory, Patrol, PatrolSuggestion, Role,
    SecurityMarking, SourceEvaluation,
)
from pcso.patrol_plans.method import (
    DEFAULT, asb_record, best_window, intel_record, plan_places, reason_text, to_metres, window_label,
)
from pcso.patrol_plans.services import record_suggestions, suggest_patrols
from pcso.timeutil import from_london, to_london
from tests import factories
from tests.factories import signed_in, soup
from tests.patrol_plan_data import PLANTED, generated

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)  # a Saturday noon
BEAT, OTHER_BEAT = "E05015247", "E05015253"
SPOT = (53.4650, -2.2700)  # inside Gorse Hill & Cornbrook (E05015247)
ELSEWHERE = (53.4600, -2.2790)


def london(text: str) -> datetime:
    return from_london(datetime.fromisoformat(text))


def near(a, b, metres=200) -> bool:
    return math.dist(to_metres(*a), to_metres(*b)) < metres


# --- the method, on fixed records (no database) -----------------------------------------------------------

def test_the_planted_hotspot_ranks_first_in_generated_data_with_its_window():
    suggestions = plan_places(generated(NOW, seed=7, background=300, planted=20), now=NOW)
    top = suggestions[0]
    assert near((top.lat, top.lon), PLANTED)
    assert (top.days, top.hour_from) == ((5, 6), 20)  # Fri-Sat 20:00-23:00, as planted
    assert len(suggestions) == DEFAULT.limit
    assert plan_places(generated(NOW, seed=7, background=300, planted=20), now=NOW) == suggestions  # reproducible


def test_without_the_plant_the_first_place_is_elsewhere():
    """The test above can fail: with nothing planted the top place is not the planted spot."""
    top = plan_places(generated(NOW, seed=7, background=300, planted=0), now=NOW)[0]
    assert not near((top.lat, top.lon), PLANTED)


def _cluster(point, n, *, start_id, at, category=NsirCategory.NUISANCE, params=DEFAULT):
    return [asb_record(start_id + i, 1, point[0] + i * 0.00005, point[1], at, category, now=NOW, params=params)
            for i in range(n)]


def test_a_recent_cluster_outranks_an_older_one_of_the_same_size_and_the_half_life_sets_by_how_much():
    recent = _cluster(SPOT, 4, start_id=1, at=NOW - timedelta(days=2))
    old = _cluster(ELSEWHERE, 5, start_id=100, at=NOW - timedelta(days=20))
    first = plan_places(recent + old, now=NOW)
    assert near((first[0].lat, first[0].lon), SPOT)
    # With a very long half-life, age hardly matters: the larger, older cluster wins.
    slow = replace(DEFAULT, half_life_days=1000)
    recent = _cluster(SPOT, 4, start_id=1, at=NOW - timedelta(days=2), params=slow)
    old = _cluster(ELSEWHERE, 5, start_id=100, at=NOW - timedelta(days=20), params=slow)
    assert near((plan_places(recent + old, now=NOW, params=slow)[0].lat, first[1].lon), ELSEWHERE, 300)


def test_personal_asb_outranks_environmental_and_false_intelligence_counts_for_nothing():
    at = NOW - timedelta(days=3)
    personal = _cluster(SPOT, 3, start_id=1, at=at, category=NsirCategory.PERSONAL)
    environmental = _cluster(ELSEWHERE, 4, start_id=100, at=at, category=NsirCategory.ENVIRONMENTAL)
    top = plan_places(personal + environmental, now=NOW)[0]
    assert near((top.lat, top.lon), SPOT)
    assert intel_record(1, 1, *SPOT, at, SourceEvaluation.RELIABLE, IntelAssessment.SUSPECTED_FALSE, now=NOW) is None
    good = intel_record(1, 1, *SPOT, at, SourceEvaluation.RELIABLE, IntelAssessment.KNOWN_DIRECTLY, now=NOW)
    weak = intel_record(2, 1, *SPOT, at, SourceEvaluation.NOT_RELIABLE, IntelAssessment.NOT_KNOWN, now=NOW)
    assert good.weight > weak.weight > 0


def test_the_window_is_one_day_when_one_day_is_busy_and_two_when_both_are():
    def at(day: str, hour: int):
        return london(f"{day}T{hour:02d}:30")

    fridays = [asb_record(i, 1, *SPOT, at("2026-11-27", 21), NsirCategory.NUISANCE, now=NOW) for i in range(5)]
    assert best_window(fridays, 3)[0] == (5,)
    both = fridays + [asb_record(10 + i, 1, *SPOT, at("2026-11-28", 21), NsirCategory.NUISANCE, now=NOW)
                      for i in range(4)]
    days, hour = best_window(both, 3)
    assert days == (5, 6) and hour <= 21 < hour + 3
    late = [asb_record(i, 1, *SPOT, at(day, h), NsirCategory.NUISANCE, now=NOW)
            for i, (day, h) in enumerate((("2026-11-28", 23), ("2026-11-29", 0), ("2026-11-29", 0), ("2026-11-29", 1)))]
    days, hour = best_window(late, 3)  # across midnight: Saturday night into Sunday morning
    assert (days, hour) == ((6,), 23) and window_label(days, hour, 3) == "Sat 23:00–02:00"
    at_two = [asb_record(i, 1, *SPOT, london(f"2026-11-26T14:{10 * i:02d}"), NsirCategory.NUISANCE, now=NOW)
              for i in range(3)]
    assert best_window(at_two, 3) == ((4,), 13)  # Thu 13:00-16:00: centred on them, not 12:00-15:00


def test_the_reason_says_how_many_where_when_and_over_what_period():
    records = [asb_record(i, 1, *SPOT, london(f"2026-11-{27 + i % 2}T2{i % 3}:10"), NsirCategory.NUISANCE, now=NOW)
               for i in range(7)]
    (s,) = plan_places(records, now=NOW, postcode_of=lambda lat, lon: "M32 0DH")
    assert s.reason == "7 ASB reports near M32 0DH, Fri–Sat 20:00–23:00, last 28 days"
    s.counts.update(asb=9, intel=2, street_crime=12)
    assert reason_text(s, DEFAULT, crime_months=["Sep 2026", "Oct 2026"]) == (
        "7 ASB reports near M32 0DH, Fri–Sat 20:00–23:00, last 28 days; 2 more at other times; "
        "2 intelligence reports; 12 street crimes (data.police.uk, Sep 2026–Oct 2026)")
    s.counts.update(asb=6, asb_in_window=2, intel=0, street_crime=0)  # the window holds under half: said so
    assert reason_text(s, DEFAULT, crime_months=[]) == (
        "6 ASB reports near M32 0DH, last 28 days, spread over the week (busiest Fri–Sat 20:00–23:00: 2)")


def test_a_single_report_is_not_a_place():
    assert plan_places([asb_record(1, 1, *SPOT, NOW - timedelta(days=1), NsirCategory.PERSONAL, now=NOW)], now=NOW) == []


# --- from the database, as a viewer may see it -----------------------------------------------------------------

def placed(entry, point):
    entry.lat, entry.lon = point
    db.session.flush()
    return entry


def _asb_at(author, point, at, *, beat_code=BEAT, **kw):
    return placed(factories.asb(author, beat_code=beat_code, occurred_at=at, **kw), point)


@pytest.fixture
def beat_world(app):
    pcso = factories.user(Role.PCSO, beats=[BEAT])
    colleague = factories.user(Role.PCSO, beats=[BEAT])
    for i in range(4):  # Friday evenings at the spot
        _asb_at(colleague, (SPOT[0] + i * 0.0001, SPOT[1]), london(f"2026-{'11-27' if i % 2 else '12-04'}T21:{10 + i}"))
    for i in range(2):
        _asb_at(colleague, (ELSEWHERE[0], ELSEWHERE[1] + i * 0.0001), london(f"2026-12-0{1 + i}T15:00"))
    db.session.commit()
    return pcso, colleague


def _shape(suggestions):
    return [(s.key, s.reason, s.score, s.entry_ids) for s in suggestions]


def test_suggestions_come_from_the_entries_on_the_officers_beat(app, beat_world):
    pcso, _ = beat_world
    suggestions = suggest_patrols(pcso, set(pcso.beat_ids), now=NOW)
    assert near((suggestions[0].lat, suggestions[0].lon), SPOT) and suggestions[0].days == (5,)
    assert suggestions[0].reason.startswith("4 ASB reports near ")
    assert len(suggestions) == 2


def test_entries_the_pcso_may_not_see_change_nothing_in_their_suggestions(app, beat_world):
    pcso, colleague = beat_world
    before = _shape(suggest_patrols(pcso, set(pcso.beat_ids), now=NOW))
    hidden_spot = (53.4680, -2.2650)
    supervisor = factories.user(Role.SUPERVISOR)
    for i in range(5):
        # OFFICIAL-SENSITIVE intelligence (supervisors and analysts only), at the spot and at a new place
        placed(factories.intel(colleague, occurred_at=london("2026-11-27T21:00"),
                               source_evaluation=SourceEvaluation.RELIABLE, assessment=IntelAssessment.KNOWN_DIRECTLY),
               SPOT)
        placed(factories.intel(colleague, occurred_at=london("2026-11-28T10:00")), hidden_spot)
        _asb_at(colleague, hidden_spot, london("2026-11-29T10:00"), status=EntryStatus.DRAFT)  # someone's draft
        _asb_at(colleague, hidden_spot, london("2026-11-29T11:00"), beat_code=OTHER_BEAT)  # on another beat
        placed(factories.welfare(colleague, spoc=supervisor, occurred_at=london("2026-11-30T16:00")),
               hidden_spot)  # a welfare check the PCSO is not SPOC of
    db.session.commit()
    assert _shape(suggest_patrols(pcso, set(pcso.beat_ids), now=NOW)) == before
    # A PCSO of another beat asking for this one sees none of its entries (visible_entries), so gets nothing.
    stranger = factories.user(Role.PCSO, beats=[OTHER_BEAT])
    assert suggest_patrols(stranger, set(pcso.beat_ids), now=NOW) == []
    # ... and the supervisor, who may open the sensitive reports, still never gets them: OFFICIAL only
    assert _shape(suggest_patrols(supervisor, set(pcso.beat_ids), now=NOW)) == before


def test_welfare_checks_are_never_places_even_for_their_spoc(app, beat_world):
    pcso, _ = beat_world
    before = _shape(suggest_patrols(pcso, set(pcso.beat_ids), now=NOW))
    for i in range(4):
        placed(factories.welfare(pcso, occurred_at=london(f"2026-11-2{i}T16:00")), (53.4680, -2.2650))
    db.session.commit()
    assert _shape(suggest_patrols(pcso, set(pcso.beat_ids), now=NOW)) == before


def test_visible_official_intelligence_counts_and_is_named_in_the_reason(app, beat_world):
    pcso, colleague = beat_world
    placed(factories.intel(colleague, occurred_at=london("2026-11-27T21:30"), marking=SecurityMarking.OFFICIAL), SPOT)
    db.session.commit()
    (top, *_) = suggest_patrols(pcso, set(pcso.beat_ids), now=NOW)
    assert "; 1 intelligence report" in top.reason and top.counts["intel"] == 1


def test_shown_suggestions_are_kept_once_a_day_per_officer(app, beat_world):
    pcso, _ = beat_world
    for _ in range(2):
        suggestions = suggest_patrols(pcso, set(pcso.beat_ids), now=NOW)
        record_suggestions(pcso, suggestions, now=NOW)
        db.session.commit()
    rows = db.session.scalars(sa.select(PatrolSuggestion).order_by(PatrolSuggestion.rank)).all()
    assert [(r.user_id, r.rank, r.reason) for r in rows] == [(pcso.id, s.rank, s.reason) for s in suggestions]
    assert rows[0].basis["entry_ids"] == suggestions[0].entry_ids and rows[0].basis["params"]["half_life_days"] == 7.0
    assert to_london(rows[0].created_at).date() == rows[0].suggested_on


# --- the pages ---------------------------------------------------------------------------------------------------

@pytest.fixture
def live_world(app):
    """Reports at SPOT in the last few days (the pages use the real clock)."""
    from pcso.timeutil import utcnow

    pcso = factories.user(Role.PCSO, beats=[BEAT])
    colleague = factories.user(Role.PCSO, beats=[BEAT])
    entries = [_asb_at(colleague, (SPOT[0] + i * 0.0001, SPOT[1]), utcnow() - timedelta(days=1 + 7 * i)) for i in range(3)]
    db.session.commit()
    return pcso, colleague, entries


def _views_since(before: int):
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id > before,
                                                          AuditEvent.action == AuditAction.VIEW)).all()


def _last_id() -> int:
    return db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0


def test_pcso_can_see_suggested_patrols_with_reasons_and_the_view_names_the_entries_behind_them(app, live_world):
    pcso, _, entries = live_world
    browser = signed_in(app, pcso)
    before = _last_id()
    response = browser.get("/patrols/suggested")
    assert response.status_code == 200
    page = soup(response)
    (item,) = page.select("[data-testid=suggestion]")
    assert item.select_one("[data-testid=suggestion-reason]").text.startswith("3 ASB reports near ")
    assert page.select_one("[data-map]")["data-points"]
    row = db.session.scalar(sa.select(PatrolSuggestion))
    assert item.select_one("[data-testid=start-suggested]")["href"] == f"/patrols/suggested/{row.id}/start"
    (event,) = _views_since(before)
    assert sorted(event.details["records"]["entry"]["ids"]) == sorted(e.id for e in entries)
    assert event.details["suggestions"] == [row.id]


def test_supervisor_chooses_a_beat_and_cannot_ask_for_nonsense(app, live_world):
    supervisor = factories.user(Role.SUPERVISOR)
    db.session.commit()
    browser = signed_in(app, supervisor)
    page = soup(browser.get("/patrols/suggested"))
    assert not page.select("[data-testid=suggestion]") and page.select_one("select#beat")
    beat_id = factories.beat(BEAT).id
    assert len(soup(browser.get(f"/patrols/suggested?beat={beat_id}")).select("[data-testid=suggestion]")) == 1
    assert browser.get("/patrols/suggested?beat=banana").status_code == 400
    assert browser.get("/patrols/suggested?beat=99999").status_code == 404


def test_pcso_cannot_ask_for_another_beat_and_others_cannot_open_the_page(app, live_world):
    pcso, *_ = live_world
    other = factories.beat(OTHER_BEAT).id
    analyst = factories.user(Role.ANALYST)
    db.session.commit()
    assert signed_in(app, pcso).get(f"/patrols/suggested?beat={other}").status_code == 404
    assert signed_in(app, analyst).get("/patrols/suggested").status_code == 403


def test_the_briefing_shows_the_suggestions_section(app, live_world):
    pcso, *_ = live_world
    page = soup(signed_in(app, pcso).get("/briefing"))
    section = page.select_one("[data-testid=briefing-suggestions]")
    assert section.select_one("[data-testid=suggestion-reason]").text.startswith("3 ASB reports near ")


# --- starting a patrol from one --------------------------------------------------------------------------------

def _shown_suggestion(app, pcso):
    browser = signed_in(app, pcso)
    browser.get("/patrols/suggested")
    return browser, db.session.scalar(sa.select(PatrolSuggestion).where(PatrolSuggestion.user_id == pcso.id))


def test_pcso_can_start_a_patrol_from_a_suggestion_and_it_is_recorded_on_the_patrol(app, live_world):
    pcso, _, entries = live_world
    browser, row = _shown_suggestion(app, pcso)
    before = _last_id()
    response = browser.get(f"/patrols/suggested/{row.id}/start")
    assert response.status_code == 200
    form = soup(response).select_one("form[data-entry-form]")
    assert form["action"] == "/patrols/new"
    values = {field["name"]: field.get("value", "") for field in form.select("input[name]")}
    assert values["suggestion_id"] == str(row.id)
    assert values["purpose"] == f"Suggested patrol near {row.postcode or f'{row.lat:.4f}, {row.lon:.4f}'}, " + \
        window_label(row.weekdays, row.hour_from, row.hours)
    assert (float(values["lat"]), float(values["lon"])) == (row.lat, row.lon)
    assert form.select_one("select[name=beat_id] option[selected]")["value"] == str(row.beat_id)
    (event,) = _views_since(before)
    assert sorted(event.details["records"]["entry"]["ids"]) == sorted(e.id for e in entries)
    values.update(mode="foot", action="draft")
    response = browser.post("/patrols/new", data=values)
    assert response.status_code == 302, soup(response).select_one("[data-testid=error-summary]")
    patrol = db.session.scalar(sa.select(Patrol))
    assert patrol.suggestion_id == row.id and patrol.beat_id == row.beat_id and patrol.author_id == pcso.id


def test_another_officers_suggestion_is_a_404_and_its_id_is_not_kept_on_a_patrol(app, live_world):
    from pcso.timeutil import utcnow

    pcso, colleague, _ = live_world
    _, theirs = _shown_suggestion(app, colleague)
    browser = signed_in(app, pcso)
    assert browser.get(f"/patrols/suggested/{theirs.id}/start").status_code == 404
    assert browser.get("/patrols/suggested/99999/start").status_code == 404
    response = browser.post("/patrols/new", data={
        "client_key": str(uuid.uuid4()), "occurred_at": to_london(utcnow()).strftime("%Y-%m-%dT%H:%M"), "mode": "foot",
        "purpose": "Forged", "lat": str(SPOT[0]), "lon": str(SPOT[1]), "location_source": "map", "beat_id": "",
        "marking": "OFFICIAL", "suggestion_id": str(theirs.id), "action": "draft"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Patrol)).suggestion_id is None


# --- the dashboard's measure ------------------------------------------------------------------------------------

def test_the_dashboard_measures_patrol_time_from_suggestions_and_reports_before_and_after(app):
    from pcso.patrol_plans.measure import suggestion_measure
    from pcso.dashboard.scope import Scope
    from pcso.timeutil import utcnow

    now = utcnow()
    today = to_london(now).date()
    pcso = factories.user(Role.PCSO, beats=[BEAT])
    supervisor = factories.user(Role.SUPERVISOR)
    beat_id = factories.beat(BEAT).id
    suggested_on = today - timedelta(days=20)
    day = from_london(datetime.combine(suggested_on, datetime.min.time()))

    def place(key, point, on=suggested_on):
        row = PatrolSuggestion(user_id=pcso.id, beat_id=beat_id, suggested_on=on, created_at=day, key=key, rank=1,
                               score=1.0, lat=point[0], lon=point[1], radius_m=150, postcode=None, days="5,6",
                               hour_from=20, hours=3, reason=f"Reports at {key}", basis={})
        db.session.add(row)
        db.session.flush()
        return row

    patrolled, other = place("a", SPOT), place("b", ELSEWHERE)
    place("c", (53.4700, -2.2600), on=today - timedelta(days=3))  # too soon to say
    for offset in (-10, -5, -2):  # 3 before at the patrolled place, 1 after
        _asb_at(pcso, SPOT, day + timedelta(days=offset))
    _asb_at(pcso, SPOT, day + timedelta(days=3))
    _asb_at(pcso, (SPOT[0] + 0.01, SPOT[1]), day + timedelta(days=3))  # over a km away: not counted
    _asb_at(pcso, ELSEWHERE, day - timedelta(days=1))  # 1 before, 2 after at the other
    _asb_at(pcso, ELSEWHERE, day + timedelta(days=1))
    _asb_at(pcso, ELSEWHERE, day + timedelta(days=2))
    walk = factories.patrol(pcso, occurred_at=day + timedelta(hours=20))
    walk.started_at, walk.ended_at, walk.suggestion_id = day + timedelta(hours=20), day + timedelta(hours=22), patrolled.id
    other_walk = factories.patrol(pcso, occurred_at=day + timedelta(hours=10))
    other_walk.started_at, other_walk.ended_at = day + timedelta(hours=10), day + timedelta(hours=16)
    db.session.commit()
    scope = Scope(frozenset({beat_id}), today - timedelta(days=27), today, today, now)
    measure = suggestion_measure(supervisor, scope)
    assert measure.started == 1
    assert (measure.started_hours, measure.patrol_hours, measure.share) == pytest.approx((2.0, 8.0, 0.25), abs=1e-4)
    assert measure.totals(True) == (1, 3, 1) and measure.totals(False) == (1, 1, 2) and measure.too_soon == 1

    browser = signed_in(app, supervisor)
    block = soup(browser.get(f"/dashboard?beat={beat_id}&period=28")).select_one("[data-testid=dash-suggestions]")
    assert "1 patrol" in block.select_one("[data-testid=suggested-time]").text
    cells = [td.text for td in block.select("[data-testid=outcome-patrolled] td")]
    assert cells == ["1", "3", "1"]
    assert len(block.select("[data-testid=suggested-place]")) == 3
