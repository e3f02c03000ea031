"""Profiles of people, vehicles and places, and merging duplicates.

The expected timelines and associates are worked out here from the links the test seeds and the
entries each officer may open (written by hand), not by the app's queries: a profile must show
exactly what the viewer's entries say, and nothing from an entry they may not open.
"""
from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from pcso.extensions import db
from pcso.models import (
    AuditAction, AuditEvent, EntryStatus, Link, LinkRole, Person, Role, SecurityMarking, Vehicle, WarningMarker, name_key,
)
from pcso.pole.queries import similar_names
from pcso.timeutil import utcnow
from tests import factories
from tests.factories import signed_in, soup

OLD_TRAFFORD = factories.OLD_TRAFFORD
ALTRINCHAM = "E05015239"
V, W, S, SUB, A, M = (LinkRole.VICTIM, LinkRole.WITNESS, LinkRole.SUSPECT, LinkRole.SUBJECT, LinkRole.ASSOCIATE,
                      LinkRole.MENTIONED)


pytestmark = pytest.mark.usefixtures("memoised_hashing")


# --- a small world: who was in which entry, and who may open which ---------------------------------

# entry name -> (days ago, beat, marking, kind, [(record, role), ...])
SEED = {
    "e1": (10, OLD_TRAFFORD, "official", "asb", [("dale", S), ("kim", W), ("car", M)]),
    "e2": (5, OLD_TRAFFORD, "official", "asb", [("dale", S), ("car", M), ("park", M)]),
    "e3": (3, OLD_TRAFFORD, "official", "asb", [("kim", V), ("park", M)]),
    "e4": (2, OLD_TRAFFORD, "sensitive", "asb", [("dale", S), ("secret", A), ("car", M)]),
    "w1": (1, OLD_TRAFFORD, "sensitive", "welfare", [("child", SUB), ("dale", A), ("park", M)]),
    "e5": (4, ALTRINCHAM, "official", "asb", [("dale", W), ("kim", S), ("dale", V)]),  # two roles in one entry
    "d1": (0, OLD_TRAFFORD, "official", "draft", [("dale", S), ("draftmate", W)]),
}

# who may open which entry (the access rules, written out by hand)
VISIBLE = {
    "author": {"e1", "e2", "e3", "e4", "w1", "e5", "d1"},  # wrote them all, and is the SPOC
    "colleague": {"e1", "e2", "e3"},  # PCSO on Old Trafford: no sensitive entries, no other beat, no welfare
    "analyst": {"e1", "e2", "e3", "e4", "e5"},  # everything but welfare checks and drafts
    "supervisor": {"e1", "e2", "e3", "e4", "w1", "e5"},
    "safeguarding": {"w1"},
}


@pytest.fixture
def world(app):
    officers = {
        "author": factories.user(Role.PCSO, beats=[OLD_TRAFFORD, ALTRINCHAM]),
        "colleague": factories.user(Role.PCSO, beats=[OLD_TRAFFORD]),
        "analyst": factories.user(Role.ANALYST),
        "supervisor": factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD]),
        "safeguarding": factories.user(Role.SAFEGUARDING),
    }
    records = {
        "dale": factories.person("Dale Wrigley", date(1988, 7, 14), description="Tall, shaved head",
                                 warning_markers=[WarningMarker.VIOLENT.value], aliases=["Dazza"]),
        "kim": factories.person("Kim Oduya", approx_age=30),
        "secret": factories.person("Sam Secretson"),
        "draftmate": factories.person("Drew Draftly"),
        "car": factories.vehicle("MX65 TKZ", make="Ford", model="Focus", colour="Grey"),
        "park": factories.location("Seymour Park, Northumberland Road", postcode="M16 9QE", beat_code=OLD_TRAFFORD),
    }
    entries = {}
    author = officers["author"]
    for name, (days, beat_code, marking, kind, links) in SEED.items():
        common = dict(occurred_at=utcnow() - timedelta(days=days, hours=1), summary=f"Entry {name}")
        if kind == "welfare":
            entry = factories.welfare(author, beat_code=beat_code, child_name="Casey Childname", **common)
            records["child"] = entry.child
            links = [item for item in links if item[0] != "child"]
        else:
            sensitive = marking == "sensitive"
            entry = factories.asb(author, beat_code,
                                  marking=SecurityMarking.OFFICIAL_SENSITIVE if sensitive else SecurityMarking.OFFICIAL,
                                  status=EntryStatus.DRAFT if kind == "draft" else EntryStatus.SUBMITTED, **common)
        for position, (record, role) in enumerate(links, 1):
            factories.link(entry, records[record], role, position=position)
        entries[name] = entry
    db.session.commit()
    return officers, records, entries


