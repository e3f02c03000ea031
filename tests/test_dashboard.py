"""The beat dashboard: every figure equals a count made here from the entries the test created, and
equals the length of the list its link opens; PCSOs see only their beats and their own welfare checks.

Expected figures are worked out in this file from the ORM objects and plain Python rules (never by calling
pcso.dashboard); "today" is London's, and every entry is placed at London noon on a chosen day.
"""
from __future__ import annotations

import re
import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from pcso.extensions import db
from pcso.models import (
    AsbIncident, AsbType, AssessmentKind, AuditAction, RiskAssessment, AuditEvent, EntryReview, EntryStatus, Link, LinkRole, NsirCategory, Patrol,
    PatrolMode, Person, ReviewDecision, RiskLevel, Role, SecurityMarking, StreetCrime, WelfareCheck,
    WelfareVisitType,
)
from pcso.timeutil import from_london, to_london, utcnow
from tests import factories
from tests.factories import signed_in, soup

OLD_TRAFFORD = factories.OLD_TRAFFORD
ALTRINCHAM = "E05015239"
pytestmark = pytest.mark.usefixtures("memoised_hashing")


def london_today() -> date:
    return to_london(utcnow()).date()


def at(days_ago: int, hour: int = 12) -> datetime:
    """London `hour`:00 `days_ago` days ago, as aware UTC."""
    return from_london(datetime.combine(london_today() - timedelta(days=days_ago), time(hour)))


def figure(page: BeautifulSoup, name: str) -> tuple[int, dict]:
    """(data-count, the link's query as a dict of lists) of the figure named data-testid=figure-<name>."""
    node = page.select_one(f"[data-testid=figure-{name}]")
    assert node is not None, f"no figure {name}"
    return int(node["data-count"]), parse_qs(urlsplit(node["href"]).query)


def list_total(browser, href: str) -> int:
    """The number of entries the list at href says it holds."""
    response = browser.get(href)
    assert response.status_code == 200, (href, response.status_code)
    text = soup(response).select_one("[data-testid=result-count]").get_text()
    return int(re.match(r"([\d,]+)", text).group(1).replace(",", ""))


# --- building entries ----------------------------------------------------------------------------

def asb(author, beat_code, days_ago, *, asb_type=AsbType.NOISE, nsir=NsirCategory.NUISANCE, status=EntryStatus.SUBMITTED,
        risk=None, victims=(), recorded_days_later=0, **kw) -> AsbIncident:
    occurred = at(days_ago)
    entry = AsbIncident(**factories._common(author, beat_code, status, occurred_at=occurred,
                                            recorded_at=occurred + timedelta(days=recorded_days_later, minutes=30), **kw),
                        nsir_category=nsir, asb_type=asb_type, description="Test", victim_risk=risk,
                        links=[Link(person=victim, role=LinkRole.VICTIM) for victim in victims])
    db.session.add(entry)
    db.session.flush()
    if risk is not None:  # the initial assessment the services make with the incident
        for victim in victims:
            assess(entry, victim, risk, author, days_ago, AssessmentKind.INITIAL)
    return entry


def assess(incident, victim, level, by, days_ago, kind=AssessmentKind.REVIEW) -> RiskAssessment:
    """A risk assessment `days_ago`, its next review 14 (high) or 28 (medium) days later, none at low."""
    every = {RiskLevel.HIGH: 14, RiskLevel.MEDIUM: 28}.get(level)
    assessment = RiskAssessment(incident_id=incident.id, person_id=victim.id, kind=kind, level=level,
                                assessed_by_id=by.id, assessed_at=at(days_ago, 13), outcome="Checked",
                                next_review_on=london_today() - timedelta(days=days_ago - every) if every else None)
    db.session.add(assessment)
    db.session.flush()
    return assessment


def patrol(author, beat_code, days_ago, *, mode=PatrolMode.FOOT, minutes=90, ended=True,
           status=EntryStatus.SUBMITTED) -> Patrol:
    start = at(days_ago, 9)
    entry = Patrol(**factories._common(author, beat_code, status, occurred_at=start), started_at=start,
                   ended_at=start + timedelta(minutes=minutes) if ended else None, mode=mode, purpose="Patrol")
    db.session.add(entry)
    db.session.flush()
    return entry


