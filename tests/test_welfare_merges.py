"""Merging a person linked to a welfare check (issue 10, item 5).

The rule (pcso/pole/services.py merge_refusal): such a merge needs a supervisor or a safeguarding lead, and
it never widens who can see the child's details: it is refused when anyone who may see the other record could
not already see the child's record and may open none of the other record's own welfare checks. Tried here with
a PCSO who may open the other record (an ASB incident on their beat) but not the child's welfare check."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, Link, LinkRole, Person, Role
from pcso.pole.services import MergeForbidden, MergeRefused, merge_people
from tests import factories
from tests.factories import signed_in, soup

OLD_TRAFFORD = factories.OLD_TRAFFORD
CHILD_BORN = date(2012, 5, 17)

pytestmark = pytest.mark.usefixtures("memoised_hashing")


@pytest.fixture
def case(app):
    people = {
        "spoc": factories.user(Role.PCSO, beats=[OLD_TRAFFORD]),
        "colleague": factories.user(Role.PCSO, beats=[OLD_TRAFFORD]),
        "supervisor": factories.user(Role.SUPERVISOR),
        "analyst": factories.user(Role.ANALYST),
        "safeguarding": factories.user(Role.SAFEGUARDING),
    }
    check = factories.welfare(people["spoc"], beat_code=OLD_TRAFFORD, child_name="Casey Childname")
    check.child.born_on = CHILD_BORN
    check.child.description = "Scar above the left eye"
    # the colleague's own ASB incident names a victim: a duplicate of the child, without the child's details
    incident = factories.asb(people["colleague"], OLD_TRAFFORD)
    other = factories.person("Casey Childnam")
    incident.links.append(Link(person=other, role=LinkRole.VICTIM))
    db.session.commit()
    return people, check.child.id, other.id


def merge(app, user, keep_id, other_id, action="merge"):
    return signed_in(app, user).post(f"/people/{keep_id}/merge",
                                     data={"other_id": other_id, "action": action, "reason": "Same child"})


def child_details_shown(text: str) -> list[str]:
    return [shown for shown in ("Casey Childname", "17 May 2012", "2012-05-17", "Scar above the left eye")
            if shown in text]


def test_a_merge_that_would_show_the_child_to_a_pcso_is_refused_whoever_stays(app, case):
    people, child_id, other_id = case
    # the PCSO may open the other record, and not the child's
    colleague = signed_in(app, people["colleague"])
    assert colleague.get(f"/people/{other_id}").status_code == 200
    assert colleague.get(f"/people/{child_id}").status_code == 404
    for keep, other in ((child_id, other_id), (other_id, child_id)):
        response = merge(app, people["supervisor"], keep, other)
        assert response.status_code == 409
        refused = soup(response).select_one("[data-testid=merge-refused]").get_text(" ", strip=True)
        assert "stay apart" in refused and "welfare check" in refused
    db.session.expire_all()
    assert db.session.get(Person, child_id).merged_into_id is None
    assert db.session.get(Person, other_id).merged_into_id is None
    assert db.session.get(Person, other_id).aliases in (None, [])
    # and so the PCSO still sees none of the child's details through the other record
    page = colleague.get(f"/people/{other_id}")
    assert page.status_code == 200 and child_details_shown(page.get_data(as_text=True)) == []


def test_the_service_refuses_it_too_and_the_review_page_says_so(app, case):
    people, child_id, other_id = case
    supervisor = people["supervisor"]
    with pytest.raises(MergeRefused, match="stay apart"):
        merge_people(db.session.get(Person, other_id), db.session.get(Person, child_id), actor=supervisor,
                     reason="Same child")
    db.session.rollback()
    review = merge(app, supervisor, child_id, other_id, action="review")
    assert review.status_code == 200
    page = soup(review)
    assert page.select_one("[data-testid=merge-refused]") is not None
    assert page.select_one("button[value=merge]") is None  # no merge button to press
    assert not db.session.scalars(sa.select(AuditEvent).where(  # no merge recorded (views may be)
        AuditEvent.object_type == "person", AuditEvent.action.in_([AuditAction.UPDATE, AuditAction.COMBINE]))).all()


def test_an_analyst_may_not_merge_a_welfare_childs_record_a_supervisor_may(app, case):
    """The child is also the victim of an ASB incident on the beat, so whoever may see the other record could
    see the child's record already: no one new would see the child. Still an analyst (who can't open the
    welfare check) may not merge it; a supervisor may."""
    people, child_id, other_id = case
    incident = factories.asb(people["colleague"], OLD_TRAFFORD)
    incident.links.append(Link(person_id=child_id, role=LinkRole.VICTIM))
    db.session.commit()
    response = merge(app, people["analyst"], child_id, other_id)
    assert response.status_code == 403
    assert "supervisor or safeguarding lead" in soup(response).select_one("[data-testid=merge-refused]").get_text()
    with pytest.raises(MergeForbidden):
        merge_people(db.session.get(Person, child_id), db.session.get(Person, other_id), actor=people["analyst"],
                     reason="Same child")
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Person, other_id).merged_into_id is None
    response = merge(app, people["supervisor"], child_id, other_id)
    assert response.location == f"/people/{child_id}"
    db.session.expire_all()
    assert db.session.get(Person, other_id).merged_into_id == child_id


def test_a_safeguarding_lead_merges_two_records_of_a_child_seen_by_two_spocs(app, case):
    """Each SPOC may open a welfare check of the merged child: no one new sees the child."""
    people, child_id, _ = case
    second_spoc = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    later = factories.welfare(second_spoc, beat_code=OLD_TRAFFORD, child_name="Casey Child-name")
    db.session.commit()
    twin_id = later.child.id
    # a PCSO (even the SPOC) may not merge at all; the colleague may see neither record
    assert merge(app, people["spoc"], child_id, twin_id).status_code == 403
    assert merge(app, people["colleague"], child_id, twin_id).status_code == 403
    response = merge(app, people["safeguarding"], child_id, twin_id)
    assert response.location == f"/people/{child_id}"
    db.session.expire_all()
    assert db.session.get(Person, twin_id).merged_into_id == child_id
    (event,) = [e for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.object_type == "person",
                                                                          AuditEvent.object_id == child_id))
                if (e.details or {}).get("merged") == twin_id]
    assert event.actor_id == people["safeguarding"].id
    # the colleague still sees neither
    colleague = signed_in(app, people["colleague"])
    for person_id in (child_id, twin_id):
        assert colleague.get(f"/people/{person_id}").status_code == 404


def test_a_safeguarding_lead_cannot_reach_a_record_outside_welfare_checks(app, case):
    people, child_id, other_id = case
    assert merge(app, people["safeguarding"], child_id, other_id).status_code == 404
    assert merge(app, people["safeguarding"], other_id, child_id).status_code == 404