def expected_timeline(viewer: str, record: str) -> list[tuple[str, list[str]]]:
    """(entry, roles) newest first, from SEED and VISIBLE."""
    rows = [(days, name, [role.value for who, role in links if who == record])
            for name, (days, _, _, _, links) in SEED.items() if name in VISIBLE[viewer]]
    return [(name, roles) for days, name, roles in sorted(rows) if roles]


def expected_associates(viewer: str, record: str) -> dict[str, tuple[int, int]]:
    """Associate -> (shared visible entries, days since last seen together), people and vehicles only."""
    counts, last = Counter(), {}
    for name, (days, _, _, _, links) in SEED.items():
        names = {who for who, _ in links}
        if name not in VISIBLE[viewer] or record not in names:
            continue
        for other in names - {record, "park"}:
            counts[other] += 1
            last[other] = min(last.get(other, days), days)
    return {other: (count, last[other]) for other, count in counts.items()}


def shown_timeline(page, entries) -> list[tuple[str, list[str]]]:
    by_id = {entry.id: name for name, entry in entries.items()}
    return [(by_id[int(a["data-entry-id"])], a["data-roles"].split())
            for a in page.select("[data-testid=timeline] [data-entry-id]")]


def shown_associates(page, records) -> list[tuple[str, int]]:
    by_key = {f"{type(r).__tablename__}-{r.id}": name for name, r in records.items()}
    return [(by_key[li["data-associate"]], int(li["data-times"])) for li in page.select("[data-associate]")]


def profile_url(record) -> str:
    return {"person": "/people/", "vehicle": "/vehicles/", "location": "/locations/"}[type(record).__tablename__] + \
        str(record.id)


# --- timeline, associates, map ---------------------------------------------------------------------

@pytest.mark.parametrize("viewer", ["author", "colleague", "analyst", "supervisor", "safeguarding"])
@pytest.mark.parametrize("record", ["dale", "kim", "car", "park"])
def test_timeline_and_associates_are_those_of_the_viewers_entries(app, world, viewer, record):
    officers, records, entries = world
    response = signed_in(app, officers[viewer]).get(profile_url(records[record]))
    timeline = expected_timeline(viewer, record)
    if not timeline:  # seen in no entry they may open: the record does not exist for them
        assert response.status_code == 404
        return
    page = soup(response)
    assert shown_timeline(page, entries) == timeline
    assert page.select_one("[data-testid=seen-count] strong").get_text() == str(len(timeline))

    expected = expected_associates(viewer, record)
    shown = shown_associates(page, records)
    assert dict(shown) == {name: count for name, (count, _) in expected.items()}
    # sorted by how often, then most recently seen together
    assert shown == sorted(shown, key=lambda item: (-item[1], expected[item[0]][1]))


def test_associate_seen_only_through_a_hidden_entry_is_not_listed(app, world):
    officers, records, entries = world
    dale = profile_url(records["dale"])
    for viewer in ("colleague", "analyst", "supervisor"):
        page = soup(signed_in(app, officers[viewer]).get(dale))
        text = page.get_text()
        listed = dict(shown_associates(page, records))
        assert ("secret" in listed) == (viewer != "colleague"), viewer  # only in the OFFICIAL-SENSITIVE e4
        assert ("Sam Secretson" in text) == (viewer != "colleague"), viewer
        assert ("child" in listed) == (viewer == "supervisor"), viewer  # only in the welfare check
        assert ("Casey Childname" in text) == (viewer == "supervisor"), viewer
        assert "draftmate" not in listed and "Drew Draftly" not in text  # someone else's draft
    # nor can they reach the hidden associate's own page
    assert signed_in(app, officers["colleague"]).get(profile_url(records["secret"])).status_code == 404