def welfare(author, child: Person, days_ago: int, next_in_days: int | None, *, spoc=None, beat_code=OLD_TRAFFORD,
            status=EntryStatus.SUBMITTED) -> WelfareCheck:
    """A check `days_ago` whose next visit is `next_in_days` from today (negative: in the past)."""
    entry = WelfareCheck(**factories._common(author, beat_code, status, occurred_at=at(days_ago),
                                             marking=SecurityMarking.OFFICIAL_SENSITIVE),
                         links=[Link(person=child, role=LinkRole.SUBJECT)], spoc_id=(spoc or author).id,
                         visit_type=WelfareVisitType.PLANNED, is_seen_alone=True, risk_level=RiskLevel.MEDIUM,
                         next_visit_on=None if next_in_days is None else london_today() + timedelta(days=next_in_days))
    db.session.add(entry)
    db.session.flush()
    return entry


# --- a beat's month ------------------------------------------------------------------------------

@pytest.fixture
def month(app):
    """Entries of every kind on Old Trafford and Altrincham, in and out of the last 28 days, some drafts."""
    people = {
        "pcso": factories.user(Role.PCSO, beats=[OLD_TRAFFORD]),
        "alt": factories.user(Role.PCSO, beats=[ALTRINCHAM]),
        "supervisor": factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD]),
    }
    pcso, alt = people["pcso"], people["alt"]
    entries = [
        asb(pcso, OLD_TRAFFORD, 1, asb_type=AsbType.NOISE),
        asb(pcso, OLD_TRAFFORD, 2, asb_type=AsbType.NOISE),
        asb(pcso, OLD_TRAFFORD, 3, asb_type=AsbType.ROWDY_BEHAVIOUR),
        asb(pcso, OLD_TRAFFORD, 10, asb_type=AsbType.LITTERING_DRUGS, nsir=NsirCategory.ENVIRONMENTAL),
        asb(pcso, OLD_TRAFFORD, 27, asb_type=AsbType.NUISANCE_NEIGHBOURS, nsir=NsirCategory.PERSONAL),
        asb(pcso, OLD_TRAFFORD, 29, asb_type=AsbType.NOISE),  # before the 28 days
        asb(pcso, OLD_TRAFFORD, 4, asb_type=AsbType.NOISE, status=EntryStatus.DRAFT),  # a draft: never counted
        asb(pcso, OLD_TRAFFORD, 5, asb_type=AsbType.FIREWORKS, marking=SecurityMarking.OFFICIAL_SENSITIVE),
        asb(alt, ALTRINCHAM, 2, asb_type=AsbType.NOISE),
        asb(alt, ALTRINCHAM, 6, asb_type=AsbType.STREET_DRINKING),
        patrol(pcso, OLD_TRAFFORD, 1, mode=PatrolMode.FOOT, minutes=120),
        patrol(pcso, OLD_TRAFFORD, 8, mode=PatrolMode.FOOT, minutes=45),
        patrol(pcso, OLD_TRAFFORD, 9, mode=PatrolMode.CYCLE, minutes=150),
        patrol(pcso, OLD_TRAFFORD, 0, mode=PatrolMode.CYCLE, ended=False),  # open: counted, no hours
        patrol(pcso, OLD_TRAFFORD, 40, mode=PatrolMode.FOOT, minutes=60),  # long ago
        patrol(alt, ALTRINCHAM, 3, mode=PatrolMode.VEHICLE, minutes=30),
        factories.school_visit(pcso, OLD_TRAFFORD, occurred_at=at(6)),
        factories.intel(pcso, OLD_TRAFFORD, occurred_at=at(7)),
        factories.intel(pcso, OLD_TRAFFORD, occurred_at=at(8), status=EntryStatus.DRAFT),
        factories.welfare(pcso, beat_code=OLD_TRAFFORD, occurred_at=at(12)),
    ]
    db.session.commit()
    return people, entries


def expected(entries, *, beats: set[int] | None, days: int = 28, visible=lambda e: True) -> list:
    first = london_today() - timedelta(days=days - 1)
    return [e for e in entries if e.status != EntryStatus.DRAFT and visible(e)
            and (beats is None or e.beat_id in beats) and first <= to_london(e.occurred_at).date() <= london_today()]


