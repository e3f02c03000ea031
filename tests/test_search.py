"""Search: ranked full text with highlights, every filter, access exactly as the pages, audit, the form posts.

Runs on SQLite and, with TEST_DATABASE_URL, PostgreSQL: the same expectations on both. Expected
results are worked out here in Python from the objects made (never by asking the search again).
"""
from __future__ import annotations

import itertools
import re
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from pcso.access import can_view_entry
from pcso.extensions import db
from pcso.geo import distance_m
from pcso.models import (
    AsbIncident, AsbType, AuditAction, AuditEvent, Entry, EntryKind, EntryStatus, HandlingCode, IntelAssessment,
    IntelligenceReport, Link, LinkRole, LocationSource, NsirCategory, Patrol, PatrolMode, Person, RiskLevel, Role,
    School, SchoolVisit, SchoolVisitType, SearchDocument, SecurityMarking, SourceEvaluation, Vehicle, WelfareCheck,
    WelfareVisitType, name_key,
)
from pcso.search.index import document_text, reindex_entries
from pcso.search.query import PER_PAGE, SearchQuery
from pcso.search.services import highlight, search
from pcso.search.statements import explain
from pcso.timeutil import from_london, to_london, utcnow
from tests import factories
from tests.factories import signed_in, soup

OLD_TRAFFORD = factories.OLD_TRAFFORD  # E05015253
ALTRINCHAM = "E05015239"
M15_4AD = (53.464903, -2.260757)  # a postcode centroid in Old Trafford


pytestmark = pytest.mark.usefixtures("memoised_hashing")


# --- building a world --------------------------------------------------------------------------------

KIND_FIELDS = {
    Patrol: lambda: dict(started_at=utcnow() - timedelta(hours=3), ended_at=utcnow() - timedelta(hours=2),
                         mode=PatrolMode.FOOT, purpose="Hotspot patrol"),
    AsbIncident: lambda: dict(nsir_category=NsirCategory.NUISANCE, asb_type=AsbType.ROWDY_BEHAVIOUR,
                              description="Reported by a resident", victim_risk=RiskLevel.LOW),
    SchoolVisit: lambda: dict(school_id=db.session.scalars(sa.select(School.id).order_by(School.id)).first(),
                              visit_type=SchoolVisitType.TALK, topic="Online safety"),
    WelfareCheck: lambda: dict(visit_type=WelfareVisitType.PLANNED, is_seen_alone=True, risk_level=RiskLevel.MEDIUM,
                               indicators=["new_phone"]),
    IntelligenceReport: lambda: dict(source_evaluation=SourceEvaluation.UNTESTED,
                                     assessment=IntelAssessment.CORROBORATED, handling_code=HandlingCode.PERMITTED,
                                     sanitised_text="Seen at the address"),
}


def make(cls, author, beat_code=OLD_TRAFFORD, *, summary: str, status=EntryStatus.SUBMITTED,
         marking=SecurityMarking.OFFICIAL, occurred_at=None, lat=None, lon=None, people=(), vehicles=(), **fields):
    """An entry of any kind, with people [(name, role)] and vehicles [vrm] linked, not yet indexed."""
    beat = factories.beat(beat_code)
    if cls in (WelfareCheck,):
        marking = SecurityMarking.OFFICIAL_SENSITIVE
        fields.setdefault("spoc_id", author.id)
    values = KIND_FIELDS[cls]()
    values.update(fields)
    entry = cls(author_id=author.id, beat_id=beat.id, located_beat_id=beat.id,
                occurred_at=occurred_at or utcnow() - timedelta(hours=1),
                lat=(beat.min_lat + beat.max_lat) / 2 if lat is None else lat,
                lon=(beat.min_lon + beat.max_lon) / 2 if lon is None else lon,
                location_source=LocationSource.MAP, summary=summary, status=status, marking=marking,
                client_key=str(uuid.uuid4()),
                submitted_at=utcnow() if status == EntryStatus.SUBMITTED else None, **values)
    for position, (name, role) in enumerate(people):
        person = db.session.scalar(sa.select(Person).where(Person.name_key == name_key(name)))
        person = person or Person(full_name=name, name_key=name_key(name))
        entry.links.append(Link(person=person, role=role, position=position))
    for position, vrm in enumerate(vehicles):
        vehicle = db.session.scalar(sa.select(Vehicle).where(Vehicle.vrm == vrm)) or Vehicle(vrm=vrm)
        entry.links.append(Link(vehicle=vehicle, role=LinkRole.MENTIONED, position=100 + position))
    db.session.add(entry)
    db.session.flush()
    return entry


