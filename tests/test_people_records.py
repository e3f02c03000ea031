"""Whole people and vehicles: details, aliases, warning markers, addresses, a vehicle's keeper.

Who may edit is who may see (a PCSO who can't see a person gets 404, a welfare child stays with those who may
open the check); every change bumps the revision and writes one audit event naming the fields, never values.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import (
    AddressRole, AuditAction, AuditEvent, LinkRole, Location, Person, PersonAddress, PersonWarningMarker, Role, Sex,
    Vehicle, name_key,
)
from pcso.models.markers import WarningMarkersError, load_markers, offered
from pcso.pole import records
from pcso.pole.locations import location_for
from pcso.pole.services import merge_people
from pcso.timeutil import london_today
from tests import factories
from tests.factories import signed_in, soup

BEAT = "E05015247"
pytestmark = pytest.mark.usefixtures("memoised_hashing")


@pytest.fixture
def world(app):
    author = factories.user(Role.PCSO, beats=[BEAT])
    colleague = factories.user(Role.PCSO, beats=[BEAT])  # same beat: sees the ASB entry, not the welfare check
    stranger = factories.user(Role.PCSO, beats=["E05015253"])  # another beat: sees neither
    asb = factories.asb(author)
    dale = factories.person("Dale Wrigley", date(1988, 7, 14))
    car = factories.vehicle("MX65TKZ", make="Ford", colour="Red")
    park = factories.location("Longford Park", "M32 0DH", beat_code=BEAT, place_name="Longford Park",
                             name_key=name_key("Longford Park"))
    for record in (dale, car, park):
        factories.link(asb, record, LinkRole.SUSPECT if record is dale else LinkRole.MENTIONED)
    welfare = factories.welfare(author)
    child = welfare.links[0].person
    db.session.commit()
    return dict(author=author, colleague=colleague, stranger=stranger, asb=asb, dale=dale, car=car, park=park,
                welfare=welfare, child=child)


def _events(record, action=None):
    query = sa.select(AuditEvent).where(AuditEvent.object_type == record.__tablename__,
                                        AuditEvent.object_id == record.id).order_by(AuditEvent.id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


# --- the configured list of markers ----------------------------------------------------------------

def test_the_default_markers_keep_the_old_enum_codes_and_add_pnc_style_ones(app):
    codes = [kind.code for kind in offered()]
    from pcso.models import WarningMarker
    assert {marker.value for marker in WarningMarker} <= set(codes)
    assert {"firearms", "suicidal", "ailment"} <= set(codes)


@pytest.mark.parametrize("text, problem", [
    ("", r"no \[\[markers"),
    ('[[markers]]\ncode = "Violent"\nlabel = "V"\n', "code must be"),
    ('[[markers]]\ncode = "v"\nlabel = "V"\n[[markers]]\ncode = "v"\nlabel = "W"\n', "twice"),
    ('[[markers]]\ncode = "v"\nlabel = "V"\nreview_months = 0\n', "review_months"),
    ('[[markers]]\ncode = "v"\nlabel = "V"\ncolour = "red"\n', "unknown key"),
])
def test_a_markers_file_that_cant_be_applied_is_refused_naming_the_problem(tmp_path, text, problem):
    path = tmp_path / "markers.toml"
    path.write_text(text)
    with pytest.raises(WarningMarkersError, match=problem):
        load_markers(path)


# --- details --------------------------------------------------------------------------------------

def test_an_estimated_age_is_dated_and_carried_forward(app, world):
    kim = factories.person("Kim Holt")
    records.update_person(kim, actor=world["author"], full_name="Kim Holt", born_on=None, approx_age=17,
                          sex=Sex.FEMALE, description="Tall, red hoodie")
    assert (kim.approx_age, kim.approx_age_on, kim.sex) == (17, london_today(), Sex.FEMALE)
    kim.approx_age_on = london_today() - timedelta(days=2 * 366)
    assert kim.estimated_age_now == 19
    with pytest.raises(records.EditRefused, match="not both"):
        records.update_person(kim, actor=world["author"], full_name="Kim Holt", born_on=date(2009, 1, 1),
                              approx_age=17, sex=Sex.FEMALE, description=None)


def test_editing_details_bumps_the_revision_and_audits_field_names_not_values(app, world):
    dale, author = world["dale"], world["author"]
    before = dale.revision
    changed = records.update_person(dale, actor=author, full_name="Dale Wrigley", born_on=date(1988, 7, 14),
                                    approx_age=None, sex=Sex.MALE, description="Scar on left cheek")
    db.session.commit()
    assert sorted(changed) == ["description", "sex"] and dale.revision == before + 1
    (event,) = _events(dale, AuditAction.UPDATE)
    assert event.details["fields"] == ["description", "sex"] and event.details["revision"] == dale.revision
    assert "Scar" not in str(event.details) and "male" not in str(event.details["fields"])
    # nothing changed: nothing written, the revision stays
    records.update_person(dale, actor=author, full_name="Dale Wrigley", born_on=date(1988, 7, 14), approx_age=None,
                          sex=Sex.MALE, description="Scar on left cheek")
    assert dale.revision == before + 1 and len(_events(dale, AuditAction.UPDATE)) == 1


def test_aliases_are_added_refused_when_known_removed_and_found_by_search(app, world):
    dale, author = world["dale"], world["author"]
    records.add_alias(dale, "  Big   D ", actor=author)
    assert dale.aliases == ["Big D"]
    with pytest.raises(records.EditRefused, match="already"):
        records.add_alias(dale, "big d", actor=author)
    with pytest.raises(records.EditRefused, match="already"):
        records.add_alias(dale, "DALE WRIGLEY", actor=author)
    db.session.commit()
    body = db.session.scalar(sa.text("SELECT body FROM search_document WHERE entry_id = :id"), {"id": world["asb"].id})
    assert "Big D" in body  # the entries he is linked to are found by the alias
    records.remove_alias(dale, "Big D", actor=author)
    assert dale.aliases == []
    assert [e.details["fields"] for e in _events(dale, AuditAction.UPDATE)] == [["aliases"], ["aliases"]]


# --- warning markers -------------------------------------------------------------------------------

def test_a_marker_is_set_reviewed_and_removed_keeping_its_history(app, world):
    dale, author = world["dale"], world["author"]
    review = london_today() + timedelta(days=90)
    marker = records.add_marker(dale, "weapons", actor=author, note="Knife found 2026-02", review_on=review)
    assert dale.warning_markers == ["weapons"] and marker.set_by_id == author.id
    with pytest.raises(records.EditRefused, match="already"):
        records.add_marker(dale, "weapons", actor=author, note=None, review_on=None)
    with pytest.raises(records.EditRefused, match="list"):
        records.add_marker(dale, "not_a_marker", actor=author, note=None, review_on=None)
    with pytest.raises(records.EditRefused, match="future"):
        records.add_marker(dale, "drugs", actor=author, note=None, review_on=london_today())
    records.review_marker(marker, actor=world["colleague"], review_on=review + timedelta(days=180), note=None)
    assert marker.reviewed_by_id == world["colleague"].id and marker.review_on == review + timedelta(days=180)
    with pytest.raises(records.EditRefused, match="why"):
        records.remove_marker(marker, actor=author, note="  ")
    records.remove_marker(marker, actor=author, note="Conviction spent, checked with PNC")
    db.session.commit()
    assert dale.warning_markers == [] and dale.active_markers == []
    kept = db.session.get(PersonWarningMarker, marker.id)
    assert kept.removed_by_id == author.id and kept.removed_note.startswith("Conviction")
    changes = [(e.details["fields"], e.details["change"], e.details["marker_id"]) for e in _events(dale, AuditAction.UPDATE)]
    assert changes == [(["warning_markers"], c, marker.id) for c in ("set", "reviewed", "removed")]
    assert all("Knife" not in str(e.details) and "PNC" not in str(e.details) for e in _events(dale))
    # set again after removal: a new row, the old one still there
    records.add_marker(dale, "weapons", actor=author, note=None, review_on=None)
    assert len(dale.markers) == 2 and dale.warning_markers == ["weapons"]


def test_a_merge_carries_the_losers_markers_addresses_and_vehicles(app, world):
    dale, author = world["dale"], world["author"]
    other = factories.person("Dale Wrigly", date(1988, 7, 14))
    factories.link(world["asb"], other, LinkRole.WITNESS)
    records.add_marker(other, "drugs", actor=author, note=None, review_on=None)
    records.add_address(other, AddressRole.HOME, actor=author, address="12 Matrix Road", postcode="m15 4ad")
    world["car"].keeper_id = other.id
    supervisor = factories.user(Role.SUPERVISOR, beats=[BEAT])
    merge_people(dale, other, actor=supervisor, reason="Same DOB and address")
    db.session.commit()
    dale = db.session.get(Person, dale.id)
    assert [m.marker for m in dale.markers] == ["drugs"] and dale.warning_markers == ["drugs"]
    assert [a.location.address for a in dale.addresses] == ["12 Matrix Road, M15 4AD"]
    assert db.session.get(Vehicle, world["car"].id).keeper_id == dale.id


# --- addresses ---------------------------------------------------------------------------------------

def test_a_typed_address_is_placed_from_the_postcode_book_and_reused_only_when_visible(app, world):
    author, stranger = world["author"], world["stranger"]
    home = location_for(address="12  Matrix Road", postcode="m15 4ad", user=author, location_id=None)
    assert (home.address, home.postcode) == ("12 Matrix Road, M15 4AD", "M15 4AD")
    park = location_for(address="longford park", postcode="M32 0DH", user=author, location_id=None)
    assert park.id == world["park"].id  # a place the author may see (in their entry) is reused
    assert location_for(address="Longford Park", postcode="M32 0DH", user=stranger,
                        location_id=None).id != world["park"].id  # never joined unseen
    assert {"house", "street", "postcode"} <= set(_events(home, AuditAction.CREATE)[0].details["fields"])  # names only


def test_an_address_is_picked_only_from_places_the_editor_may_see(app, world):
    dale = world["dale"]
    item = records.add_address(dale, AddressRole.FREQUENTS, actor=world["author"], location_id=world["park"].id)
    assert item.location_id == world["park"].id
    from pcso.pole.services import RecordNotFound
    with pytest.raises(RecordNotFound):
        records.add_address(dale, AddressRole.HOME, actor=world["stranger"], location_id=world["park"].id)
    with pytest.raises(records.EditRefused, match="already"):
        records.add_address(dale, AddressRole.FREQUENTS, actor=world["author"], location_id=world["park"].id)
    records.remove_address(dale, item.id, actor=world["author"])
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PersonAddress)) == 0
    assert [e.details["change"] for e in _events(dale, AuditAction.UPDATE)] == ["added", "removed"]


# --- vehicles --------------------------------------------------------------------------------------

def test_a_vehicles_keeper_is_a_person_the_editor_may_see_and_stays_hidden_from_others(app, world):
    car, author, colleague = world["car"], world["author"], world["colleague"]
    changed = records.update_vehicle(car, actor=author, vrm="mx65 tkz", make="Ford", model="Focus", colour="Red",
                                     description="Dent in the rear door", keeper_id=world["child"].id)
    db.session.commit()
    assert sorted(changed) == ["description", "keeper_id", "model"] and car.keeper_id == world["child"].id
    assert records.profile_extras(author, car).keeper.id == world["child"].id
    assert records.profile_extras(colleague, car).keeper is None  # may not open the welfare check
    # the colleague saves the vehicle with the keeper field blank: the keeper they can't see stays
    records.update_vehicle(car, actor=colleague, vrm="MX65TKZ", make="Ford", model="Focus", colour="Blue",
                           description="Dent in the rear door", keeper_id=None)
    assert car.keeper_id == world["child"].id and car.colour == "Blue"
    with pytest.raises(records.EditRefused, match="can see"):
        records.update_vehicle(car, actor=colleague, vrm="MX65TKZ", make=None, model=None, colour=None,
                               description=None, keeper_id=world["child"].id)
    other = factories.vehicle("AB12CDE")
    with pytest.raises(records.EditRefused, match="merge"):
        records.update_vehicle(other, actor=author, vrm="MX65TKZ", make=None, model=None, colour=None,
                               description=None, keeper_id=None)


def test_erasing_a_person_takes_their_markers_and_addresses_and_frees_the_vehicle(app, world):
    dale, author = world["dale"], world["author"]
    records.add_marker(dale, "violent", actor=author, note=None, review_on=None)
    records.add_address(dale, AddressRole.HOME, actor=author, address="1 Chester Road", postcode=None)
    world["car"].keeper_id = dale.id
    db.session.flush()
    db.session.execute(sa.delete(factories.Link).where(factories.Link.person_id == dale.id))
    db.session.delete(dale)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PersonWarningMarker)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PersonAddress)) == 0
    db.session.expire_all()
    assert db.session.get(Vehicle, world["car"].id).keeper_id is None


# --- pages -----------------------------------------------------------------------------------------

def test_the_edit_pages_are_404_for_someone_who_cant_see_the_record(app, world):
    stranger, colleague = signed_in(app, world["stranger"]), signed_in(app, world["colleague"])
    for browser, url in ((stranger, f"/people/{world['dale'].id}/edit"), (stranger, f"/vehicles/{world['car'].id}/edit"),
                         (colleague, f"/people/{world['child'].id}/edit")):
        assert browser.get(url).status_code == 404
    assert stranger.post(f"/people/{world['dale'].id}/markers", data={"marker": "violent"}).status_code == 404
    assert colleague.post(f"/people/{world['child'].id}/aliases", data={"alias": "JT"}).status_code == 404
    assert db.session.get(Person, world["child"].id).aliases == []
    denied = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.DENY)).all()
    assert {(e.object_type, e.object_id) for e in denied} >= {("person", world["dale"].id), ("person", world["child"].id)}


def test_an_officer_records_alias_marker_and_address_through_the_pages(app, world):
    browser, dale = signed_in(app, world["colleague"]), world["dale"]
    page = browser.get(f"/people/{dale.id}/edit")
    assert page.status_code == 200
    view = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.VIEW)
                              .order_by(AuditEvent.id.desc())).first()
    assert (view.object_type, view.object_id) == ("person", dale.id)
    assert browser.post(f"/people/{dale.id}/aliases", data={"alias": "Daz"}).status_code == 303
    review = (london_today() + timedelta(days=30)).isoformat()
    assert browser.post(f"/people/{dale.id}/markers", data={"marker": "violent", "note": "Assaulted a PCSO",
                                                            "review_on": review}).status_code == 303
    assert browser.post(f"/people/{dale.id}/addresses", data={"role": "home", "location_id": "",
                                                              "address": "4 Seymour Grove", "postcode": "M16 0LN"}
                        ).status_code == 303
    assert browser.post(f"/people/{dale.id}/edit", data={"full_name": "Dale Wrigley", "born_on": "",
                                                         "approx_age": "35", "sex": "male", "description": ""}
                        ).status_code == 303
    profile = soup(browser.get(f"/people/{dale.id}"))
    assert "Violent" in profile.select_one("[data-testid=officer-safety]").text
    assert "Assaulted a PCSO" in profile.select_one("[data-testid=officer-safety]").text
    assert profile.select_one("[data-testid=aliases]").text.strip() == "Daz"
    assert "4 Seymour Grove" in profile.select_one("[data-testid=addresses]").text
    assert "About 35 (estimated " + london_today().strftime("%Y-%m") in profile.select_one("[data-testid=approx-age]").text
    assert profile.select_one("[data-testid=edit-record]")["href"] == f"/people/{dale.id}/edit"
    person = db.session.get(Person, dale.id)
    assert person.revision == 5  # made (1), then alias, marker, address, details


@pytest.mark.parametrize("url, data, message", [
    ("edit", {"full_name": "", "sex": "male"}, "Enter the person's name"),
    ("edit", {"full_name": "Dale", "born_on": "2090-01-01", "sex": "male"}, "in the future"),
    ("edit", {"full_name": "Dale", "born_on": "1990-01-01", "approx_age": "30", "sex": "male"}, "not both"),
    ("edit", {"full_name": "Dale", "sex": "robot"}, "Not a valid choice"),
    ("markers", {"marker": "sorcery"}, "Not a valid choice"),
    ("addresses", {"role": "home", "address": "", "location_id": ""}, "Choose a place or type the address"),
    ("addresses", {"role": "home", "address": "1 Road", "postcode": "XX1"}, "full UK postcode"),
    ("addresses", {"role": "home", "location_id": "999999"}, "Choose a place from the list"),
    ("aliases", {"alias": ""}, "Enter the other name"),
])
def test_bad_input_is_a_form_error_and_a_400(app, world, url, data, message):
    browser = signed_in(app, world["author"])
    response = browser.post(f"/people/{world['dale'].id}/{url}", data=data)
    assert response.status_code == 400
    assert message in soup(response).select_one("[data-testid=error-summary]").text


def test_the_vehicle_edit_page_saves_and_the_profile_shows_the_keeper(app, world):
    browser, car, dale = signed_in(app, world["author"]), world["car"], world["dale"]
    page = soup(browser.get(f"/vehicles/{car.id}/edit"))
    assert [o["value"] for o in page.select("#keeper_id option")] == ["", str(dale.id)]  # seen with it
    response = browser.post(f"/vehicles/{car.id}/edit", data={"vrm": "MX65TKZ", "make": "Ford", "model": "Fiesta",
                                                              "colour": "Red", "description": "Roof box",
                                                              "keeper_id": str(dale.id)})
    assert response.status_code == 303
    profile = soup(browser.get(f"/vehicles/{car.id}"))
    assert profile.select_one("[data-testid=keeper] a")["href"] == f"/people/{dale.id}"
    assert profile.select_one("[data-testid=vehicle-description]").text == "Roof box"
    assert car.vrm in soup(browser.get(f"/people/{dale.id}")).select_one("[data-testid=vehicles-kept]").text
    bad = browser.post(f"/vehicles/{car.id}/edit", data={"vrm": "", "keeper_number": "0"})
    assert bad.status_code == 400 and "Enter the registration" in bad.get_data(as_text=True)


def test_a_location_profile_lists_only_the_people_the_viewer_may_see(app, world):
    park, author = world["park"], world["author"]
    records.add_address(world["dale"], AddressRole.FREQUENTS, actor=author, location_id=park.id)
    records.add_address(world["child"], AddressRole.FREQUENTS, actor=author, location_id=park.id)
    db.session.commit()
    names = lambda user: [a.text for a in soup(signed_in(app, user).get(f"/locations/{park.id}")).select(
        "[data-testid=residents] a")]
    assert names(author) == ["Dale Wrigley", "Jordan Testchild"]
    assert names(world["colleague"]) == ["Dale Wrigley"]


# --- migration 0018: markers already on people become rows -------------------------------------------

from tests.test_migrations import blank_app, blank_url, flask_db  # noqa: E402,F401  (the migration fixtures)


def test_markers_on_people_before_0018_become_rows_and_the_search_triggers_survive(blank_app):
    flask_db(blank_app, "upgrade", "0017")
    with db.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO person (full_name, name_key, aliases, warning_markers, created_at, review_due, revision) "
            "VALUES ('Lee Jones', 'lee jones', '[\"Jonesy\"]', '[\"violent\", \"drugs\", \"violent\"]', "
            "'2025-01-02 10:00:00+00:00', '2031-01-02', 1)"))
    flask_db(blank_app, "upgrade")
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT marker, set_by_id, removed_at FROM person_warning_marker ORDER BY id")).all()
        assert rows == [("violent", None, None), ("drugs", None, None)]
        assert conn.execute(sa.text("SELECT sex FROM person")).scalar() == "unknown"
        if conn.dialect.name == "sqlite":  # the trigram index still follows person (rebuilt by the migration)
            conn.execute(sa.text("UPDATE person SET aliases = '[\"Leeroy\"]'"))
            assert conn.execute(sa.text("SELECT rowid FROM person_fts WHERE person_fts MATCH 'leeroy'")).all()
    flask_db(blank_app, "downgrade", "0017")
    flask_db(blank_app, "upgrade")


def test_the_api_gives_a_persons_new_fields_and_markers(app, world):
    from tests.api.helpers import bearer, token
    dale, author = world["dale"], world["author"]
    records.update_person(dale, actor=author, full_name="Dale Wrigley", born_on=None, approx_age=35, sex=Sex.MALE,
                          description="Scar on left cheek")
    records.add_marker(dale, "weapons", actor=author, note="Knife", review_on=None)
    records.update_vehicle(world["car"], actor=author, vrm="MX65TKZ", make="Ford", model=None, colour="Red",
                           description="Roof box", keeper_id=dale.id)
    secret = token(author)
    db.session.commit()
    body = app.test_client().get(f"/api/v1/people/{dale.id}", headers=bearer(secret)).get_json()["record"]
    assert (body["sex"], body["approx_age"], body["approx_age_on"]) == ("male", 35, london_today().isoformat())
    assert [m["marker"] for m in body["markers"]] == ["weapons"] and "note" not in body["markers"][0]
    car = app.test_client().get(f"/api/v1/vehicles/{world['car'].id}", headers=bearer(secret)).get_json()["record"]
    assert car["description"] == "Roof box" and "keeper_id" not in car


def test_an_entry_page_shows_the_warning_markers_of_its_people(app, world):
    records.add_marker(world["dale"], "violent", actor=world["author"], note="Assault", review_on=None)
    db.session.commit()
    page = soup(signed_in(app, world["colleague"]).get(f"/entries/{world['asb'].id}"))
    assert page.select_one("[data-testid=people] [data-testid=person-warnings]").text.strip() == "Violent"


def test_a_marker_is_reviewed_and_removed_through_its_own_forms(app, world):
    dale, browser = world["dale"], signed_in(app, world["colleague"])
    marker = records.add_marker(dale, "drugs", actor=world["author"], note=None, review_on=None)
    db.session.commit()
    page = soup(browser.get(f"/people/{dale.id}/edit"))
    assert page.select_one(f"#marker-{marker.id} label[for=review-{marker.id}-review_on]")  # one id per marker's form
    soon = (london_today() + timedelta(days=60)).isoformat()
    assert browser.post(f"/people/{dale.id}/markers/{marker.id}/review",
                        data={f"review-{marker.id}-review_on": soon}).status_code == 303
    empty = browser.post(f"/people/{dale.id}/markers/{marker.id}/remove", data={f"remove-{marker.id}-reason": ""})
    assert empty.status_code == 400 and "Say why" in soup(empty).select_one("[data-testid=error-summary]").text
    assert browser.post(f"/people/{dale.id}/markers/{marker.id}/remove",
                        data={f"remove-{marker.id}-reason": "Wrong person"}).status_code == 303
    other = factories.person("Someone Else")
    factories.link(world["asb"], other)
    db.session.commit()
    assert browser.post(f"/people/{other.id}/markers/{marker.id}/remove",  # another person's marker: not found
                        data={f"remove-{marker.id}-reason": "x"}).status_code == 404
    db.session.expire_all()
    kept = db.session.get(PersonWarningMarker, marker.id)
    assert (kept.review_on.isoformat(), kept.removed_note) == (soon, "Wrong person")
    assert db.session.get(Person, dale.id).warning_markers == []