def test_map_shows_only_the_entries_the_viewer_may_open(app, world):
    officers, records, entries = world
    by_url = {f"/entries/{entry.id}": name for name, entry in entries.items()}
    for viewer in ("colleague", "analyst", "supervisor", "author"):
        page = soup(signed_in(app, officers[viewer]).get(profile_url(records["dale"])))
        points = json.loads(page.select_one("[data-map]")["data-points"])
        assert {by_url[p["url"]] for p in points} == {name for name, _ in expected_timeline(viewer, "dale")}, viewer
        labels = " ".join(p["label"] for p in points)
        for hidden in set(SEED) - VISIBLE[viewer]:
            assert f"Entry {hidden}" not in labels


def test_person_profile_shows_their_details(app, world):
    officers, records, _ = world
    page = soup(signed_in(app, officers["colleague"]).get(profile_url(records["dale"])))
    assert page.select_one("h1").get_text(strip=True) == "Dale Wrigley"
    details = page.select_one("[data-testid=record-details]").get_text(" ", strip=True)
    for shown in ("Dazza", "14 Jul 1988", "Tall, shaved head"):
        assert shown in details
    assert page.select_one("[data-testid=warning-markers]").get_text(strip=True) == "Violent"
    kim = soup(signed_in(app, officers["colleague"]).get(profile_url(records["kim"])))
    assert "About 30" in kim.select_one("[data-testid=record-details]").get_text()
    car = soup(signed_in(app, officers["colleague"]).get(profile_url(records["car"])))
    assert [dd.get_text(strip=True) for dd in car.select("[data-testid=record-details] dd")] == [
        "MX65TKZ", "Ford", "Focus", "Grey"]
    park = soup(signed_in(app, officers["colleague"]).get(profile_url(records["park"])))
    assert "M16 9QE" in park.select_one("[data-testid=record-details]").get_text()


def test_profile_is_marked_official_sensitive_when_it_shows_a_sensitive_entry(app, world):
    officers, records, _ = world
    for viewer, sensitive in (("colleague", False), ("analyst", True)):
        page = soup(signed_in(app, officers[viewer]).get(profile_url(records["dale"])))
        assert (page.select_one("[data-testid=marking]") is not None) == sensitive, viewer


def test_every_profile_view_is_audited(app, world):
    officers, records, _ = world
    browser = signed_in(app, officers["analyst"])
    for name in ("dale", "car", "park"):
        assert browser.get(profile_url(records[name])).status_code == 200
    events = db.session.execute(sa.select(AuditEvent.object_type, AuditEvent.object_id, AuditEvent.actor_id)
                                .where(AuditEvent.action == AuditAction.VIEW,
                                       AuditEvent.object_type.in_(["person", "vehicle", "location"]))
                                .order_by(AuditEvent.id)).all()
    analyst = officers["analyst"].id
    assert events == [("person", records["dale"].id, analyst), ("vehicle", records["car"].id, analyst),
                      ("location", records["park"].id, analyst)]
    # a refused view records no view of the record: a denial (pcso/audit.py), with no content
    assert browser.get(profile_url(records["child"])).status_code == 404
    assert db.session.execute(sa.select(AuditEvent.action, AuditEvent.details).where(
        AuditEvent.object_type == "person", AuditEvent.object_id == records["child"].id)).all() == [
        (AuditAction.DENY, {"context": "pole.person", "method": "GET"})]


def test_entry_page_links_people_and_vehicles_to_their_profiles(app, world):
    officers, records, entries = world
    page = soup(signed_in(app, officers["colleague"]).get(f"/entries/{entries['e1'].id}"))
    links = {a.get_text(strip=True): a["href"] for a in page.select("[data-record]")}
    assert links == {"Dale Wrigley": profile_url(records["dale"]), "Kim Oduya": profile_url(records["kim"]),
                     "MX65TKZ": profile_url(records["car"])}


# --- a child known only from a welfare check -----------------------------------------------------------

