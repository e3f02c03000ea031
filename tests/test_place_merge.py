"""Merging two records of one place or one organisation (pcso/pole/place_merge.py): found as possible
duplicates on the profile, compared, merged with a reason; links, people's addresses and organisations move;
a place named in a welfare check needs a supervisor or safeguarding lead and lends the survivor nothing."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import (
    AddressRole, AuditAction, AuditEvent, Link, LinkRole, Location, Organisation, OrganisationType, PersonAddress,
    Role, School, name_key, number_key,
)
from tests import factories
from tests.factories import signed_in, soup

OLD_TRAFFORD = factories.OLD_TRAFFORD

pytestmark = pytest.mark.usefixtures("memoised_hashing")


def place(address, postcode, house, **kw) -> Location:
    return factories.location(address, postcode, house=house, number_key=number_key(house), **kw)


@pytest.fixture
def world(app):
    people = {"pcso": factories.user(Role.PCSO, beats=[OLD_TRAFFORD]), "supervisor": factories.user(Role.SUPERVISOR),
              "analyst": factories.user(Role.ANALYST)}
    keep = place("12 Shrewsbury Street, M16 9AX", "M16 9AX", "12", street="Shrewsbury Street")
    dupe = place("12 Shrewsbury St", "M16 9AX", "12", street="Shrewsbury St", lat=53.4601, lon=-2.2651,
                 beat_code=OLD_TRAFFORD)
    first, second = (factories.asb(people["pcso"], OLD_TRAFFORD) for _ in range(2))
    factories.link(first, keep, LinkRole.SCENE)
    factories.link(second, dupe, LinkRole.SCENE)
    resident = factories.person("Robin Resident")
    factories.link(second, resident, LinkRole.WITNESS)
    db.session.add(PersonAddress(person_id=resident.id, location_id=dupe.id, role=AddressRole.HOME))
    shop = Organisation(name="Corner Shop", name_key=name_key("Corner Shop"), org_type=OrganisationType.SHOP,
                        location_id=dupe.id)
    db.session.add(shop)
    db.session.flush()
    factories.link(second, shop, LinkRole.MENTIONED)
    db.session.commit()
    return people, keep.id, dupe.id, resident.id, shop.id


def merge(app, user, model, keep_id, other_id, action="merge"):
    return signed_in(app, user).post(f"/{model}/{keep_id}/merge",
                                     data={"other_id": other_id, "action": action, "reason": "Same house"})


def test_a_supervisor_finds_and_merges_a_place_typed_twice_and_nothing_is_lost(app, world):
    people, keep_id, dupe_id, resident_id, shop_id = world
    browser = signed_in(app, people["supervisor"])
    page = soup(browser.get(f"/locations/{keep_id}"))
    (found,) = page.select("[data-testid=duplicates] li[data-duplicate]")
    assert int(found["data-duplicate"]) == dupe_id and "Same postcode and house number" in found.get_text()
    review = merge(app, people["supervisor"], "locations", keep_id, dupe_id, action="review")
    assert review.status_code == 200 and "12 Shrewsbury St" in soup(review).select_one("[data-testid=merge-away]").text
    assert db.session.get(Location, dupe_id).merged_into_id is None  # comparing changes nothing

    answer = merge(app, people["supervisor"], "locations", keep_id, dupe_id)
    assert answer.status_code == 302 and answer.location == f"/locations/{keep_id}"
    db.session.expire_all()
    kept, gone = db.session.get(Location, keep_id), db.session.get(Location, dupe_id)
    assert gone.merged_into_id == keep_id and kept.revision == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Link).where(Link.location_id == keep_id)) == 2
    assert db.session.scalar(sa.select(PersonAddress.location_id).where(PersonAddress.person_id == resident_id)) \
        == keep_id
    assert db.session.get(Organisation, shop_id).location_id == keep_id
    assert (kept.lat, kept.lon, kept.beat_id) == (gone.lat, gone.lon, gone.beat_id)  # its blank point, filled
    assert kept.street == "Shrewsbury Street"  # its own address stays
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.COMBINE)).one()
    assert (event.object_type, event.details["survivor"], event.details["merged"]) == ("location", keep_id, dupe_id)
    assert event.details["links_moved"] == 1 and event.details["filled"] == ["point"]
    assert browser.get(f"/locations/{dupe_id}").location == f"/locations/{keep_id}"  # the old page leads on


def test_an_organisation_recorded_twice_is_merged_and_takes_the_others_address(app, world):
    people, _, dupe_id, _, shop_id = world
    twin = Organisation(name="Corner shop", name_key=name_key("Corner shop"), org_type=OrganisationType.SHOP)
    db.session.add(twin)
    db.session.flush()
    factories.link(factories.asb(people["pcso"], OLD_TRAFFORD), twin, LinkRole.MENTIONED)
    db.session.commit()
    twin_id = twin.id
    page = soup(signed_in(app, people["analyst"]).get(f"/organisations/{twin_id}"))
    assert [int(li["data-duplicate"]) for li in page.select("[data-testid=duplicates] li[data-duplicate]")] \
        == [shop_id]
    answer = merge(app, people["analyst"], "organisations", twin_id, shop_id)
    assert answer.location == f"/organisations/{twin_id}"
    db.session.expire_all()
    assert db.session.get(Organisation, shop_id).merged_into_id == twin_id
    assert db.session.get(Organisation, twin_id).location_id == dupe_id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Link).where(Link.organisation_id == twin_id)) == 2


def test_a_person_with_the_same_role_at_both_keeps_one_address(app, world):
    people, keep_id, dupe_id, resident_id, _ = world
    db.session.add(PersonAddress(person_id=resident_id, location_id=keep_id, role=AddressRole.HOME))
    db.session.commit()
    assert merge(app, people["supervisor"], "locations", keep_id, dupe_id).status_code == 302
    homes = db.session.scalars(sa.select(PersonAddress).where(PersonAddress.person_id == resident_id)).all()
    assert [(a.location_id, a.role) for a in homes] == [(keep_id, AddressRole.HOME)]


def test_a_place_named_in_a_welfare_check_needs_a_supervisor_and_fills_nothing(app, world):
    people, keep_id, _, _, _ = world
    check = factories.welfare(people["pcso"], beat_code=OLD_TRAFFORD)
    secret = place("12 Shrewsbury Street (Nan's flat)", "M16 9AX", "12", place_name="Nan's flat")
    factories.link(check, secret, LinkRole.SEEN)
    factories.link(factories.asb(people["pcso"], OLD_TRAFFORD), secret, LinkRole.SCENE)  # the analyst sees it here
    db.session.commit()
    secret_id = secret.id
    refused = merge(app, people["analyst"], "locations", keep_id, secret_id)
    assert refused.status_code == 403 and soup(refused).select_one("[data-testid=merge-refused]") is not None
    assert db.session.get(Location, secret_id).merged_into_id is None
    assert merge(app, people["supervisor"], "locations", keep_id, secret_id).status_code == 302
    db.session.expire_all()
    kept = db.session.get(Location, keep_id)
    assert kept.place_name is None and "Nan" not in kept.address  # typed in the check: not shown more widely
    assert db.session.get(Location, secret_id).merged_into_id == keep_id


def test_only_mergers_may_merge_and_a_place_they_cannot_see_is_a_404(app, world):
    people, keep_id, dupe_id, _, _ = world
    assert merge(app, people["pcso"], "locations", keep_id, dupe_id).status_code == 403
    hidden = place("3 Hidden Road", "M16 0AA", "3")  # in no entry, not listed, made by nobody
    db.session.commit()
    assert merge(app, people["supervisor"], "locations", keep_id, hidden.id).status_code == 404
    assert merge(app, people["supervisor"], "locations", hidden.id, keep_id).status_code == 404
    assert db.session.get(Location, dupe_id).merged_into_id is None


def test_a_typed_organisation_merged_with_the_schools_own_record_becomes_that_school(app, world):
    people = world[0]
    school = db.session.scalars(sa.select(School).order_by(School.id)).first()
    listed = Organisation(name=school.name, name_key=name_key(school.name), org_type=OrganisationType.SCHOOL,
                          school_id=school.id, is_listed=True)
    typed = Organisation(name=school.name, name_key=name_key(school.name), org_type=OrganisationType.SCHOOL)
    db.session.add_all([listed, typed])
    db.session.flush()
    factories.link(factories.asb(people["pcso"], OLD_TRAFFORD), typed, LinkRole.MENTIONED)
    db.session.commit()
    listed_id, typed_id = listed.id, typed.id
    assert merge(app, people["supervisor"], "organisations", typed_id, listed_id).status_code == 302
    db.session.expire_all()
    kept = db.session.get(Organisation, typed_id)
    assert kept.school_id == school.id and kept.is_listed
    assert db.session.get(Organisation, listed_id).school_id is None