class World:
    """Officers and entries of every kind, access level and status, indexed, committed."""

    def __init__(self):
        user = factories.user
        self.pcso = user(Role.PCSO, beats=[OLD_TRAFFORD])            # logs most entries
        self.colleague = user(Role.PCSO, beats=[OLD_TRAFFORD])       # same beat, not the SPOC
        self.far_pcso = user(Role.PCSO, beats=[ALTRINCHAM])
        self.supervisor = user(Role.SUPERVISOR, beats=[OLD_TRAFFORD])
        self.analyst = user(Role.ANALYST)
        self.safeguarding = user(Role.SAFEGUARDING)
        self.admin = user(Role.ADMIN)
        self.readers = [self.pcso, self.colleague, self.far_pcso, self.supervisor, self.analyst, self.safeguarding]
        p = self.pcso
        e = {}
        e["drinking"] = make(AsbIncident, p, summary="Street drinking outside the precinct",
                             description="Group drinking cans on the benches near the precinct, shouting at shoppers.",
                             nsir_category=NsirCategory.NUISANCE, asb_type=AsbType.STREET_DRINKING,
                             people=[("Dale Wrigley", LinkRole.SUSPECT), ("Mary Shopkeeper", LinkRole.REPORTER)],
                             vehicles=["AB12CDE"], lat=53.4660, lon=-2.2607)  # ~125 m from M15 4AD
        e["car_meet"] = make(AsbIncident, self.far_pcso, ALTRINCHAM, summary="Car meet at the retail park",
                             description="Cars revving engines and doing doughnuts.",
                             nsir_category=NsirCategory.NUISANCE, asb_type=AsbType.VEHICLE_NUISANCE,
                             vehicles=["AB12XYZ", "MX65TKZ"])
        e["neighbours"] = make(AsbIncident, p, summary="Neighbour dispute over parking",
                               description="Verbal abuse over a blocked drive.", nsir_category=NsirCategory.PERSONAL,
                               asb_type=AsbType.NUISANCE_NEIGHBOURS, people=[("Dale Wrigley", LinkRole.VICTIM)],
                               lat=53.4710, lon=-2.2607)  # ~680 m north of M15 4AD
        e["catalytic_once"] = make(Patrol, p, summary="Evening patrol on Seymour Grove",
                                   purpose="Reassurance after reports of youths",
                                   notes="Spoke to residents about parking, bins, e-scooters on the pavement, the "
                                         "new bus timetable, the state of the alley behind the shops, street lights "
                                         "that are out, and one mention of a catalytic theft last month.",
                                   lat=53.4900, lon=-2.2607)  # ~2.8 km away
        e["catalytic_many"] = make(Patrol, p, summary="Catalytic converter thefts",
                                   purpose="Catalytic converter marking", notes="Catalytic thefts at the car park.")
        e["school"] = make(SchoolVisit, p, summary="Assembly on knife crime", topic="Knife Crime Awareness Week")
        e["sensitive"] = make(AsbIncident, p, summary="Precinct stabbing rumour", marking=SecurityMarking.OFFICIAL_SENSITIVE,
                              description="Rumour of a knife carried near the precinct.")
        e["draft"] = make(AsbIncident, p, summary="Precinct draft about graffiti", status=EntryStatus.DRAFT,
                          description="Half written.")
        e["welfare"] = make(WelfareCheck, p, summary="Monthly visit", observations="Casey has a new phone and trainers.",
                            child_words="Said the precinct is where older lads hang about.",
                            people=[("Casey Welfarename", LinkRole.SUBJECT)])
        e["intel_pbp"] = make(IntelligenceReport, p, summary="Drugs dropped off from a car",
                              marking=SecurityMarking.OFFICIAL_SENSITIVE,
                              sanitised_text="Vehicle AB12CDE used to drop off drugs near Seymour Park.",
                              source_details="Informant SECRETSOURCE, lives at 12 Hiddenname Road",
                              vehicles=["AB12CDE"], people=[("Jay Associate", LinkRole.ASSOCIATE)])
        e["intel_1ac"] = make(IntelligenceReport, p, summary="Cannabis grow suspected",
                              marking=SecurityMarking.OFFICIAL_SENSITIVE,
                              source_evaluation=SourceEvaluation.RELIABLE, assessment=IntelAssessment.KNOWN_DIRECTLY,
                              handling_code=HandlingCode.CONDITIONS, handling_conditions="Not to be shared with housing",
                              sanitised_text="Strong smell of cannabis from the loft.")
        e["script"] = make(AsbIncident, p, summary="<script>alert('x')</script> graffiti on the underpass",
                           description="Tag says <b>bold</b> & \"quoted\" graffiti.")
        self.entries = e
        self.all = list(e.values())
        reindex_entries()
        db.session.commit()


@pytest.fixture
def world(app) -> World:
    return World()