def test_supervisor_figures_for_one_beat_match_the_entries(app, month):
    people, entries = month
    beat_id = factories.beat(OLD_TRAFFORD).id
    browser = signed_in(app, people["supervisor"])
    response = browser.get(f"/dashboard?beat={beat_id}&period=28")
    assert response.status_code == 200
    page = soup(response)
    wanted = expected(entries, beats={beat_id})

    by_kind = Counter(e.kind.slug for e in wanted)
    for slug in ("patrols", "asb-incidents", "school-visits", "welfare-checks", "intelligence-reports"):
        count, query = figure(page, f"kind-{slug}")
        assert count == by_kind[slug], slug
        assert query["beat"] == [str(beat_id)] and query["kind"] == [slug]
        assert query["from"] == [(london_today() - timedelta(days=27)).isoformat()]
        assert query["to"] == [london_today().isoformat()]
    assert figure(page, "entries")[0] == len(wanted) == 13

    incidents = [e for e in wanted if isinstance(e, AsbIncident)]
    assert figure(page, "asb")[0] == len(incidents) == 6
    for category in NsirCategory:
        count, query = figure(page, f"nsir-{category.value}")
        assert count == sum(e.nsir_category == category for e in incidents)
        assert query["nsir"] == [category.value]
    for asb_type, n in Counter(e.asb_type for e in incidents).items():
        count, query = figure(page, f"asb-type-{asb_type.value}")
        assert (count, query["asb_type"]) == (n, [asb_type.value])

    patrols = [e for e in wanted if isinstance(e, Patrol)]
    for mode in PatrolMode:
        node = page.select_one(f"[data-testid=figure-mode-{mode.value}]")
        in_mode = [p for p in patrols if p.mode == mode]
        hours = sum((p.ended_at - p.started_at).total_seconds() / 3600 for p in in_mode if p.ended_at)
        assert int(node["data-count"]) == len(in_mode), mode
        assert float(node["data-hours"]) == pytest.approx(hours, abs=0.01), mode
    assert float(page.select_one("[data-testid=figure-mode-foot]")["data-hours"]) == pytest.approx(2.75, abs=0.01)

    # The audit log has the view, with the beat and the period (and the records it names, pcso/audit.py).
    (event,) = [e for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.VIEW))
                if e.details.get("context") == "dashboard.index"]
    assert event.action == AuditAction.VIEW and event.actor_id == people["supervisor"].id
    assert event.details["beat_ids"] == [beat_id]
    assert event.details["period"] == [(london_today() - timedelta(days=27)).isoformat(), london_today().isoformat()]


def test_every_figure_opens_a_list_of_the_same_length(app, month):
    people, _ = month
    browser = signed_in(app, people["supervisor"])
    for url in ("/dashboard", f"/dashboard?beat={factories.beat(OLD_TRAFFORD).id}&period=7"):
        page = soup(browser.get(url))
        links = page.select("main a[data-count]")
        assert len(links) > 15
        for link in links:
            assert list_total(browser, link["href"]) == int(link["data-count"]), (url, link.get("data-testid"),
                                                                                   link["href"])


def test_all_beats_and_a_pcsos_beats(app, month):
    people, entries = month
    everything = expected(entries, beats=None)
    page = soup(signed_in(app, people["supervisor"]).get("/dashboard"))
    assert figure(page, "entries") == (len(everything), {"from": [(london_today() - timedelta(days=27)).isoformat()],
                                                          "to": [london_today().isoformat()]})
    assert figure(page, "kind-asb-incidents")[0] == sum(isinstance(e, AsbIncident) for e in everything) == 8

    # A PCSO's default is their own beat; the OFFICIAL-SENSITIVE incident and welfare check are not theirs to see
    # except their own (they wrote them), so here they count: the rule is visible_entries, checked per entry.
    pcso = people["alt"]
    page = soup(signed_in(app, pcso).get("/dashboard"))
    alt_id = factories.beat(ALTRINCHAM).id
    mine = expected(entries, beats={alt_id})
    assert figure(page, "entries")[0] == len(mine) == 3
    assert figure(page, "entries")[1]["beat"] == [str(alt_id)]
    assert figure(page, "kind-asb-incidents")[0] == 2


