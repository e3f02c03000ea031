"""The filtered entry list: what each user sees, each filter, bad values (400), and the search audit."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from pcso.dashboard import sets
from pcso.extensions import db
from pcso.lists.filters import EntryFilter, FilterError, date_range
from pcso.models import (
    AsbType, AuditAction, AuditEvent, Entry, EntryKind, EntryStatus, LinkRole, NsirCategory, PatrolMode, RiskLevel,
    Role, SecurityMarking, WelfareCheck,
)
from tests import factories
from tests.factories import london, signed_in, soup

OLD_TRAFFORD = factories.OLD_TRAFFORD
ALTRINCHAM = "E05015239"

pytestmark = pytest.mark.usefixtures("memoised_hashing")


def listed_ids(response) -> list[int]:
    return [int(a["data-entry-id"]) for a in soup(response).select("[data-entry-id]")]


@pytest.fixture
def world(app):
    """Entries by several authors on two beats, of every kind, in both markings, plus a draft."""
    me = factories.user(Role.PCSO, beats=[OLD_TRAFFORD], name="Pat Lister")
    colleague = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    elsewhere = factories.user(Role.PCSO, beats=[ALTRINCHAM])
    e = {
        "asb_nov": factories.asb(colleague, OLD_TRAFFORD, occurred_at=london("2026-11-10T23:30"),
                                 summary="Youths on the tram platform"),
        "asb_oct": factories.asb(colleague, OLD_TRAFFORD, occurred_at=london("2026-10-31T12:00")),
        "asb_alt": factories.asb(elsewhere, ALTRINCHAM, occurred_at=london("2026-11-05T12:00")),
        "asb_sensitive": factories.asb(colleague, OLD_TRAFFORD, occurred_at=london("2026-11-06T12:00"),
                                       marking=SecurityMarking.OFFICIAL_SENSITIVE),
        "patrol": factories.patrol(colleague, OLD_TRAFFORD, occurred_at=london("2026-11-07T09:00")),
        "visit": factories.school_visit(me, OLD_TRAFFORD, occurred_at=london("2026-11-08T10:00")),
        "welfare": factories.welfare(colleague, beat_code=OLD_TRAFFORD, occurred_at=london("2026-11-09T16:00")),
        "intel": factories.intel(colleague, OLD_TRAFFORD, occurred_at=london("2026-11-09T17:00")),
        "my_draft": factories.asb(me, OLD_TRAFFORD, status=EntryStatus.DRAFT, occurred_at=london("2026-11-11T10:00")),
        "approved": factories.asb(colleague, OLD_TRAFFORD, status=EntryStatus.APPROVED,
                                  occurred_at=london("2026-11-01T00:30")),
    }
    e["asb_oct"].victim_risk = RiskLevel.HIGH
    e["asb_oct"].asb_type = AsbType.NOISE
    e["asb_oct"].nsir_category = NsirCategory.PERSONAL
    e["patrol"].mode = PatrolMode.CYCLE
    witness = factories.person("Wendy Witness")
    factories.link(e["asb_nov"], witness, LinkRole.WITNESS)
    db.session.commit()
    return me, {name: entry.id for name, entry in e.items()}, witness.id


def test_pcso_sees_exactly_the_entries_on_their_beat_they_may_open_newest_first(app, world):
    me, ids, _ = world
    response = signed_in(app, me).get("/lists/entries")
    assert response.status_code == 200
    # OFFICIAL, submitted or approved, on Old Trafford; their own school visit; never the draft, the
    # sensitive incident, the welfare check, the intelligence report, or Altrincham
    expected = ["asb_nov", "visit", "patrol", "approved", "asb_oct"]
    assert listed_ids(response) == [ids[name] for name in expected]
    assert soup(response).select_one("[data-testid=result-count]").get_text(strip=True).startswith("5 entries")


def test_supervisor_sees_sensitive_and_welfare_but_no_drafts(app, world):
    _, ids, _ = world
    supervisor = factories.user(Role.SUPERVISOR)
    db.session.commit()
    listed = set(listed_ids(signed_in(app, supervisor).get("/lists/entries")))
    assert listed == set(ids.values()) - {ids["my_draft"]}


@pytest.mark.parametrize("query, expected", [
    ("kind=asb-incidents", {"asb_nov", "asb_oct", "approved"}),
    ("kind=asb-incidents&kind=patrols", {"asb_nov", "asb_oct", "approved", "patrol"}),
    ("status=approved", {"approved"}),
    ("from=2026-11-01&to=2026-11-10", {"asb_nov", "visit", "patrol", "approved"}),  # London dates, inclusive
    ("from=2026-11-02", {"asb_nov", "visit", "patrol"}),
    ("to=2026-10-31", {"asb_oct"}),
    ("nsir=personal", {"asb_oct"}),
    ("asb_type=noise", {"asb_oct"}),
    ("risk=high", {"asb_oct"}),
    ("risk=low", {"asb_nov", "approved"}),
    ("mode=cycle", {"patrol"}),
    ("kind=school-visits&beat={beat}", {"visit"}),
    ("beat={other_beat}", set()),  # visibility still applies: nothing of Altrincham's for this PCSO
    ("person={person}", {"asb_nov"}),
    ("bbox=-2.4,53.3,-2.1,53.5", {"asb_nov", "asb_oct", "approved", "patrol", "visit"}),
    ("bbox=0,0,1,1", set()),
    ("kind=asb-incidents&page=", {"asb_nov", "asb_oct", "approved"}),  # an empty value is no value
])
def test_each_filter_narrows_the_list(app, world, query, expected):
    me, ids, person_id = world
    query = query.format(beat=factories.beat(OLD_TRAFFORD).id, other_beat=factories.beat(ALTRINCHAM).id,
                         person=person_id)
    response = signed_in(app, me).get(f"/lists/entries?{query}")
    assert response.status_code == 200
    assert set(listed_ids(response)) == {ids[name] for name in expected}


@pytest.mark.parametrize("query, message", [
    ("beat=abc", "“abc” is not a beat number."),
    ("beat=0", "“0” is not a beat number."),
    ("beat=99999999999", "is not a beat number"),
    ("kind=burglaries", "“burglaries” is not a kind of entry"),
    ("status=draft", "Drafts are not listed"),
    ("status=lost", "“lost” is not a status"),
    ("from=2026-13-01", "is not a date like 2026-11-28"),
    ("from=yesterday", "is not a date like 2026-11-28"),
    ("from=2026-11-10&to=2026-11-01", "The “to” date is before the “from” date."),
    ("from=2026-11-01&from=2026-11-02", "Give one “from” value"),
    ("nsir=criminal", "is not a NSIR category"),
    ("asb_type=graffiti", "is not a type of ASB"),
    ("mode=horse", "is not a patrol mode"),
    ("risk=extreme", "is not a risk level"),
    ("person=me", "is not a person number"),
    ("bbox=1,2,3", "must be four numbers"),
    ("bbox=nan,1,2,3", "must be four numbers"),
    ("bbox=3,2,1,0", "is not a box"),
    ("set=no-such-set", "There is no list called “no-such-set”."),
])
def test_bad_filter_values_get_a_400_page_with_the_reason(app, world, query, message):
    me, _, _ = world
    response = signed_in(app, me).get(f"/lists/entries?{query}")
    assert response.status_code == 400
    assert message in soup(response).select_one("main").get_text(" ", strip=True)
    analyst = factories.user(Role.ANALYST)  # bulk exports are for supervisors and analysts (issue 10)
    db.session.commit()
    assert signed_in(app, analyst).get(f"/lists/entries/export?{query}").status_code == 400


def test_a_named_set_from_the_dashboard_narrows_the_list(app, world, monkeypatch):
    me, ids, _ = world
    monkeypatch.setitem(sets.SETS, "high-risk", lambda *, user, today: Entry.id == ids["asb_oct"])
    response = signed_in(app, me).get("/lists/entries?set=high-risk")
    assert response.status_code == 200
    assert listed_ids(response) == [ids["asb_oct"]]


def test_every_dashboard_set_opens_for_every_reader(app, world):
    from pcso.lists.filters import named_sets

    sets = named_sets()
    for role in (Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING):
        browser = signed_in(app, factories.user(role, beats=[OLD_TRAFFORD] if role == Role.PCSO else ()))
        for name in sets:
            response = browser.get(f"/lists/entries?set={name}")
            assert response.status_code == 200, (role, name)


def test_filtering_is_audited_as_a_search_and_the_plain_list_is_not(app, world):
    me, _, _ = world
    browser = signed_in(app, me)
    browser.get("/lists/entries")
    browser.get("/lists/entries?kind=asb-incidents&from=2026-11-01&beat=" + str(factories.beat(OLD_TRAFFORD).id))
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.SEARCH)).all()
    assert len(events) == 1
    (event,) = events
    assert event.actor_id == me.id
    assert event.details == {"scope": "list", "results": 2, "filters": {
        "kind": ["asb-incidents"], "from": "2026-11-01", "beat": [factories.beat(OLD_TRAFFORD).id]}}


def test_the_page_describes_the_filters_and_keeps_them_in_the_export_links(app, world):
    me, _, person_id = world
    beat = factories.beat(OLD_TRAFFORD)
    url = f"/lists/entries?kind=asb-incidents&beat={beat.id}&from=2026-11-01&to=2026-11-28&person={person_id}"
    page = soup(signed_in(app, me).get(url))
    assert page.select_one("[data-testid=list-description]").get_text(strip=True) == (
        "ASB incidents · Old Trafford · 1–28 Nov 2026 · linked to Wendy Witness")
    assert page.select(".list-exports a") == []  # a PCSO does not export lists (issue 10)
    sergeant = factories.user(Role.SUPERVISOR)
    db.session.commit()
    exports = [a["href"] for a in soup(signed_in(app, sergeant).get(url)).select(".list-exports a")]
    assert len(exports) == 2 and all("kind=asb-incidents" in href and f"person={person_id}" in href for href in exports)
    assert page.select_one("input[name=person]")["value"] == str(person_id)  # kept when filtering further
    assert page.select_one("#kind-asb-incidents").has_attr("checked")


def test_a_person_the_user_may_not_see_is_not_named(app, world):
    me, ids, _ = world
    check = db.session.get(WelfareCheck, ids["welfare"])
    child_id = check.child.id
    page = soup(signed_in(app, me).get(f"/lists/entries?person={child_id}"))
    assert "Jordan Testchild" not in page.get_text()
    assert page.select_one("[data-testid=list-description]").get_text(strip=True) == f"linked to person {child_id}"
    assert listed_ids_from(page) == []


def listed_ids_from(page) -> list[int]:
    return [int(a["data-entry-id"]) for a in page.select("[data-entry-id]")]


def test_pagination_keeps_the_filters(app):
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    for day in range(1, 31):
        factories.asb(author, OLD_TRAFFORD, occurred_at=london(f"2026-11-{day:02d}T12:00"))
    factories.patrol(author, OLD_TRAFFORD)
    db.session.commit()
    browser = signed_in(app, author)
    first = soup(browser.get("/lists/entries?kind=asb-incidents"))
    assert len(listed_ids_from(first)) == 25
    older = first.select_one(".pagination a")["href"]
    assert "kind=asb-incidents" in older and "page=2" in older
    assert len(listed_ids_from(soup(browser.get(older)))) == 5


def test_from_args_round_trips_and_describes():
    args = MultiDict([("beat", "3"), ("beat", "3"), ("kind", "patrols"), ("status", "returned"),
                      ("from", "2026-10-30"), ("to", "2026-11-02"), ("risk", "medium"), ("bbox", "-2.3,53.4,-2.2,53.5")])
    filters = EntryFilter.from_args(args)
    assert filters.beats == (3,) and filters.kinds == (EntryKind.PATROL,)
    assert EntryFilter.from_args(MultiDict([(k, v) for k, vs in filters.to_args().items()
                                            for v in (vs if isinstance(vs, list) else [vs])])) == filters
    assert filters.describe(beat_names={3: "Stretford"}) == (
        "Patrols · Stretford · Returned for correction · 30 Oct – 2 Nov 2026 · Medium risk · "
        "in the map area -2.3000, 53.4000 to -2.2000, 53.5000")
    assert EntryFilter.from_args(MultiDict()).is_empty
    with pytest.raises(FilterError):
        EntryFilter.from_args(MultiDict([("beat", str(n)) for n in range(1, 200)]))


def test_date_ranges_read_naturally():
    assert date_range(date(2026, 11, 1), date(2026, 11, 28)) == "1–28 Nov 2026"
    assert date_range(date(2025, 12, 30), date(2026, 1, 2)) == "30 Dec 2025 – 2 Jan 2026"
    assert date_range(date(2026, 11, 1), None) == "from 1 Nov 2026"
    assert date_range(None, date(2026, 11, 1)) == "up to 1 Nov 2026"
    assert date_range(date(2026, 11, 1), date(2026, 11, 1)) == "1 Nov 2026"


def test_occurred_at_is_compared_in_london_time(app):
    """23:30 on 31 Oct in London (BST ended 25 Oct: GMT) and 00:30 on 1 Jun (BST: 23:30 UTC the day before)."""
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    summer = factories.asb(author, OLD_TRAFFORD, occurred_at=london("2026-06-01T00:30"))
    assert summer.occurred_at == datetime(2026, 5, 31, 23, 30, tzinfo=timezone.utc)
    db.session.commit()
    browser = signed_in(app, author)
    assert listed_ids(browser.get("/lists/entries?from=2026-06-01&to=2026-06-01")) == [summer.id]
    assert listed_ids(browser.get("/lists/entries?to=2026-05-31")) == []