def found_ids(user, **terms) -> list[int]:
    """Every entry id the search returns, all pages, in order."""
    ids, page = [], 1
    while True:
        result = search(user, SearchQuery(page=page, **terms))
        ids += [r.entry.id for r in result.results]
        if not result.has_next:
            assert len(ids) == result.total
            return ids
        page += 1


def visible(user, entries) -> set[int]:
    return {entry.id for entry in entries if can_view_entry(user, entry)}


# --- the document ------------------------------------------------------------------------------------

def test_the_document_holds_the_text_names_and_registrations_but_never_source_details(world):
    e = world.entries
    drinking = db.session.get(SearchDocument, e["drinking"].id).body
    for text in ("Street drinking outside the precinct", "benches near the precinct", "Dale Wrigley",
                 "Mary Shopkeeper", "AB12CDE", "street drinking"):
        assert text in drinking
    intel = db.session.get(SearchDocument, e["intel_pbp"].id).body
    assert "Seymour Park" in intel and "Jay Associate" in intel
    assert "SECRETSOURCE" not in intel and "Hiddenname" not in intel
    school = db.session.get(IntelligenceReport, e["intel_pbp"].id)
    assert "SECRETSOURCE" not in document_text(school)
    visit = db.session.get(SchoolVisit, e["school"].id)
    assert visit.school.name in db.session.get(SearchDocument, visit.id).body
    for user in world.readers:
        assert found_ids(user, text="SECRETSOURCE") == []
        assert found_ids(user, text="Hiddenname") == []


def test_control_characters_cannot_forge_a_highlight(world):
    entry = make(AsbIncident, world.pcso, summary="Odd \x02text\x03 here", description="plain")
    reindex_entries([entry.id])
    assert "\x02" not in db.session.get(SearchDocument, entry.id).body
    assert str(highlight("a \x02b\x03 <c>")) == "a <mark>b</mark> &lt;c&gt;"


# --- text search ---------------------------------------------------------------------------------------

def test_text_search_ranks_the_better_match_first_and_highlights_it(world):
    e = world.entries
    result = search(world.pcso, SearchQuery(text="catalytic"))
    assert [r.entry.id for r in result.results] == [e["catalytic_many"].id, e["catalytic_once"].id]
    for r in result.results:
        marked = BeautifulSoup(str(r.snippet), "html.parser").select("mark")
        assert marked and all(m.get_text().lower().startswith("catalytic") for m in marked), r.snippet


def test_every_word_must_appear_stemmed_and_a_star_matches_the_start(world):
    e = world.entries
    assert set(found_ids(world.supervisor, text="drinking benches")) == {e["drinking"].id}
    assert set(found_ids(world.supervisor, text="drinks bench")) == {e["drinking"].id}  # stems
    assert found_ids(world.supervisor, text="drinking doughnuts") == []
    assert set(found_ids(world.supervisor, text="wrig*")) == {e["drinking"].id, e["neighbours"].id}
    assert found_ids(world.supervisor, text="wrig") == []
    # punctuation and query syntax typed into the box are just separators
    assert set(found_ids(world.supervisor, text='"drinking" OR (NEAR benches -') ) == {e["drinking"].id}
    assert search(world.supervisor, SearchQuery(text="the and of")).criteria.has_text is False


def test_text_matches_names_and_registrations_in_the_document(world):
    e = world.entries
    assert set(found_ids(world.supervisor, text="Wrigley")) == {e["drinking"].id, e["neighbours"].id}
    assert set(found_ids(world.supervisor, text="ab12cde")) == {e["drinking"].id, e["intel_pbp"].id}


def test_newest_first_without_words(world):
    e = world.entries
    ids = found_ids(world.supervisor, kinds=(EntryKind.ASB_INCIDENT,))
    entries = [db.session.get(Entry, i) for i in ids]
    assert [x.occurred_at for x in entries] == sorted((x.occurred_at for x in entries), reverse=True)
    assert e["car_meet"].id in ids


# --- each filter narrows, checked against the objects --------------------------------------------------

def expect(world, user, predicate) -> set[int]:
    return {entry.id for entry in world.all if can_view_entry(user, entry) and predicate(entry)}


def linked_names(entry) -> list[str]:
    return [name_key(link.person.full_name) for link in entry.links if link.person is not None]


def linked_vrms(entry) -> list[str]:
    return [link.vehicle.vrm for link in entry.links if link.vehicle is not None]