def test_a_pcso_sees_other_officers_sensitive_incidents_nowhere(app, month):
    people, entries = month
    colleague = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    page = soup(signed_in(app, colleague).get("/dashboard"))
    visible = expected(entries, beats={factories.beat(OLD_TRAFFORD).id},
                       visible=lambda e: e.marking != SecurityMarking.OFFICIAL_SENSITIVE)
    assert figure(page, "entries")[0] == len(visible) == 10  # not the sensitive incident, intel, welfare check
    assert figure(page, "kind-welfare-checks")[0] == 0
    assert figure(page, "kind-intelligence-reports")[0] == 0


def test_a_pcso_cannot_open_another_beats_dashboard(app, month):
    people, _ = month
    browser = signed_in(app, people["pcso"])
    assert browser.get(f"/dashboard?beat={factories.beat(ALTRINCHAM).id}").status_code == 404
    assert browser.get("/dashboard?beat=999999").status_code == 404
    assert browser.get(f"/dashboard?beat={factories.beat(OLD_TRAFFORD).id}").status_code == 200
    options = {o["value"] for o in soup(browser.get("/dashboard")).select("#beat option")}
    assert options == {"", str(factories.beat(OLD_TRAFFORD).id)}
    # supervisors may open any beat
    assert signed_in(app, people["supervisor"]).get(
        f"/dashboard?beat={factories.beat(ALTRINCHAM).id}").status_code == 200


@pytest.mark.parametrize("query", [
    "period=365", "period=custom", "period=custom&date_from=2026-02-30&date_to=2026-03-01",
    "period=custom&date_from=2026-03-10&date_to=2026-03-01", "period=custom&date_from=2020-01-01&date_to=2026-01-01",
    "beat=abc", "beat=-1", "date_from=1999-01-01&period=custom&date_to=1999-01-02",
])
def test_bad_choices_are_a_400_with_a_message(app, query):
    supervisor = factories.user(Role.SUPERVISOR)
    db.session.commit()
    response = signed_in(app, supervisor).get(f"/dashboard?{query}")
    assert response.status_code == 400, query
    assert soup(response).select_one("[data-testid=error-summary]").get_text(strip=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.object_type == "dashboard")) == 0


def test_custom_dates_and_week_buckets(app, month):
    people, entries = month
    first, last = london_today() - timedelta(days=59), london_today()
    response = signed_in(app, people["supervisor"]).get(
        f"/dashboard?period=custom&date_from={first}&date_to={last}")
    page = soup(response)
    wanted = expected(entries, beats=None, days=60)
    assert figure(page, "entries")[0] == len(wanted)
    rows = page.select("[data-testid=kinds-table] tbody tr")
    assert 9 <= len(rows) <= 10  # weeks
    total = sum(int(row.select("td")[-1].get_text()) for row in rows)
    assert total == len(wanted)


# --- welfare ---------------------------------------------------------------------------------------