CHILD_PROFILE = {"colleague": 404, "analyst": 404, "author": 200, "supervisor": 200, "safeguarding": 200}


def test_child_known_only_from_a_welfare_check_is_seen_only_by_those_who_can_open_it(app, world):
    officers, records, entries = world
    spoc = factories.user(Role.PCSO, beats=[ALTRINCHAM])
    check = factories.welfare(officers["author"], spoc=spoc, beat_code=OLD_TRAFFORD, child_name="Robin Spocchild")
    db.session.commit()
    child = profile_url(check.child)
    answers = {}
    for viewer, expected in {**CHILD_PROFILE, "spoc": 200}.items():
        response = signed_in(app, spoc if viewer == "spoc" else officers[viewer]).get(child)
        answers[viewer] = response.status_code
        assert ("Robin Spocchild" in response.get_data(as_text=True)) == (expected == 200), viewer
    assert answers == {**CHILD_PROFILE, "spoc": 200}
    # the SPOC sees the check on the child's timeline, and the child's page is marked
    page = soup(signed_in(app, spoc).get(child))
    assert [a["data-entry-id"] for a in page.select("[data-testid=timeline] [data-entry-id]")] == [str(check.id)]
    assert page.select_one("[data-testid=marking]").get_text(strip=True) == "OFFICIAL-SENSITIVE"


# --- possible duplicates ----------------------------------------------------------------------------------

def test_names_are_similar_by_ratio_or_surname_and_initial():
    def p(name, *aliases):
        return Person(full_name=name, aliases=list(aliases))

    assert similar_names(p("Dale Wrigley"), p("Dale Wrigly"))
    assert similar_names(p("D. Wrigley"), p("Dale Wrigley"))  # same surname, same first initial
    assert similar_names(p("Dazza"), p("Dale Wrigley", "Dazza"))  # an alias counts
    assert not similar_names(p("Dale Wrigley"), p("Kim Oduya"))
    assert not similar_names(p("Dale Wrigley"), p("Sam Wrigley"))  # a brother is not a duplicate
    assert not similar_names(p("D Wrigley"), p("Sam Wrigley"))  # though the ratio is 0.8
    assert similar_names(p("Jon Smyth"), p("John Smith"))


def test_supervisor_sees_possible_duplicates_among_records_they_can_see(app, world):
    officers, records, entries = world
    twin = factories.person("Dale Wrigly", date(1988, 7, 14))  # same date of birth, a typo in the name
    neighbour = factories.person("D Wrigley")  # no date of birth, but linked to the same park
    brother = factories.person("Sam Wrigley", date(1988, 7, 14))  # same date of birth, another name
    hidden = factories.person("Dale Wrigley", date(1988, 7, 14))  # known only from the welfare check
    e3 = entries["e3"]
    factories.link(e3, twin, W)
    factories.link(e3, neighbour, W)
    factories.link(e3, brother, W)
    factories.link(entries["w1"], hidden, A)
    db.session.commit()
    for viewer, expected in (("analyst", {twin.id, neighbour.id}), ("supervisor", {twin.id, neighbour.id, hidden.id})):
        page = soup(signed_in(app, officers[viewer]).get(profile_url(records["dale"])))
        shown = {int(li["data-duplicate"]): li.get_text(" ", strip=True) for li in page.select("[data-duplicate]")}
        assert set(shown) == expected, viewer
        assert "Same date of birth" in shown[twin.id]
        assert "Same address" in shown[neighbour.id]  # dale was at the park in e2, the neighbour in e3
    # dale and the neighbour share Seymour Park (e2 and e3), and the names are close
    page = soup(signed_in(app, officers["analyst"]).get(profile_url(neighbour)))
    shown = {int(li["data-duplicate"]): li.get_text(" ", strip=True) for li in page.select("[data-duplicate]")}
    assert set(shown) == {records["dale"].id, twin.id}
    assert "Same address" in shown[records["dale"].id]
    # a PCSO is offered neither the list nor the merge
    page = soup(signed_in(app, officers["colleague"]).get(profile_url(records["dale"])))
    assert page.select_one("[data-testid=duplicates]") is None


# --- merging ----------------------------------------------------------------------------------------------