FILTERS = {
    "kinds": ({"kinds": (EntryKind.PATROL, EntryKind.SCHOOL_VISIT)},
              lambda e: e.kind in (EntryKind.PATROL, EntryKind.SCHOOL_VISIT)),
    "beat": (lambda: {"beat_id": factories.beat(ALTRINCHAM).id}, lambda e: e.beat.code == ALTRINCHAM),
    "nsir": ({"nsir_category": NsirCategory.PERSONAL},
             lambda e: isinstance(e, AsbIncident) and e.nsir_category == NsirCategory.PERSONAL),
    "evaluation": ({"source_evaluation": SourceEvaluation.RELIABLE},
                   lambda e: isinstance(e, IntelligenceReport) and e.source_evaluation == SourceEvaluation.RELIABLE),
    "assessment": ({"assessment": IntelAssessment.CORROBORATED},
                   lambda e: isinstance(e, IntelligenceReport) and e.assessment == IntelAssessment.CORROBORATED),
    "handling": ({"handling_code": HandlingCode.CONDITIONS},
                 lambda e: isinstance(e, IntelligenceReport) and e.handling_code == HandlingCode.CONDITIONS),
    "person": ({"person": "wrigley"}, lambda e: any("wrigley" in n for n in linked_names(e))),
    "person_partial": ({"person": "Dale W"}, lambda e: any("dale w" in n for n in linked_names(e))),
    "vrm_partial": ({"vrm": "ab12"}, lambda e: any("AB12" in v for v in linked_vrms(e))),
    "vrm_spaced": ({"vrm": "ab12 c"}, lambda e: any("AB12C" in v for v in linked_vrms(e))),
    "vrm_middle": ({"vrm": "65tk"}, lambda e: any("65TK" in v for v in linked_vrms(e))),
}


@pytest.mark.parametrize("name", FILTERS)
def test_each_filter_narrows_to_what_it_names(world, name):
    terms, predicate = FILTERS[name]
    terms = terms() if callable(terms) else terms
    for user in (world.supervisor, world.analyst, world.pcso):
        wanted = expect(world, user, predicate)
        got = found_ids(user, **terms)
        assert len(got) == len(set(got))
        assert set(got) == wanted, (user.role, sorted(got), sorted(wanted))
    assert expect(world, world.supervisor, predicate), "the filter should find something for a supervisor"


def test_author_filter(world):
    got = set(found_ids(world.supervisor, author_id=world.far_pcso.id))
    assert got == {world.entries["car_meet"].id}


def test_text_and_filters_combine(world):
    e = world.entries
    assert set(found_ids(world.analyst, text="AB12CDE", kinds=(EntryKind.INTELLIGENCE_REPORT,))) == {e["intel_pbp"].id}
    assert set(found_ids(world.supervisor, text="Wrigley", nsir_category=NsirCategory.PERSONAL)) == {e["neighbours"].id}
    beat = factories.beat(OLD_TRAFFORD).id
    today = to_london(utcnow()).date()
    got = set(found_ids(world.supervisor, text="precinct", beat_id=beat, date_from=today - timedelta(days=28),
                        date_to=today))
    wanted = {e["drinking"].id, e["sensitive"].id, e["welfare"].id}
    assert got == wanted


def test_dates_are_london_days(app):
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    # 23:30 and 00:30 London in summer (BST): both on 30 June in UTC
    late = make(AsbIncident, author, summary="Late one", occurred_at=from_london(datetime(2025, 6, 30, 23, 30)))
    early = make(AsbIncident, author, summary="Early one", occurred_at=from_london(datetime(2025, 7, 1, 0, 30)))
    assert late.occurred_at.astimezone(timezone.utc).date() == early.occurred_at.astimezone(timezone.utc).date()
    reindex_entries()
    db.session.commit()
    june = set(found_ids(author, date_from=date(2025, 6, 30), date_to=date(2025, 6, 30)))
    july = set(found_ids(author, date_from=date(2025, 7, 1), date_to=date(2025, 7, 1)))
    assert (june, july) == ({late.id}, {early.id})
    assert set(found_ids(author, date_to=date(2025, 6, 30))) == {late.id}
    assert set(found_ids(author, date_from=date(2025, 7, 1))) == {early.id}


@pytest.mark.parametrize("radius", [100, 500, 1000, 5000])
def test_near_a_postcode_with_a_radius(world, radius):
    for user in (world.supervisor, world.pcso):
        wanted = expect(world, user, lambda e: e.lat is not None and distance_m(*M15_4AD, e.lat, e.lon) <= radius)
        result = search(user, SearchQuery(near=M15_4AD, near_postcode="M15 4AD", radius_m=radius))
        assert {r.entry.id for r in result.results} == wanted
        assert result.total == len(wanted)
        for r in result.results:
            assert r.distance_m == pytest.approx(distance_m(*M15_4AD, r.entry.lat, r.entry.lon))
    if radius == 500:
        assert world.entries["drinking"].id in wanted and world.entries["neighbours"].id not in wanted


