"""Locations and organisations: made on their pages, found again from entry forms, suggested as typed, and never
shown through an entry the viewer may not open (a welfare check's places)."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from pcso.access import can_view_record
from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, Link, LinkRole, Location, Organisation, OrganisationType, Role
from pcso.pole.locations import (
    LocationData, LocationRejected, OrganisationData, create_location, create_organisation, location_for, org_key,
    parse_address, suggest_locations, suggest_organisations,
)
from tests import factories
from tests.api.helpers import bearer, key, problem, token
from tests.api.test_api_entries import ASB
from tests.factories import signed_in, soup
from tests.test_welfare_child import welfare_form

BEAT = "E05015247"
POSTCODE = "M15 4AD"  # in the offline book, in Old Trafford (the factories' POINT)


def _postcode_in_beat(app) -> str:
    from pcso.entries.location import lookup_postcode
    found = lookup_postcode(POSTCODE)
    assert found is not None, "the test postcode is in the offline book"
    return found.postcode


def test_parse_address_reads_number_street_postcode_and_named_places():
    data = parse_address("12a Acacia Avenue, Stretford m320dh")
    assert (data.house, data.street, data.town, data.postcode) == ("12A", "Acacia Avenue", "Stretford", "M32 0DH")
    park = parse_address("Victoria Park", "M32 0DH")
    assert (park.place_name, park.house, park.postcode) == ("Victoria Park", None, "M32 0DH")


def test_org_key_ignores_the_and_ltd_and_ampersands():
    assert org_key("The Red Lion Ltd") == org_key("red lion") == "red lion"
    assert org_key("Smith & Sons") == org_key("Smith and Sons")


def test_a_location_from_a_postcode_gets_its_point_and_beat_and_an_audit_event(app):
    officer = factories.user(Role.PCSO, beats=[BEAT])
    location = create_location(LocationData(house="12", street="Acacia Avenue", postcode=_postcode_in_beat(app)),
                               actor=officer)
    assert location.lat is not None and location.beat is not None  # placed on its beat from the point
    assert location.address == f"12 Acacia Avenue, {POSTCODE}" and location.is_listed and location.revision == 1
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.object_type == "location",
                                                          AuditEvent.object_id == location.id))
    assert event.action == AuditAction.CREATE and "postcode" in event.details["fields"]
    assert "Acacia" not in str(event.details)  # field names, never their values


def test_a_named_place_needs_a_point_and_a_bad_postcode_is_refused(app):
    officer = factories.user(Role.PCSO, beats=[BEAT])
    for data, field in ((LocationData(place_name="Longford Park"), "postcode"),
                        (LocationData(house="3", street="High St", postcode="ZZ99 9ZZ"), "postcode"),
                        (LocationData(), "street")):
        try:
            create_location(data, actor=officer)
        except LocationRejected as refused:
            assert field in refused.errors
        else:
            raise AssertionError(f"{data} was accepted")
    pinned = create_location(LocationData(place_name="Longford Park", lat=53.4649, lon=-2.2607), actor=officer)
    assert pinned.beat is not None and pinned.address == "Longford Park"


def test_location_for_finds_the_same_postcode_and_number_and_suggestions_say_why(app):
    officer = factories.user(Role.PCSO, beats=[BEAT])
    postcode = _postcode_in_beat(app)
    home = create_location(LocationData(house="12", street="Acacia Avenue", postcode=postcode), actor=officer)
    again = location_for(user=officer, location_id=None, address=f"12 Acacia Ave {postcode}")
    assert again.id == home.id
    other = location_for(user=officer, location_id=None, address="12A Acacia Avenue", postcode=postcode)
    assert other.id != home.id and other.number_key == "12A" and not other.is_listed
    found = {s.record.id: s.reason for s in suggest_locations(officer, f"12 {postcode}", limit=8)}
    assert found[home.id] == "Same postcode and number"
    assert found[other.id].startswith("Same postcode, number 12A")


def test_organisation_suggestions_match_normalised_names(app):
    officer = factories.user(Role.PCSO, beats=[BEAT])
    pub = create_organisation(OrganisationData(name="The Bridge Inn", org_type=OrganisationType.LICENSED_PREMISES),
                              actor=officer)
    assert pub.name_key == "bridge inn"
    (first, *_) = suggest_organisations(officer, "bridge inn", limit=8)
    assert first.record.id == pub.id and first.reason == "Same name"
    close = suggest_organisations(officer, "brige inn", limit=8)
    assert [s.reason for s in close if s.record.id == pub.id] == ["Similar name"]


def test_the_pages_make_edit_and_show_a_location_and_an_organisation(app):
    officer = factories.user(Role.PCSO, beats=[BEAT])
    db.session.commit()
    browser = signed_in(app, officer)
    postcode = _postcode_in_beat(app)
    response = browser.post("/locations/new", data={"house": "7", "street": "Moss Lane", "postcode": postcode})
    assert response.status_code == 302, response.get_data(as_text=True)
    location = db.session.scalar(sa.select(Location).where(Location.street == "Moss Lane"))
    assert response.location.endswith(f"/locations/{location.id}")
    response = browser.post(f"/locations/{location.id}/edit",
                            data={"house": "7", "street": "Moss Lane", "town": "Hulme", "postcode": postcode})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Location, location.id).revision == 2
    page = soup(browser.get(f"/locations/{location.id}"))
    assert "Hulme" in page.select_one("[data-testid=record-details]").text
    bad = browser.post("/locations/new", data={"house": "7", "street": "Moss Lane", "postcode": "NOT A CODE"})
    assert bad.status_code == 400 and "Enter a real postcode" in bad.get_data(as_text=True)

    response = browser.post("/organisations/new", data={
        "name": "Hulme Housing", "org_type": "housing_provider", "address-house": "1",
        "address-street": "Moss Lane", "address-postcode": postcode})
    assert response.status_code == 302, response.get_data(as_text=True)
    organisation = db.session.scalar(sa.select(Organisation).where(Organisation.name == "Hulme Housing"))
    assert organisation.location is not None and organisation.location.beat is not None
    page = soup(browser.get(f"/organisations/{organisation.id}"))
    assert page.select_one("[data-testid=record-name]").text.strip() == "Hulme Housing"
    assert "Housing provider" in page.select_one("[data-testid=record-details]").text
    assert browser.get(f"/organisations/{organisation.id}/edit").status_code == 200
    assert browser.get("/organisations/999999").status_code == 404


def test_an_asb_incident_links_a_place_by_postcode_and_an_organisation_with_roles(app):
    officer = factories.user(Role.PCSO, beats=[BEAT])
    db.session.commit()
    browser = signed_in(app, officer)
    postcode = _postcode_in_beat(app)
    response = browser.post("/asb-incidents/new", data=factories.asb_form(**{
        "places-0-address": f"12 Acacia Avenue {postcode}", "places-0-role": "scene",
        "organisations-0-name": "Spar Moss Lane", "organisations-0-org_type": "shop",
        "organisations-0-role": "reporter"}))
    assert response.status_code == 302, response.get_data(as_text=True)
    link = db.session.scalar(sa.select(Link).where(Link.location_id.is_not(None)))
    assert link.role == LinkRole.SCENE and link.location.postcode == postcode and link.location.house == "12"
    shop = db.session.scalar(sa.select(Link).where(Link.organisation_id.is_not(None)))
    assert shop.role == LinkRole.REPORTER and shop.organisation.org_type == OrganisationType.SHOP
    page = soup(browser.get(response.location))
    assert "Spar Moss Lane" in page.select_one("[data-testid=places]").text
    # the same address typed again is the same record
    again = browser.post("/asb-incidents/new", data=factories.asb_form(**{
        "places-0-address": f"12 Acacia Avenue, {postcode}"}))
    assert again.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Location)) == 1
    refused = browser.post("/asb-incidents/new", data=factories.asb_form(**{
        "places-0-address": "12 Acacia Avenue", "places-0-postcode": "QQ1 1QQ"}))
    assert refused.status_code == 400 and "Place 1" in refused.get_data(as_text=True)


def test_suggest_endpoints_answer_json_and_only_with_what_the_user_may_see(app):
    author = factories.user(Role.PCSO, beats=[BEAT])
    stranger = factories.user(Role.PCSO, beats=["E05015253"])
    check = factories.welfare(author)
    hidden = Location(address="4 Secret Street, M15 4AD", house="4", street="Secret Street", postcode="M15 4AD",
                      number_key="4", is_listed=False, review_due=date.today())
    db.session.add(hidden)
    db.session.flush()
    factories.link(check, hidden, LinkRole.SEEN)
    db.session.commit()
    assert can_view_record(author, hidden) and not can_view_record(stranger, hidden)
    mine = signed_in(app, author).post("/locations/suggest", json={"q": "4 M15 4AD"}).get_json()
    assert [r["id"] for r in mine["results"]] == [hidden.id]
    assert mine["results"][0]["reason"] == "Same postcode and number"
    theirs = signed_in(app, stranger).post("/locations/suggest", json={"q": "4 M15 4AD"}).get_json()
    assert theirs["results"] == []
    assert signed_in(app, stranger).get(f"/locations/{hidden.id}").status_code == 404
    assert signed_in(app, stranger).get(f"/locations/{hidden.id}/edit").status_code == 404
    assert signed_in(app, author).post("/organisations/suggest", json={"q": "x"}).get_json() == {"results": []}


def test_a_welfare_checks_places_and_associates_are_hidden_from_a_pcso_who_cannot_open_it(app):
    author = factories.user(Role.PCSO, beats=[BEAT])
    colleague = factories.user(Role.PCSO, beats=[BEAT])  # same beat, not the SPOC: may not open the check
    supervisor = factories.user(Role.SUPERVISOR, beats=[BEAT])
    db.session.commit()
    browser = signed_in(app, author)
    postcode = _postcode_in_beat(app)
    form = welfare_form(author, **{
        "people-0-name": "Kai Older", "people-0-role": "associate",
        "vehicles-0-vrm": "MX65TKZ", "vehicles-0-role": "seen",
        "places-0-address": f"9 Chorlton Road {postcode}", "places-0-role": "seen"})
    response = browser.post("/welfare-checks/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    place = db.session.scalar(sa.select(Location).where(Location.street == "Chorlton Road"))
    associate = db.session.scalar(sa.select(Link).where(Link.role == LinkRole.ASSOCIATE)).person
    assert not can_view_record(colleague, place) and not can_view_record(colleague, associate)
    assert can_view_record(supervisor, place)
    other = signed_in(app, colleague)
    assert other.get(f"/locations/{place.id}").status_code == 404
    assert other.post("/locations/suggest", json={"q": f"9 {postcode}"}).get_json()["results"] == []
    # and a place the colleague may see (listed) never shows them the check through its timeline
    page = soup(signed_in(app, supervisor).get(response.location))
    assert "Kai Older" in page.select_one("[data-testid=seen-with]").text
    assert "Chorlton Road" in page.select_one("[data-testid=places]").text


def test_the_api_links_places_and_organisations_on_create_and_shows_them(app):
    officer = factories.user(Role.PCSO, beats=[BEAT])
    db.session.commit()
    secret, client = token(officer), app.test_client()
    body = {**ASB, "places": [{"address": f"12 Acacia Avenue {POSTCODE}", "role": "scene"}],
            "organisations": [{"name": "The Bridge Inn", "org_type": "licensed_premises", "role": "venue"}],
            "vehicles": [{"vrm": "MX65TKZ", "role": "seen"}]}
    response = client.post("/api/v1/asb-incidents", json=body, headers=bearer(secret, **{"Idempotency-Key": key()}))
    assert response.status_code == 201, response.get_json()
    shown = response.get_json()
    assert shown["places"][0]["address"] == f"12 Acacia Avenue, {POSTCODE}" and shown["places"][0]["role"] == "scene"
    assert shown["organisations"][0]["role"] == "venue" and shown["vehicles"][0]["role"] == "seen"
    bad = client.post("/api/v1/asb-incidents", json={**ASB, "places": [{"address": "1 High St", "role": "keeper"}]},
                      headers=bearer(secret, **{"Idempotency-Key": key()}))
    assert bad.status_code == 422 and "places" in problem(bad)["errors"]
    unknown = client.post("/api/v1/asb-incidents", json={**ASB, "places": [{"address": "1 High St", "postcode": "QQ1 1QQ"}]},
                          headers=bearer(secret, **{"Idempotency-Key": key()}))
    assert unknown.status_code == 422 and "places" in problem(unknown)["errors"]
