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
from pcso.patrol_plans.services import (
    DEFAULT, asb_record, best_window, intel_record, plan_places, reason_text, record_suggestions, suggest_patrols,
    to_metres, window_label,
)
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


def test_the_reason_says_how_many_where_when_and_over_what_period():
    records = [asb_record(i, 1, *SPOT, london(f"2026-11-{27 + i % 2}T2{i % 3}:10"), NsirCategory.NUISANCE, now=NOW)
               for i in range(7)]
    (s,) = plan_places(records, now=NOW, postcode_of=lambda lat, lon: "M32 0DH")
    assert s.reason == "7 ASB reports near M32 0DH, Fri–Sat 20:00–23:00, last 28 days"
    s.counts.update(asb=9, intel=2, street_crime=12)
    assert reason_text(s, DEFAULT, crime_months=["Sep 2026", "Oct 2026"]) == (
        "7 ASB reports near M32 0DH, Fri–Sat 20:00–23:00, last 28 days; 2 more at other times; "
        "2 intelligence reports; 12 street crimes (data.police.uk, Sep 2026–Oct 2026)")


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