def test_welfare_visits_overdue_and_due_this_week(app):
    spoc = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    other_spoc = factories.user(Role.PCSO, beats=[ALTRINCHAM])
    colleague = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    supervisor = factories.user(Role.SUPERVISOR)
    child = {name: factories.person(name, date(2012, 1, 1)) for name in
             ("Ava Overdue", "Ben Dueweek", "Cal Later", "Dee Revisited", "Eve Draft", "Fin Othersbeat", "Gus Elsewhere")}
    welfare(spoc, child["Ava Overdue"], 30, -2)
    welfare(spoc, child["Ben Dueweek"], 25, 3)
    welfare(spoc, child["Ben Dueweek"], 60, -30)  # an older check: only the latest counts
    welfare(spoc, child["Cal Later"], 5, 20)
    welfare(spoc, child["Dee Revisited"], 40, -10)
    welfare(spoc, child["Dee Revisited"], 2, 26)  # visited since: not overdue
    welfare(spoc, child["Eve Draft"], 1, -1, status=EntryStatus.DRAFT)  # a draft counts for no one...
    welfare(spoc, child["Eve Draft"], 35, 0)  # ...so the submitted one before it is the latest: due today
    welfare(other_spoc, child["Fin Othersbeat"], 30, -5, beat_code=ALTRINCHAM)  # another SPOC's, another beat
    welfare(other_spoc, child["Gus Elsewhere"], 30, 6, beat_code=OLD_TRAFFORD)  # another SPOC's, this beat
    db.session.commit()
    old = factories.beat(OLD_TRAFFORD).id

    def names(page, testid="welfare-due"):
        return {a.get_text(strip=True) for a in page.select(f"[data-testid={testid}] li[data-check-id] > a")}

    # the SPOC: their own children only, wherever the check was
    page = soup(signed_in(app, spoc).get("/dashboard"))
    assert figure(page, "welfare-overdue")[0] == 1
    assert figure(page, "welfare-due-week")[0] == 2  # Ben (in 3 days), Eve (today)
    assert names(page) == {"Ava Overdue", "Ben Dueweek", "Eve Draft"}
    assert figure(page, "welfare-overdue")[1] == {"beat": [str(old)], "set": ["welfare-overdue"]}

    # a colleague on the same beat who is nobody's SPOC: nothing, and no names
    response = signed_in(app, colleague).get("/dashboard")
    page = soup(response)
    assert figure(page, "welfare-overdue")[0] == figure(page, "welfare-due-week")[0] == 0
    assert not any(name in response.get_data(as_text=True) for name in child)

    # a supervisor: every child, on the beat chosen
    browser = signed_in(app, supervisor)
    page = soup(browser.get(f"/dashboard?beat={old}"))
    assert names(page) == {"Ava Overdue", "Ben Dueweek", "Eve Draft", "Gus Elsewhere"}
    assert (figure(page, "welfare-overdue")[0], figure(page, "welfare-due-week")[0]) == (1, 3)
    page = soup(browser.get("/dashboard"))
    assert (figure(page, "welfare-overdue")[0], figure(page, "welfare-due-week")[0]) == (2, 3)
    for name in ("welfare-overdue", "welfare-due-week"):
        count, _ = figure(page, name)
        assert list_total(browser, page.select_one(f"[data-testid=figure-{name}]")["href"]) == count


# --- victims ---------------------------------------------------------------------------------------

@pytest.fixture
def victims(app):
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    supervisor = factories.user(Role.SUPERVISOR)
    v = {name: factories.person(name) for name in
         ("Rita Repeat", "Mo Mixed", "Cass Complains", "Lou Late", "Hal High", "Meg Medium", "Rex Reviewed",
          "Hank Highreviewed", "Old Olive", "Ray Routine", "Lena Lowered")}
    made = defaultdict(list)

    def add(name, days_ago, **kw):
        made[name].append(asb(pcso, kw.pop("beat", OLD_TRAFFORD), days_ago, victims=[v[name]], **kw))
        return made[name][-1]

    for days in (10, 30, 60):
        add("Rita Repeat", days, asb_type=AsbType.NOISE)  # 3 noise in 3 months: repeat, and 3 complaints
    add("Mo Mixed", 10, asb_type=AsbType.NOISE)
    add("Mo Mixed", 20, asb_type=AsbType.NOISE)
    add("Mo Mixed", 30, asb_type=AsbType.ROWDY_BEHAVIOUR)  # 3 complaints, but not 3 of one type
    add("Mo Mixed", 50, asb_type=AsbType.NOISE, status=EntryStatus.DRAFT)  # a draft: not counted
    for days in (20, 100, 150):
        add("Cass Complains", days, asb_type=AsbType.TRESPASS)  # 3 in 6 months, not in 3: case review only
    add("Lou Late", 20, asb_type=AsbType.NOISE)
    add("Lou Late", 50, asb_type=AsbType.NOISE, beat=ALTRINCHAM)
    add("Lou Late", 70, asb_type=AsbType.NOISE, recorded_days_later=40)  # recorded after a month: no complaint
    add("Hal High", 20, risk=RiskLevel.HIGH)  # 14 days passed: due
    add("Meg Medium", 20, risk=RiskLevel.MEDIUM)  # 28 days not yet: not due
    reviewed = add("Rex Reviewed", 40, risk=RiskLevel.MEDIUM)  # was due, but reviewed (medium) 10 days ago
    assess(reviewed, v["Rex Reviewed"], RiskLevel.MEDIUM, supervisor, 10)
    hank = add("Hank Highreviewed", 30, risk=RiskLevel.HIGH)  # reviewed (high) 16 days ago: due again
    assess(hank, v["Hank Highreviewed"], RiskLevel.HIGH, supervisor, 16)
    add("Old Olive", 200, risk=RiskLevel.HIGH)  # long ago, and never reviewed: still due
    routine = add("Ray Routine", 30, risk=RiskLevel.HIGH)  # the report was approved 5 days ago: not a review
    lowered = add("Lena Lowered", 60, risk=RiskLevel.HIGH)  # reviewed 20 days ago down to low: no more reviews
    assess(lowered, v["Lena Lowered"], RiskLevel.LOW, supervisor, 20)
    for entry, days in ((reviewed, 12), (hank, 18), (routine, 5)):
        db.session.add(EntryReview(entry_id=entry.id, reviewer_id=supervisor.id, at=at(days, 15),
                                   decision=ReviewDecision.APPROVED, submitted_at=entry.submitted_at))
    db.session.commit()
    return pcso, supervisor, v, made