def test_pages_of_twenty_five(app):
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    made = [make(AsbIncident, author, summary=f"Littering number {i}", occurred_at=utcnow() - timedelta(hours=i))
            for i in range(PER_PAGE + 3)]
    reindex_entries()
    db.session.commit()
    first = search(author, SearchQuery(text="littering"))
    second = search(author, SearchQuery(text="littering", page=2))
    assert (first.total, len(first.results), len(second.results), first.pages) == (28, 25, 3, 2)
    assert {r.entry.id for r in first.results + second.results} == {e.id for e in made}
    newest = search(author, SearchQuery(kinds=(EntryKind.ASB_INCIDENT,)))
    assert [r.entry.id for r in newest.results] == [e.id for e in made[:PER_PAGE]]
    assert search(author, SearchQuery(text="littering", page=99)).page == 2  # past the end: the last page


def test_words_alone_are_counted_up_to_a_cap_and_said_so(app, monkeypatch):
    from pcso.search import services, statements

    monkeypatch.setattr(statements, "COUNT_CAP", 5)  # the capped count statement
    monkeypatch.setattr(services, "COUNT_CAP", 5)  # and what search() makes of it
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    for i in range(8):
        make(AsbIncident, author, summary=f"Littering number {i}", occurred_at=utcnow() - timedelta(hours=i))
    reindex_entries()
    db.session.commit()
    words = search(author, SearchQuery(text="littering"))
    assert (words.total, words.is_capped) == (5, True)
    filtered = search(author, SearchQuery(text="littering", kinds=(EntryKind.ASB_INCIDENT,)))
    assert (filtered.total, filtered.is_capped) == (8, False)  # a filter: counted exactly
    html = soup(signed_in(app, author).post("/search", data={"q": "littering"}, follow_redirects=True))
    assert html.select_one("[data-testid=result-count]").get_text(strip=True) == "More than 5 entries"
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.SEARCH)).one()
    assert (event.details["results"], event.details["more"]) == (5, True)


def test_words_matching_very_many_entries_are_listed_newest_first_on_postgresql(app, monkeypatch):
    """Past NEWEST_FIRST_AT matches (the planner's estimate) PostgreSQL lists words alone newest first instead of
    ranking every match; SQLite's FTS5 stays best first. The threshold is lowered here to the test's few entries."""
    from pcso.search import statements

    monkeypatch.setattr(statements, "NEWEST_FIRST_AT", 1)
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    best = make(AsbIncident, author, summary="Graffiti graffiti graffiti on the graffiti wall",
                occurred_at=utcnow() - timedelta(days=9))
    newer = [make(AsbIncident, author, summary=f"Graffiti tag {i}", occurred_at=utcnow() - timedelta(hours=i))
             for i in range(3)]
    reindex_entries()
    db.session.commit()
    found = search(author, SearchQuery(text="graffiti"))
    ids = [r.entry.id for r in found.results]
    order = soup(signed_in(app, author).post("/search", data={"q": "graffiti"}, follow_redirects=True)) \
        .select_one("[data-testid=result-order]").get_text(" ", strip=True)
    if db.engine.dialect.name == "postgresql":
        assert statements.estimated_matches(SearchQuery(text="graffiti")) >= 1
        assert found.is_newest_first and ids == [e.id for e in newer] + [best.id]
        assert order.startswith("Newest first (too many entries match")
    else:
        assert not found.is_newest_first and ids[0] == best.id
        assert order.startswith("Best matches first")
    monkeypatch.setattr(statements, "NEWEST_FIRST_AT", 10**9)
    assert not search(author, SearchQuery(text="graffiti")).is_newest_first  # few matches: best first


# --- POLE records -------------------------------------------------------------------------------------

def test_people_and_vehicles_found_by_name_and_partial_registration(world):
    result = search(world.analyst, SearchQuery(person="wrigley"))
    assert [p.full_name for p in result.people] == ["Dale Wrigley"]
    result = search(world.analyst, SearchQuery(vrm="AB12"))
    assert [v.vrm for v in result.vehicles] == ["AB12CDE", "AB12XYZ"]
    result = search(world.analyst, SearchQuery(text="AB12"))  # a registration typed in the words box
    assert [v.vrm for v in result.vehicles] == ["AB12CDE", "AB12XYZ"]
    result = search(world.analyst, SearchQuery(text="Jay Associate"))
    assert [p.full_name for p in result.people] == ["Jay Associate"]


def test_a_record_is_found_only_through_an_entry_the_user_may_see(world):
    # Jay Associate is linked only to an OFFICIAL-SENSITIVE intelligence report written by world.pcso
    for user, shown in ((world.pcso, True), (world.colleague, False), (world.analyst, True),
                        (world.safeguarding, False)):
        people = [p.full_name for p in search(user, SearchQuery(person="Jay")).people]
        assert people == (["Jay Associate"] if shown else []), user.role
    # MX65TKZ appears only in an incident on Altrincham: not for a PCSO on Old Trafford
    assert search(world.colleague, SearchQuery(vrm="MX65")).vehicles == []
    assert [v.vrm for v in search(world.far_pcso, SearchQuery(vrm="MX65")).vehicles] == ["MX65TKZ"]


