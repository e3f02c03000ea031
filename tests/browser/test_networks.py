"""The associates network on a phone (390x844): the graph and the list, tapping a connection through to an entry,
and a welfare check's child never drawn for a PCSO who may not open the check."""
from __future__ import annotations

import itertools
import re
from datetime import timedelta

from playwright.sync_api import expect

from pcso.extensions import db
from pcso.models import LinkRole, User
from pcso.timeutil import utcnow
from tests import factories
from tests.browser.conftest import OLD_TRAFFORD, check_page, login

_plates = itertools.count(40)


def seed_network(author_id: int) -> dict:
    author = db.session.get(User, author_id)
    dale, sam = factories.person("Declan Network"), factories.person("Sasha Linked")
    car = factories.vehicle(f"NW{next(_plates):02d} KTZ", make="Vauxhall", colour="Red")
    fight = factories.asb(author, OLD_TRAFFORD, summary="Fight outside the chippy", occurred_at=utcnow() - timedelta(days=4))
    factories.link(fight, dale, LinkRole.SUSPECT)
    factories.link(fight, sam, LinkRole.VICTIM, position=1)
    revving = factories.asb(author, OLD_TRAFFORD, summary="Car revving on the estate", occurred_at=utcnow() - timedelta(days=1))
    factories.link(revving, sam, LinkRole.WITNESS)
    factories.link(revving, car, LinkRole.MENTIONED, position=1)
    check = factories.welfare(author, beat_code=OLD_TRAFFORD, child_name="Robin Unseenchild")
    factories.link(check, sam, LinkRole.ASSOCIATE)
    return {"dale": dale.id, "sam": sam.id, "car": car.id, "fight": fight.id, "child": check.child.id}


def test_a_pcso_sees_the_network_as_a_graph_and_a_list_and_taps_through_to_an_entry(page, make_user, in_db):
    author = make_user(name="Nat Author")
    ids = in_db(lambda: seed_network(author.id))
    colleague = make_user(name="Lee Colleague")  # on the beat, but may not open the welfare check
    login(page, colleague)
    page.goto(f"/people/{ids['dale']}")

    graph = page.get_by_test_id("network-graph")
    expect(graph).to_have_attribute("data-drawn", "true")
    expect(graph).to_be_visible()
    listed = page.get_by_test_id("network-list")
    expect(listed.locator("li[data-edge]")).to_have_count(2)  # Declan-Sasha, Sasha-car; never the child
    expect(listed).to_contain_text("Declan Network: suspect; Sasha Linked: victim")
    expect(page.get_by_test_id("network")).not_to_contain_text("Robin Unseenchild")
    nodes = page.evaluate("window.beatbookNetwork.nodes().map(n => n.id())")
    assert sorted(nodes) == sorted([f"person-{ids['dale']}", f"person-{ids['sam']}", f"vehicle-{ids['car']}"])
    page.get_by_test_id("network").scroll_into_view_if_needed()
    graph.scroll_into_view_if_needed()
    check_page(page, "network-graph-phone")

    edge_id = f"person-{ids['dale']}~person-{ids['sam']}"
    point = page.evaluate("""(id) => {
        const cy = window.beatbookNetwork, mid = cy.getElementById(id).renderedMidpoint();
        const box = cy.container().getBoundingClientRect();
        return {x: box.left + mid.x, y: box.top + mid.y};
    }""", edge_id)
    page.touchscreen.tap(point["x"], point["y"])
    panel = page.get_by_test_id("network-panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Declan Network and Sasha Linked")
    entry_link = panel.locator(f"a[data-entry-id='{ids['fight']}']")
    expect(entry_link).to_contain_text("ASB incident")
    panel.scroll_into_view_if_needed()
    check_page(page, "network-edge-tapped-phone")
    entry_link.tap()
    expect(page).to_have_url(re.compile(rf"/entries/{ids['fight']}$"))
    expect(page.locator("body")).to_contain_text("Fight outside the chippy")


def test_the_list_alone_opens_the_entries_and_filters_keep_the_graph_in_step(page, make_user, in_db):
    author = make_user(name="Ray Author")
    ids = in_db(lambda: seed_network(author.id))
    login(page, author)
    page.goto(f"/people/{ids['sam']}")
    page.select_option("#network-role", "suspect")
    page.get_by_role("button", name="Show network").click()
    expect(page).to_have_url(re.compile(r"role=suspect"))
    listed = page.get_by_test_id("network-list")
    expect(listed.locator("li[data-edge]")).to_have_count(1)  # Sasha-Declan: the car was mentioned, the child a subject
    expect(listed).to_contain_text("Declan Network: suspect")
    expect(page.get_by_test_id("network-graph")).to_have_attribute("data-drawn", "true")
    assert page.evaluate("window.beatbookNetwork.edges().length") == 1
    check_page(page, "network-filtered-phone")
    listed.get_by_role("link", name=re.compile("ASB incident")).first.tap()
    expect(page).to_have_url(re.compile(r"/entries/\d+$"))