def link_counts() -> tuple[int, dict]:
    total = db.session.scalar(sa.select(sa.func.count(Link.id)))
    per_person = dict(db.session.execute(sa.select(Link.person_id, sa.func.count(Link.id))
                                         .where(Link.person_id.is_not(None)).group_by(Link.person_id)).all())
    return total, per_person


def test_supervisor_merges_a_duplicate_person_and_nothing_is_lost(app, world):
    officers, records, entries = world
    dale = records["dale"]
    dupe = factories.person("Dale Wrigly", date(1988, 7, 14), description="Scar on left cheek",
                            warning_markers=[WarningMarker.DRUGS.value, WarningMarker.VIOLENT.value],
                            aliases=["Wriggles"])
    factories.link(entries["e3"], dupe, W)
    factories.link(entries["w1"], dupe, A)  # in an entry... the supervisor can see
    db.session.commit()
    dale_id, dupe_id = dale.id, dupe.id
    total_before, per_person = link_counts()
    browser = signed_in(app, officers["supervisor"])

    review = browser.post(f"/people/{dale_id}/merge", data={"other_id": dupe_id, "action": "review"})
    assert review.status_code == 200
    page = soup(review)
    assert "Dale Wrigley" in page.select_one("[data-testid=keep]").get_text()
    assert "Scar on left cheek" in page.select_one("[data-testid=merge-away]").get_text()
    assert link_counts() == (total_before, per_person)  # reviewing changes nothing

    response = browser.post(f"/people/{dale_id}/merge",
                            data={"other_id": dupe_id, "action": "merge", "reason": "Same DOB, same park"})
    assert response.location == f"/people/{dale_id}"
    db.session.expire_all()
    total_after, after = link_counts()
    assert total_after == total_before
    assert after[dale_id] == per_person[dale_id] + per_person[dupe_id]
    assert dupe_id not in after
    kept, loser = db.session.get(Person, dale_id), db.session.get(Person, dupe_id)
    assert loser is not None and loser.merged_into_id == dale_id and loser.merged_at is not None
    assert (loser.full_name, loser.description) == ("Dale Wrigly", "Scar on left cheek")  # the loser is untouched
    assert kept.full_name == "Dale Wrigley"
    assert kept.aliases == ["Dazza", "Dale Wrigly", "Wriggles"]
    assert kept.description == "Tall, shaved head"  # filled only where blank
    assert kept.warning_markers == ["violent", "drugs"]

    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.COMBINE,
                                                           AuditEvent.object_type == "person")).one()
    assert (event.object_id, event.actor_id) == (dale_id, officers["supervisor"].id)
    assert event.details["merged"] == dupe_id and event.details["into"] == dale_id
    assert event.details["reason"] == "Same DOB, same park"
    assert event.details["links_moved"] == per_person[dupe_id]

    page = soup(browser.get(f"/people/{dale_id}"))
    merged_from = page.select_one("[data-testid=merged-from]").get_text(" ", strip=True)
    assert "Dale Wrigly" in merged_from and officers["supervisor"].display_name in merged_from
    # the old record's address now opens the survivor
    response = browser.get(f"/people/{dupe_id}")
    assert response.location == f"/people/{dale_id}"
    assert soup(browser.get(response.location)).select_one("h1").get_text(strip=True) == "Dale Wrigley"


def test_merge_without_a_reason_changes_nothing(app, world):
    officers, records, entries = world
    dupe = factories.person("Dale Wrigly", date(1988, 7, 14))
    factories.link(entries["e3"], dupe, W)
    db.session.commit()
    before = link_counts()
    # dale is linked to a welfare check (w1): a supervisor merges him, not an analyst
    response = signed_in(app, officers["supervisor"]).post(
        f"/people/{records['dale'].id}/merge", data={"other_id": dupe.id, "action": "merge", "reason": "  "})
    assert response.status_code == 400
    assert soup(response).select_one("[data-testid=error-summary]") is not None
    db.session.expire_all()
    assert link_counts() == before
    assert db.session.get(Person, dupe.id).merged_into_id is None