def test_a_pcso_never_sees_anothers_welfare_check_or_its_child(world):
    check = world.entries["welfare"]
    assert not can_view_entry(world.colleague, check) and not can_view_entry(world.analyst, check)
    assert can_view_entry(world.supervisor, check) and can_view_entry(world.safeguarding, check)
    naming = ({"text": "Casey"}, {"text": "Welfarename"}, {"person": "Casey"}, {"person": "welfarename"},
              {"text": "casey welfarename"})
    for user in world.readers:
        may = can_view_entry(user, check)
        for terms in naming + ({"text": "trainers"}, {"kinds": (EntryKind.WELFARE_CHECK,)}):
            result = search(user, SearchQuery(**terms))
            assert (check.id in {r.entry.id for r in result.results}) == may, (user.role, terms)
            if terms in naming:
                assert ("Casey Welfarename" in {p.full_name for p in result.people}) == may, (user.role, terms)


QUERIES = [
    {"text": "precinct"}, {"text": "graffiti"}, {"text": "Casey"}, {"text": "Wrigley"}, {"text": "AB12CDE"},
    {"kinds": tuple(EntryKind)}, {"person": "a"*2}, {"vrm": "AB"}, {"near": M15_4AD, "radius_m": 5000},
    {"text": "drugs", "kinds": (EntryKind.INTELLIGENCE_REPORT,)}, {"source_evaluation": SourceEvaluation.UNTESTED},
]


def test_results_respect_access_exactly_as_pages_do(world):
    """Every result passes can_view_entry, and everything it allows that matches is found."""
    e = world.entries
    for user, terms in itertools.product(world.readers, QUERIES):
        ids = found_ids(user, **terms)
        for entry_id in ids:
            assert can_view_entry(user, db.session.get(Entry, entry_id)), (user.role, terms, entry_id)
    everything = {"kinds": tuple(EntryKind)}
    for user in world.readers:
        assert set(found_ids(user, **everything)) == visible(user, world.all), user.role
    # the cases that matter, spelled out
    precinct = {user.collar_number: set(found_ids(user, text="precinct")) for user in world.readers}
    assert e["sensitive"].id not in precinct[world.colleague.collar_number]  # OFFICIAL-SENSITIVE: not for PCSOs
    assert e["sensitive"].id in precinct[world.analyst.collar_number]
    assert e["draft"].id in precinct[world.pcso.collar_number]  # a draft: its author only
    for user in (world.colleague, world.supervisor, world.analyst, world.safeguarding):
        assert e["draft"].id not in precinct[user.collar_number]
    assert e["welfare"].id not in precinct[world.colleague.collar_number]
    assert e["welfare"].id in precinct[world.safeguarding.collar_number]


# --- indexing follows the entry services -------------------------------------------------------------------

def test_logging_and_editing_through_the_forms_keeps_the_index_in_step(client):
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    factories.login(client, pcso)
    response = client.post("/asb-incidents/new", data=factories.asb_form(
        summary="Bins set alight", description="Wheelie bins on fire behind the flats", action="draft",
        **{"people-0-name": "Tony Firestarter", "people-0-role": "suspect", "vehicles-0-vrm": "yb19 fir"}))
    entry_id = int(response.location.rsplit("/", 1)[1])
    assert set(found_ids(pcso, text="wheelie")) == {entry_id}
    assert set(found_ids(pcso, text="firestarter")) == {entry_id}
    assert set(found_ids(pcso, vrm="YB19")) == {entry_id}
    client.post(f"/entries/{entry_id}/edit", data=factories.asb_form(
        summary="Bins set alight", description="Skip on fire behind the flats", action="draft"))
    assert found_ids(pcso, text="wheelie") == [] and set(found_ids(pcso, text="skip")) == {entry_id}
    db.session.execute(sa.delete(Entry).where(Entry.id == entry_id))
    db.session.commit()
    assert found_ids(pcso, text="skip") == []
    assert db.session.get(SearchDocument, entry_id) is None


def test_flask_search_reindex_rebuilds_every_document(app, world):
    db.session.execute(sa.delete(SearchDocument).where(SearchDocument.entry_id == world.entries["drinking"].id))
    db.session.execute(sa.update(SearchDocument).where(SearchDocument.entry_id == world.entries["school"].id)
                       .values(body="stale"))
    db.session.commit()
    assert found_ids(world.supervisor, text="benches") == []
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0 and result.output == f"Reindexed {len(world.all)} entries.\n"
    db.session.expire_all()
    assert set(found_ids(world.supervisor, text="benches")) == {world.entries["drinking"].id}
    assert db.session.get(SearchDocument, world.entries["school"].id).body != "stale"


