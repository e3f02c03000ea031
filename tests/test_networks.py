"""Networks (issue 12, part 3): a POLE record's associates to two steps, only through entries the viewer may
open, on the profile (as a list, and a graph drawn from /networks/<kind>/<id>.json), filtered by time and role,
bounded, and audited as a consultation of everything shown."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, LinkRole, Role
from pcso.pole import network as network_module
from pcso.pole.network import NetworkFilter, NetworkFilterError, build_network
from pcso.timeutil import utcnow
from tests import factories
from tests.factories import signed_in, soup

BEAT = "E05015247"
OTHER_BEAT = "E05015239"


def keys(network) -> dict[tuple[str, int], int]:
    return {node.key: node.step for node in network.nodes}


@pytest.fixture
def world(app):
    """Dale (suspect) with Sam (victim) in one ASB; Sam (witness) with a car and a park in another; the car
    with Kim in a third (three steps from Dale); Dale with Mark; a welfare check on a child with Mark as an
    associate, by another PCSO (its SPOC)."""
    pcso = factories.user(Role.PCSO, beats=[BEAT])
    other_pcso = factories.user(Role.PCSO, beats=[BEAT])
    supervisor = factories.user(Role.SUPERVISOR, beats=[BEAT])
    dale, sam, kim, mark = (factories.person(name) for name in ("Dale Wrigley", "Sam Bee", "Kim Oak", "Mark Older"))
    car, park = factories.vehicle("MX65TKZ", make="Ford"), factories.location("Longford Park", beat_code=BEAT)
    now = utcnow()
    first = factories.asb(pcso, occurred_at=now - timedelta(days=40), summary="Fight at the precinct")
    factories.link(first, dale, LinkRole.SUSPECT)
    factories.link(first, sam, LinkRole.VICTIM)
    second = factories.asb(pcso, occurred_at=now - timedelta(days=3), summary="Car revving in the park")
    factories.link(second, sam, LinkRole.WITNESS)
    factories.link(second, car, LinkRole.MENTIONED)
    factories.link(second, park, LinkRole.MENTIONED)
    third = factories.asb(pcso, occurred_at=now - timedelta(days=2))
    factories.link(third, car, LinkRole.MENTIONED)
    factories.link(third, kim, LinkRole.SUSPECT)
    with_mark = factories.asb(pcso, occurred_at=now - timedelta(days=1))
    factories.link(with_mark, dale, LinkRole.SUSPECT)
    factories.link(with_mark, mark, LinkRole.SUSPECT)
    welfare = factories.welfare(other_pcso, occurred_at=now - timedelta(days=5))  # spoc: other_pcso
    child = welfare.child
    factories.link(welfare, mark, LinkRole.ASSOCIATE)
    db.session.commit()
    return dict(pcso=pcso, other_pcso=other_pcso, supervisor=supervisor, dale=dale, sam=sam, kim=kim, mark=mark,
                car=car, park=park, child=child, welfare=welfare, first=first, second=second, third=third,
                with_mark=with_mark)


# --- the service -------------------------------------------------------------------------------------

def test_the_network_goes_two_steps_and_no_further(app, world):
    w = world
    network = build_network(w["supervisor"], w["dale"])
    found = keys(network)
    assert found[("person", w["dale"].id)] == 0
    assert found[("person", w["sam"].id)] == 1 and found[("person", w["mark"].id)] == 1
    assert found[("vehicle", w["car"].id)] == 2 and found[("location", w["park"].id)] == 2
    assert ("person", w["kim"].id) not in found  # three steps: Dale - Sam - car - Kim
    edge = next(e for e in network.edges if {e.source, e.target} == {("person", w["dale"].id), ("person", w["sam"].id)})
    (item,) = edge.entries
    assert item.id == w["first"].id and item.kind.value == "asb_incident"
    assert item.roles == {("person", w["dale"].id): [LinkRole.SUSPECT], ("person", w["sam"].id): [LinkRole.VICTIM]}
    assert not network.limits


def test_a_supervisor_sees_the_welfare_childs_link_two_steps_away(app, world):
    found = keys(build_network(world["supervisor"], world["dale"]))
    assert found[("person", world["child"].id)] == 2  # Dale - Mark (ASB) - child (welfare check)


def test_a_pcso_who_may_not_open_the_check_sees_none_of_the_childs_links(app, world):
    w = world
    pcso = w["pcso"]  # on the beat, but neither the check's author nor its SPOC
    assert ("person", w["child"].id) not in keys(build_network(pcso, w["dale"]))
    mark_network = build_network(pcso, w["mark"])
    assert ("person", w["child"].id) not in keys(mark_network)
    assert w["welfare"].id not in mark_network.entry_ids()
    # ... and the check's SPOC does see them
    assert ("person", w["child"].id) in keys(build_network(w["other_pcso"], w["mark"]))


def test_a_pcso_off_the_beat_sees_no_network(app, world):
    elsewhere = factories.user(Role.PCSO, beats=[OTHER_BEAT])
    network = build_network(elsewhere, world["dale"])
    assert [node.key for node in network.nodes] == [("person", world["dale"].id)] and network.edges == []


def test_dates_filter_the_entries_followed(app, world):
    w = world
    recent = NetworkFilter.from_args({"from": (utcnow() - timedelta(days=10)).date().isoformat()})
    found = keys(build_network(w["supervisor"], w["dale"], recent))
    assert ("person", w["sam"].id) not in found  # their only entry together is 40 days old
    assert ("person", w["mark"].id) in found
    old = NetworkFilter.from_args({"to": (utcnow() - timedelta(days=30)).date().isoformat()})
    found = keys(build_network(w["supervisor"], w["dale"], old))
    assert set(found) == {("person", w["dale"].id), ("person", w["sam"].id)}  # the park visit is 3 days old


def test_the_role_filter_keeps_only_links_in_that_role(app, world):
    w = world
    suspects = build_network(w["supervisor"], w["dale"], NetworkFilter(role=LinkRole.SUSPECT))
    found = keys(suspects)
    assert ("person", w["mark"].id) in found and ("person", w["sam"].id) not in found  # Sam was the victim
    assert ("person", w["child"].id) not in found  # the child was the check's subject, not a suspect
    victims = keys(build_network(w["supervisor"], w["dale"], NetworkFilter(role=LinkRole.VICTIM)))
    assert set(victims) == {("person", w["dale"].id), ("person", w["sam"].id)}


@pytest.mark.parametrize("args, message", [
    ({"from": "yesterday"}, "From must be a date"), ({"to": "2026-13-01"}, "To must be a date"),
    ({"from": "2026-03-02", "to": "2026-03-01"}, "From must be on or before To"), ({"role": "boss"}, "Role must be"),
])
def test_a_bad_filter_is_refused_with_the_reason(args, message):
    with pytest.raises(NetworkFilterError, match=message):
        NetworkFilter.from_args(args)


def test_the_network_is_bounded_and_says_what_was_cut(app, world, monkeypatch):
    w = world
    hub = factories.asb(w["pcso"])
    crowd = [factories.person(f"Crowd Person {i}") for i in range(8)]
    for person in [w["dale"], *crowd]:
        factories.link(hub, person, LinkRole.WITNESS)
    db.session.commit()
    monkeypatch.setattr(network_module, "FIRST_STEP", 3)
    monkeypatch.setattr(network_module, "NODES", 6)
    monkeypatch.setattr(network_module, "EDGES", 3)
    network = build_network(w["supervisor"], w["dale"])
    assert len([n for n in network.nodes if n.step == 1]) <= 3
    assert len(network.nodes) <= 6 and len(network.edges) == 3
    assert any("records most often with this one (of 10)" in limit for limit in network.limits)
    assert any("strongest of" in limit for limit in network.limits)
    monkeypatch.setattr(network_module, "FIRST_STEP", 25)
    monkeypatch.setattr(network_module, "ROOT_ENTRIES", 2)  # the crowd's entry and Mark's (he has two)
    monkeypatch.setattr(network_module, "PER_RECORD", 1)
    limits = build_network(w["supervisor"], w["dale"]).limits
    assert any("most recent entries of this record" in limit for limit in limits)
    assert any("of each linked record" in limit for limit in limits)


def test_an_edge_lists_at_most_its_newest_entries_and_counts_them_all(app, world, monkeypatch):
    w = world
    for days in range(4):
        entry = factories.asb(w["pcso"], occurred_at=utcnow() - timedelta(hours=days))
        factories.link(entry, w["dale"], LinkRole.SUSPECT)
        factories.link(entry, w["mark"], LinkRole.SUSPECT)
    db.session.commit()
    monkeypatch.setattr(network_module, "EDGE_ENTRIES", 2)
    network = build_network(w["supervisor"], w["dale"])
    edge = next(e for e in network.edges if {e.source, e.target} == {("person", w["dale"].id), ("person", w["mark"].id)})
    assert edge.count == 5 and len(edge.entries) == 2
    assert edge.entries[0].occurred_at >= edge.entries[1].occurred_at


# --- the JSON endpoint -------------------------------------------------------------------------------

def _last_view() -> AuditEvent:
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.VIEW)
                              .order_by(AuditEvent.id.desc())).first()


def test_the_json_names_nodes_edges_and_entries_and_is_audited(app, world):
    w = world
    browser = signed_in(app, w["supervisor"])
    response = browser.get(f"/networks/people/{w['dale'].id}.json")
    assert response.status_code == 200
    graph = response.get_json()
    assert graph["root"] == f"person-{w['dale'].id}" and not graph["capped"]
    nodes = {node["id"]: node for node in graph["nodes"]}
    assert nodes[f"vehicle-{w['car'].id}"]["step"] == 2 and nodes[f"vehicle-{w['car'].id}"]["url"] == f"/vehicles/{w['car'].id}"
    edge = next(e for e in graph["edges"] if {e["source"], e["target"]} == {f"person-{w['dale'].id}", f"person-{w['sam'].id}"})
    assert edge["entries"][0]["url"] == f"/entries/{w['first'].id}"
    assert edge["entries"][0]["roles"][f"person-{w['sam'].id}"] == ["victim"]
    event = _last_view()
    assert event.details["context"] == "network.person" and event.actor_id == w["supervisor"].id
    assert (event.object_type, event.object_id) == ("person", w["dale"].id)
    named = event.details["records"]
    assert set(named["person"]["ids"]) == {int(n.split("-")[1]) for n in nodes if n.startswith("person-")}
    assert {w["car"].id} == set(named["vehicle"]["ids"]) and {w["park"].id} == set(named["location"]["ids"])
    shown_entries = {item["id"] for e in graph["edges"] for item in e["entries"]}
    assert set(named["entry"]["ids"]) == shown_entries and w["welfare"].id in shown_entries
    assert event.details["joined"] is True and event.details["network_edges"] == len(graph["edges"])


def test_the_json_filters_by_role_and_refuses_a_bad_filter(app, world):
    w = world
    browser = signed_in(app, w["supervisor"])
    graph = browser.get(f"/networks/people/{w['dale'].id}.json?role=suspect").get_json()
    assert f"person-{w['sam'].id}" not in {node["id"] for node in graph["nodes"]} and graph["filters"] == {"role": "suspect"}
    response = browser.get(f"/networks/people/{w['dale'].id}.json?from=soon")
    assert response.status_code == 400 and "From must be a date" in response.get_json()["detail"]


def test_a_record_the_viewer_may_not_see_is_a_404(app, world):
    w = world
    browser = signed_in(app, w["pcso"])
    assert browser.get(f"/networks/people/{w['child'].id}.json").status_code == 404
    assert browser.get("/networks/people/999999.json").status_code == 404
    assert signed_in(app, w["other_pcso"]).get(f"/networks/people/{w['child'].id}.json").status_code == 200


def test_the_pcso_json_for_marks_network_never_mentions_the_child(app, world):
    w = world
    body = signed_in(app, w["pcso"]).get(f"/networks/people/{w['mark'].id}.json").get_data(as_text=True)
    assert w["child"].full_name not in body and f"person-{w['child'].id}" not in body
    assert f"/entries/{w['welfare'].id}\"" not in body


def test_an_intelligence_reports_source_is_never_in_the_network(app, world):
    w = world
    report = factories.intel(w["pcso"])
    factories.link(report, w["dale"], LinkRole.SUBJECT)
    factories.link(report, w["car"], LinkRole.MENTIONED)
    db.session.commit()
    body = signed_in(app, w["supervisor"]).get(f"/networks/people/{w['dale'].id}.json").get_data(as_text=True)
    assert f"/entries/{report.id}" in body  # the report is behind an edge ...
    assert "Shop worker" not in body and "source" not in json.loads(body)["edges"][0]["entries"][0]  # ... its source isn't


def test_the_json_is_not_answered_to_another_sites_request(app, world):
    browser = signed_in(app, world["supervisor"])
    before = _last_view().id if _last_view() else 0
    response = browser.get(f"/networks/people/{world['dale'].id}.json", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200 and b"nodes" not in response.data  # the confirm page, nothing run
    assert (_last_view().id if _last_view() else 0) == before


def test_a_signed_out_request_is_a_json_401(app, world):
    response = app.test_client().get(f"/networks/people/{world['dale'].id}.json")
    assert response.status_code == 401 and "Sign in" in response.get_json()["error"]


# --- the profile ------------------------------------------------------------------------------------

def test_the_profile_lists_the_network_with_links_to_the_entries(app, world):
    w = world
    page = soup(signed_in(app, w["supervisor"]).get(f"/people/{w['dale'].id}"))
    listed = page.select_one("[data-testid=network-list]")
    pairs = {item["data-edge"] for item in listed.select("li[data-edge]")}
    assert f"person-{w['dale'].id}~person-{w['sam'].id}" in pairs
    assert listed.select_one(f"a[href='/entries/{w['first'].id}']") is not None
    assert "Dale Wrigley: suspect; Sam Bee: victim" in listed.get_text(" ")
    graph = page.select_one("[data-testid=network-graph]")
    assert graph["data-network-src"] == f"/networks/people/{w['dale'].id}.json"
    assert page.select_one("script[src*='cytoscape']") is not None and page.select_one("script[src*='network']")


def test_the_profile_keeps_the_filters_and_names_the_networks_records(app, world):
    w = world
    browser = signed_in(app, w["pcso"])
    page = soup(browser.get(f"/people/{w['mark'].id}?role=suspect"))
    assert page.select_one("#network-role option[selected]")["value"] == "suspect"
    assert page.select_one("[data-testid=network-graph]")["data-network-src"].endswith("?role=suspect")
    assert w["child"].full_name not in page.get_text()
    event = _last_view()
    assert event.details["context"] == "pole.person" and event.details["network"] is True
    assert w["dale"].id in event.details["records"]["person"]["ids"]
    assert browser.get(f"/people/{w['mark'].id}?to=never").status_code == 400


def test_a_capped_network_says_so_on_the_page(app, world, monkeypatch):
    monkeypatch.setattr(network_module, "FIRST_STEP", 1)
    page = soup(signed_in(app, world["supervisor"]).get(f"/people/{world['dale'].id}"))
    assert "records most often with this one" in page.select_one("[data-testid=network-capped]").get_text()


def test_a_record_with_no_links_says_so(app, world):
    w = world
    alone = factories.person("Lone Person")
    factories.link(factories.asb(w["pcso"]), alone, LinkRole.REPORTER)
    db.session.commit()
    page = soup(signed_in(app, w["pcso"]).get(f"/people/{alone.id}"))
    assert page.select_one("[data-testid=network-empty]") is not None
    assert page.select_one("[data-testid=network-graph]") is None


def test_an_organisation_profile_draws_its_network_through_visible_entries_only(app):
    """The organisation profile (pcso/pole/views_places.py) carries the same network as the others."""
    from pcso.models import LinkRole, Organisation, OrganisationType, Role

    author = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    stranger = factories.user(Role.PCSO, beats=["E05015239"])  # Altrincham: may not open the entry
    incident = factories.asb(author, factories.OLD_TRAFFORD)
    shop = Organisation(name="Precinct Off Licence", org_type=OrganisationType.SHOP, is_listed=True)
    db.session.add(shop)
    db.session.flush()
    factories.link(incident, shop, LinkRole.VENUE)
    dale = factories.link(incident, factories.person("Dale Wrigley"), LinkRole.SUSPECT).person
    db.session.commit()
    mine = signed_in(app, author).get(f"/networks/organisations/{shop.id}.json", headers={"Sec-Fetch-Site": "same-origin"})
    assert mine.status_code == 200
    assert f"person-{dale.id}" in {node["id"] for node in mine.json["nodes"]}
    page = signed_in(app, author).get(f"/organisations/{shop.id}")
    assert page.status_code == 200 and "Dale Wrigley" in soup(page).select_one("[data-testid=network-list]").text
    theirs = signed_in(app, stranger).get(f"/networks/organisations/{shop.id}.json", headers={"Sec-Fetch-Site": "same-origin"})
    assert theirs.status_code == 200 and "Dale Wrigley" not in theirs.get_data(as_text=True)