@pytest.mark.parametrize("role", [Role.PCSO, Role.ADMIN])
def test_only_supervisors_analysts_and_safeguarding_leads_can_merge(app, world, role):
    officers, records, entries = world
    dupe = factories.person("Dale Wrigly", date(1988, 7, 14))
    factories.link(entries["e3"], dupe, W)
    merger = officers["colleague"] if role == Role.PCSO else factories.user(role)
    db.session.commit()
    response = signed_in(app, merger).post(f"/people/{records['dale'].id}/merge",
                                           data={"other_id": dupe.id, "action": "merge", "reason": "Same"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Person, dupe.id).merged_into_id is None


def test_analyst_cannot_merge_a_record_they_cannot_see(app, world):
    officers, records, _ = world
    browser = signed_in(app, officers["analyst"])
    dale, child = records["dale"].id, records["child"].id
    for url, other in ((f"/people/{dale}/merge", child), (f"/people/{child}/merge", dale)):
        response = browser.post(url, data={"other_id": other, "action": "merge", "reason": "Same person"})
        assert response.status_code == 404, url
        assert "Casey Childname" not in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Person, child).merged_into_id is None
    assert db.session.get(Person, dale).merged_into_id is None
    assert not db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action.in_([AuditAction.UPDATE, AuditAction.COMBINE]))).all()


def test_a_record_cannot_be_merged_into_itself(app, world):
    officers, records, _ = world
    dale = records["dale"].id
    browser = signed_in(app, officers["supervisor"])
    for action in ("review", "merge"):
        response = browser.post(f"/people/{dale}/merge", data={"other_id": dale, "action": action, "reason": "x"})
        assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Person, dale).merged_into_id is None


def test_a_merged_record_cannot_be_merged_again_into_its_survivor(app, world):
    officers, records, entries = world
    dupe = factories.person("Dale Wrigly", date(1988, 7, 14))
    factories.link(entries["e3"], dupe, W)
    db.session.commit()
    dale, dupe_id = records["dale"].id, dupe.id
    browser = signed_in(app, officers["supervisor"])
    data = {"other_id": dupe_id, "action": "merge", "reason": "Same person"}
    assert browser.post(f"/people/{dale}/merge", data=data).location == f"/people/{dale}"
    # the old id now means the survivor: merging it into the survivor is merging a record into itself
    assert browser.post(f"/people/{dale}/merge", data=data).status_code == 400
    assert len(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.COMBINE)).all()) == 1


def test_merged_record_is_404_when_its_survivor_is_hidden(app, world):
    officers, records, entries = world
    author = officers["author"]
    second = factories.welfare(author, beat_code=OLD_TRAFFORD, child_name="Casey Childnam")  # the SPOC's next visit
    dupe = second.child
    db.session.commit()
    child, dupe_id = records["child"].id, dupe.id
    response = signed_in(app, officers["supervisor"]).post(
        f"/people/{child}/merge", data={"other_id": dupe_id, "action": "merge", "reason": "Same child"})
    assert response.location == f"/people/{child}"
    colleague = signed_in(app, officers["colleague"])
    for url in (f"/people/{dupe_id}", f"/people/{child}"):
        response = colleague.get(url)
        assert response.status_code == 404, url  # not a redirect: that would tell them where it went
        assert "Casey" not in response.get_data(as_text=True)
    assert signed_in(app, officers["supervisor"]).get(f"/people/{dupe_id}").location == f"/people/{child}"


def test_a_welfare_childs_record_is_not_merged_into_one_the_analyst_sees(app, world):
    """Once merged, the child's record would show e4 to the analyst, with the child's name and date of birth
    (issue 10): the merge is refused instead, and the analyst still sees only the name on e4."""
    officers, records, entries = world
    dupe = factories.person("Casey Childnam")
    factories.link(entries["e4"], dupe, W)  # a name on an OFFICIAL-SENSITIVE incident: analysts see it
    db.session.commit()
    child, dupe_id = records["child"].id, dupe.id
    response = signed_in(app, officers["supervisor"]).post(
        f"/people/{child}/merge", data={"other_id": dupe_id, "action": "merge", "reason": "Same child"})
    assert response.status_code == 409
    analyst = signed_in(app, officers["analyst"])
    page = analyst.get(f"/people/{dupe_id}")
    assert page.status_code == 200 and "Casey Childname" not in page.get_data(as_text=True)
    assert analyst.get(f"/people/{child}").status_code == 404