# --- plans ------------------------------------------------------------------------------------------------

SHAPES = {
    "text": {"text": "precinct"},
    "text+beat+date": {"text": "precinct", "beat_id": 1, "date_from": date(2025, 1, 1), "date_to": date(2025, 1, 28)},
    "text+kinds+grading": {"text": "drugs", "kinds": (EntryKind.INTELLIGENCE_REPORT,),
                           "source_evaluation": SourceEvaluation.RELIABLE},
    "text+person": {"text": "precinct", "person": "wrigley"},
    "text+vrm": {"text": "precinct", "vrm": "AB12"},
    "text+near": {"text": "precinct", "near": M15_4AD, "radius_m": 500},
    "text+author+nsir": {"text": "precinct", "author_id": 1, "nsir_category": NsirCategory.NUISANCE},
}


@pytest.mark.parametrize("shape", SHAPES)
def test_sqlite_plans_drive_from_the_full_text_index(world, shape):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL plans are in docs/PERFORMANCE.md")
    for user in (world.pcso, world.analyst):
        for count in (False, True):
            plan = explain(user, SearchQuery(**SHAPES[shape]), count=count)
            # (the window that counts the results wraps the query in a co-routine; subqueries run once)
            top = [line for line in plan if not line.startswith(
                ("CO-ROUTINE", "SCAN (subquery", "CORRELATED", "LIST SUBQUERY", "USE TEMP"))]
            # the first table read is the FTS5 match; entry is then probed by primary key, once per match
            assert re.match(r"SCAN search_fts VIRTUAL TABLE INDEX \d+:M", top[0]), plan
            assert any(line.startswith("SEARCH entry USING INTEGER PRIMARY KEY (rowid=?)") for line in plan), plan
            assert not any(line.startswith("SCAN entry") for line in plan), plan
            assert sum("search_fts" in line for line in plan) == 1, plan  # MATCH runs once, never per row


def test_sqlite_plans_without_words_use_an_index(world):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite plans")
    beat = {"beat_id": 1, "date_from": date(2025, 1, 1)}
    assert any("ix_entry_beat_occurred" in line for line in explain(world.analyst, SearchQuery(**beat)))
    assert any("ix_entry_lat_lon" in line for line in explain(world.analyst, SearchQuery(near=M15_4AD)))
    assert any("ix_entry_occurred_at" in line for line in explain(world.analyst, SearchQuery(date_from=date(2025, 1, 1))))


# --- the page -------------------------------------------------------------------------------------------------

def test_search_page_posts_its_terms_and_shows_results_people_and_a_map(app, world):
    browser = signed_in(app, world.analyst)
    page = soup(browser.get("/search"))
    form = page.select_one("form[data-testid=search-form]")
    assert form["method"] == "post" and form["action"] == "/search"
    assert page.select_one("nav a[href='/search']").get_text() == "Search"
    response = browser.post("/search", data={"q": "", "vrm": "ab12", "radius_m": "500"}, follow_redirects=True)
    assert response.status_code == 200
    assert [(r.status_code, r.request.path) for r in response.history] == [(303, "/search")]
    assert re.fullmatch(r"/search/results/[A-Za-z0-9_-]{32}", response.request.path)
    assert response.request.query_string == b""
    html = soup(response)
    listed = [int(a["data-entry-id"]) for a in html.select("[data-testid=search-results] [data-entry-id]")]
    e = world.entries
    assert set(listed) == {e["drinking"].id, e["car_meet"].id, e["intel_pbp"].id}
    assert [li.get_text(" ", strip=True).split()[0]
            for li in html.select("[data-testid=vehicles-found] li")] == ["AB12CDE", "AB12XYZ"]
    assert html.select_one("[data-map]")["data-points"]
    for a in html.select("a[href]"):
        assert "ab12" not in a["href"].lower(), a["href"]  # nothing typed goes into a link
    for result in html.select("[data-testid=search-results] a.entry-item"):
        assert result["href"] == f"/entries/{result['data-entry-id']}"


def test_profile_links_appear_when_the_profile_pages_exist(app, world):
    browser = signed_in(app, world.analyst)
    html = soup(browser.post("/search", data={"person": "Wrigley"}, follow_redirects=True))
    person = html.select_one("[data-testid=people-found] li")
    link = person.select_one("a")
    if "pole.person" in app.view_functions:
        assert link["href"] == f"/people/{person['data-person-id']}"
    else:
        assert link is None