def test_victim_figures_follow_the_rules(app, victims):
    pcso, supervisor, v, made = victims
    browser = signed_in(app, supervisor)
    page = soup(browser.get("/dashboard"))
    today = london_today()

    def listed(testid):
        return {a.get_text(strip=True) for a in page.select(f"[data-testid={testid}] li[data-person-id] > a")}

    def submitted(name):
        return [e for e in made[name] if e.status != EntryStatus.DRAFT]

    # repeat victims: 3+ of one type in three months (no incident here is near the edge: 70 days at most)
    repeat = {name for name in made
              if max(Counter(e.asb_type for e in submitted(name)
                             if (today - to_london(e.occurred_at).date()).days < 85).values() or [0]) >= 3}
    assert repeat == {"Rita Repeat", "Lou Late"}  # Lou's late recording does not matter here
    assert listed("repeat-victims") == repeat
    assert figure(page, "repeat-victims")[0] == 6

    # case review: 3+ complaints in 6 months, each recorded within a month
    case = {name for name in made
            if sum((today - to_london(e.occurred_at).date()).days <= 180
                   and e.recorded_at - e.occurred_at <= timedelta(days=28) for e in submitted(name)) >= 3}
    assert case == {"Rita Repeat", "Mo Mixed", "Cass Complains"}
    assert listed("case-review") == case
    assert figure(page, "case-review")[0] == 9
    assert int(page.select_one("[data-testid=figure-case-review]").select_one(".dash-tile__n").get_text()) == 3

    # risk reviews: the latest assessment's next review has come (14 days after high, 28 after medium), however
    # long ago, until a review is recorded; approving the report is not a review
    latest = {}
    for assessment in db.session.scalars(sa.select(RiskAssessment).order_by(RiskAssessment.assessed_at)):
        latest[assessment.person_id] = assessment
    due = {v_name for v_name, person in v.items()
           if person.id in latest and latest[person.id].next_review_on is not None
           and latest[person.id].next_review_on <= today}
    assert due == {"Hal High", "Hank Highreviewed", "Old Olive", "Ray Routine"}
    assert listed("risk-review-due") == due
    assert figure(page, "risk-review-due")[0] == 4

    for name in ("repeat-victims", "case-review", "risk-review-due"):
        node = page.select_one(f"[data-testid=figure-{name}]")
        assert list_total(browser, node["href"]) == int(node["data-count"]), name
    for link in page.select(".dash-people a[data-count]"):
        assert list_total(browser, link["href"]) == int(link["data-count"]), link["href"]

    # One beat: only Lou has an incident on Altrincham, one of their three
    alt = soup(browser.get(f"/dashboard?beat={factories.beat(ALTRINCHAM).id}"))
    assert [a.get_text(strip=True) for a in alt.select("[data-testid=repeat-victims] li[data-person-id] > a")] \
        == ["Lou Late"]
    assert figure(alt, "repeat-victims")[0] == 1
    assert figure(alt, "case-review")[0] == 0