def test_merging_two_vehicles_keeps_the_survivors_registration(app, world):
    officers, records, entries = world
    car = records["car"]
    typo = factories.vehicle("MX65 TKS", make="Ford", model=None, colour="Silver")
    factories.link(entries["e3"], typo, M)
    db.session.commit()
    car_id, typo_id = car.id, typo.id
    total_before = db.session.scalar(sa.select(sa.func.count(Link.id)))
    before = {vid: db.session.scalar(sa.select(sa.func.count(Link.id)).where(Link.vehicle_id == vid))
              for vid in (car_id, typo_id)}
    browser = signed_in(app, officers["analyst"])
    page = soup(browser.get(f"/vehicles/{car_id}"))
    assert {int(li["data-duplicate"]) for li in page.select("[data-duplicate]")} == {typo_id}
    response = browser.post(f"/vehicles/{car_id}/merge",
                            data={"other_id": typo_id, "action": "merge", "reason": "VRM mistyped at the scene"})
    assert response.location == f"/vehicles/{car_id}"
    db.session.expire_all()
    kept, loser = db.session.get(Vehicle, car_id), db.session.get(Vehicle, typo_id)
    assert (kept.vrm, kept.colour) == ("MX65TKZ", "Grey")
    assert (loser.vrm, loser.merged_into_id) == ("MX65TKS", car_id)
    assert db.session.scalar(sa.select(sa.func.count(Link.id))) == total_before
    assert db.session.scalar(sa.select(sa.func.count(Link.id)).where(Link.vehicle_id == car_id)) == sum(before.values())
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.object_type == "vehicle",
                                                           AuditEvent.action == AuditAction.COMBINE)).one()
    assert event.details["merged_vrm"] == "MX65TKS" and event.details["vrm"] == "MX65TKZ"
    assert browser.get(f"/vehicles/{typo_id}").location == f"/vehicles/{car_id}"


# --- efficiency ---------------------------------------------------------------------------------------------

def count_queries(app, fn) -> int:
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len([s for s in statements if s.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE"))])


def test_a_profile_takes_the_same_number_of_queries_however_many_links(app):
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    supervisor = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD])
    few, many = factories.person("Few Links"), factories.person("Many Links")
    for record, n in ((few, 2), (many, 25)):
        for i in range(n):
            entry = factories.asb(author, OLD_TRAFFORD if i % 2 else ALTRINCHAM)
            factories.link(entry, record, S)
            factories.link(entry, factories.person(f"Mate {record.id} {i}"), W)
            factories.link(entry, factories.vehicle(f"AB{record.id:02d}C{i:02d}"), M)
    db.session.commit()
    browser = signed_in(app, supervisor)
    counts = [count_queries(app, lambda r=r: browser.get(f"/people/{r.id}")) for r in (few, many)]
    assert counts[0] == counts[1], counts


def test_entries_moved_by_a_merge_are_found_by_the_survivors_name(app):
    from pcso.pole.services import merge_people
    from pcso.search.index import reindex_entries
    from pcso.search.query import SearchQuery
    from pcso.search.services import search

    author = factories.user(Role.PCSO)
    supervisor = factories.user(Role.SUPERVISOR)
    typo = Person(full_name="Jon Smyth", name_key=name_key("Jon Smyth"))
    right = Person(full_name="Johnathan Smithers", name_key=name_key("Johnathan Smithers"))
    moved = factories.asb(author, links=[Link(person=typo, role=LinkRole.SUSPECT)])
    kept = factories.asb(author, links=[Link(person=right, role=LinkRole.SUSPECT)])
    reindex_entries([moved.id, kept.id])
    assert {r.entry.id for r in search(supervisor, SearchQuery(text="Smithers")).results} == {kept.id}

    merge_people(right, typo, actor=supervisor, reason="Same date of birth and address on both")
    assert {r.entry.id for r in search(supervisor, SearchQuery(text="Smithers")).results} == {moved.id, kept.id}