def test_every_search_is_audited_with_its_terms_and_count(app, world):
    browser = signed_in(app, world.supervisor)
    before = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == AuditAction.SEARCH))
    browser.post("/search", data={"q": "precinct", "kinds": ["asb_incident", "welfare_check"], "postcode": "m15 4ad",
                                  "radius_m": "1000"}, follow_redirects=True)
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.SEARCH)
                                .order_by(AuditEvent.id)).all()
    assert len(events) == before + 1
    event = events[-1]
    wanted = expect(world, world.supervisor, lambda x: x.kind in ("asb_incident", "welfare_check")
                    and distance_m(*M15_4AD, x.lat, x.lon) <= 1000 and "precinct" in document_text(x).lower())
    assert event.actor_id == world.supervisor.id and event.object_type == "entry"
    assert event.details["terms"] == {"text": "precinct", "kinds": ["asb_incident", "welfare_check"],
                                      "near": list(M15_4AD), "near_postcode": "M15 4AD", "radius_m": 1000}
    assert event.details["results"] == len(wanted) > 0


def test_pages_are_links_to_the_same_saved_search(app):
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    for i in range(PER_PAGE + 2):
        make(AsbIncident, author, summary=f"Littering near Dale Wrigley's house {i}",
             occurred_at=utcnow() - timedelta(hours=i))
    reindex_entries()
    db.session.commit()
    browser = signed_in(app, author)
    first = browser.post("/search", data={"q": "littering", "person": "", "kinds": ["asb_incident"]},
                         follow_redirects=True)
    html = soup(first)
    pages = html.select_one("nav[data-testid=pages]")
    link = pages.select_one("a")
    assert (link["href"], link.get_text(strip=True)) == (f"{first.request.path}?page=2#results", "Next ›")
    assert "littering" not in link["href"].lower()
    second = soup(browser.get(link["href"].split("#")[0]))
    assert len(second.select("[data-testid=search-results] [data-entry-id]")) == 2
    assert second.select_one("#q")["value"] == "littering"  # the form comes back filled in


def test_snippets_are_escaped_and_only_matches_are_marked(app, world):
    browser = signed_in(app, world.pcso)
    response = browser.post("/search", data={"q": "graffiti underpass"}, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "<script>alert" not in text and "<b>bold</b>" not in text
    html = soup(response)
    result = html.select_one(f"[data-entry-id='{world.entries['script'].id}']")
    snippet = result.select_one("[data-testid=snippet]")
    assert [m.get_text() for m in snippet.select("mark")] and all(
        m.get_text().lower() in ("graffiti", "underpass") for m in snippet.select("mark"))
    assert not snippet.select("script, b")
    assert "<script>alert('x')</script>" in result.select_one(".entry-item__summary").get_text()  # shown as text
    assert "&lt;script&gt;" in text


@pytest.mark.parametrize("data, message", [
    ({}, "Give some words, a name, a registration or a filter to search for"),
    ({"q": "the of"}, "Give some words, a name, a registration or a filter to search for"),
    ({"postcode": "SW1A 1AA"}, "That postcode is not in the postcode book"),
    ({"postcode": "nonsense"}, "Enter a full postcode, like M32 0JG"),
    ({"lat": "53.4"}, "Give both latitude and longitude as decimal degrees"),
    ({"q": "x", "radius_m": "99999"}, "Give a distance from 10 to 5,000 metres"),
    ({"vrm": "-"}, "Give at least two letters or numbers of the registration"),
    ({"kinds": ["nonsense"]}, "'nonsense' is not a valid choice for this field."),
    ({"q": "x", "date_from": "2025-02-01", "date_to": "2025-01-01"}, "The end date is before the start date"),
])
def test_a_search_that_cannot_run_says_why(app, data, message):
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    response = signed_in(app, pcso).post("/search", data=data)
    assert response.status_code == 400
    problems = [a.get_text(strip=True) for a in soup(response).select("[data-testid=error-summary] a")]
    assert message in problems, problems
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == AuditAction.SEARCH)) == 0


def test_a_point_instead_of_a_postcode(app, world):
    browser = signed_in(app, world.supervisor)
    html = soup(browser.post("/search", data={"lat": str(M15_4AD[0]), "lon": str(M15_4AD[1]), "radius_m": "200"},
                              follow_redirects=True))
    assert {int(a["data-entry-id"]) for a in html.select("[data-testid=search-results] [data-entry-id]")} == {
        world.entries["drinking"].id}
    assert html.select_one("[data-testid=distance]").get_text() == f"{round(distance_m(*M15_4AD, 53.4660, -2.2607))} m away"


def test_admin_cannot_search(app):
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    browser = signed_in(app, admin)
    assert browser.get("/search").status_code == 403
    assert browser.post("/search", data={"q": "anything"}).status_code == 403