def test_a_victim_qualifies_for_case_review_within_one_calendar_month():
    from pcso.dashboard.scope import add_months, within_a_month

    jan31 = from_london(datetime(2026, 1, 31, 12))
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 3, 15), -3) == date(2025, 12, 15)
    assert within_a_month(jan31, from_london(datetime(2026, 2, 28, 12)))
    assert not within_a_month(jan31, from_london(datetime(2026, 2, 28, 12, 1)))
    assert within_a_month(from_london(datetime(2026, 3, 10, 9)), from_london(datetime(2026, 4, 10, 9)))


# --- hotspots and the public layer --------------------------------------------------------------------

def test_hotspots_count_the_windows_and_link_to_their_incidents(app):
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    supervisor = factories.user(Role.SUPERVISOR)
    days = [1, 2, 5, 10, 20, 40, 50, 70]  # the factories put every entry on its beat's centre: one square
    for d in days:
        asb(pcso, OLD_TRAFFORD, d)
    asb(pcso, OLD_TRAFFORD, 3, status=EntryStatus.DRAFT)
    beat = factories.beat(OLD_TRAFFORD)
    db.session.add(StreetCrime(row_key=str(uuid.uuid4()), month=london_today().replace(day=1), reported_by="GMP",
                               falls_within="GMP", lat=beat.min_lat + 0.001, lon=beat.min_lon + 0.001,
                               crime_type="Burglary", beat_id=beat.id, source_file="test.csv"))
    db.session.commit()
    browser = signed_in(app, supervisor)
    response = browser.get(f"/dashboard?beat={beat.id}")
    page = soup(response)
    for window, before in ((7, 28), (28, 28)):
        spots = page.select(f"[data-testid=hotspots-{window}] li")
        assert len(spots) == 1
        link = spots[0].select_one("a[data-count]")
        in_window = sum(d < window for d in days)
        in_before = sum(window <= d < window + before for d in days)
        assert int(link["data-count"]) == in_window
        assert f"{in_before} in the 28 days before" in spots[0].get_text()
        assert list_total(browser, link["href"]) == in_window
    data = page.select_one("[data-dash-map]")["data-dash-map"]
    assert '"streetCrime": [{' in data and "Burglary" in data
    assert "data.police.uk (public, monthly, approximate): 1 crime" in page.get_text(" ", strip=True)


# --- the sets are the same as the figures --------------------------------------------------------------

def test_sets_name_the_entries_behind_each_figure(app, victims):
    from pcso.dashboard.sets import SETS
    from pcso.models import Entry

    pcso, supervisor, v, made = victims
    ids = {name: set(db.session.scalars(sa.select(Entry.id).where(fn(user=supervisor, today=london_today()))))
           for name, fn in SETS.items()}
    assert {"welfare-overdue", "welfare-due-week", "risk-review-due", "repeat-victims", "case-review"} <= set(SETS)
    assert ids["repeat-victims"] == {e.id for e in made["Rita Repeat"] + made["Lou Late"]}
    assert ids["risk-review-due"] == {made[name][0].id for name in
                                      ("Hal High", "Hank Highreviewed", "Old Olive", "Ray Routine")}
    assert ids["case-review"] == {e.id for name in ("Rita Repeat", "Mo Mixed", "Cass Complains")
                                  for e in made[name] if e.status != EntryStatus.DRAFT}
    # a PCSO counts only what they may see: the same incidents here, all theirs
    assert set(db.session.scalars(sa.select(Entry.id).where(SETS["repeat-victims"](user=pcso, today=london_today())))) \
        == ids["repeat-victims"]
    other = factories.user(Role.PCSO, beats=[ALTRINCHAM])
    assert set(db.session.scalars(sa.select(Entry.id).where(
        SETS["repeat-victims"](user=other, today=london_today())))) == set()


def test_the_menu_has_the_dashboard_for_pcsos_and_supervisors(app):
    for role, shown in ((Role.PCSO, True), (Role.SUPERVISOR, True), (Role.ANALYST, False)):
        person = factories.user(role, beats=[OLD_TRAFFORD] if role == Role.PCSO else ())
        db.session.commit()
        links = {a.get_text(strip=True) for a in soup(signed_in(app, person).get("/")).select("nav a")}
        assert ("Dashboard" in links) == shown, role
