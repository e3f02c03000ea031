"""Search results say each person's role in each entry (issue 12, part 3): "Dale Wrigley (suspect)"."""
from __future__ import annotations

import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, LinkRole, Role
from pcso.search.index import index_entry
from tests import factories
from tests.factories import signed_in, soup

BEAT = "E05015247"


def _search(app, user, **data):
    return soup(signed_in(app, user).post("/search", data=data, follow_redirects=True))


def test_each_result_names_its_people_with_their_roles(app):
    pcso = factories.user(Role.PCSO, beats=[BEAT])
    dale, sam = factories.person("Dale Wrigley"), factories.person("Sam Bee")
    fight = factories.asb(pcso, summary="Fight at the tram stop")
    factories.link(fight, dale, LinkRole.SUSPECT)
    factories.link(fight, sam, LinkRole.VICTIM)
    factories.link(fight, sam, LinkRole.WITNESS)  # two roles in one entry: both said
    later = factories.asb(pcso, summary="Second fight, Dale a witness")
    factories.link(later, dale, LinkRole.WITNESS)
    quiet = factories.asb(pcso, summary="Fight reported, nobody named")
    for entry in (fight, later, quiet):
        index_entry(entry)
    db.session.commit()
    page = _search(app, pcso, q="fight")
    items = {int(a["data-entry-id"]): a for a in page.select("[data-testid=search-results] a.entry-item")}
    roles = {int(span["data-person-id"]): span["data-roles"] for span in items[fight.id].select("[data-person-id]")}
    assert roles == {dale.id: "suspect", sam.id: "victim witness"}
    said = items[fight.id].select_one("[data-testid=people-roles]").get_text()
    assert said == "People: Dale Wrigley (suspect); Sam Bee (victim, witness)"
    assert "Dale Wrigley (witness)" in items[later.id].select_one("[data-testid=people-roles]").get_text()
    assert items[quiet.id].select_one("[data-testid=people-roles]") is None
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.VIEW)
                               .order_by(AuditEvent.id.desc())).first()
    assert {dale.id, sam.id} <= set(event.details["records"]["person"]["ids"])  # the names shown are consulted


def test_a_long_list_of_people_is_cut_and_counted(app):
    pcso = factories.user(Role.PCSO, beats=[BEAT])
    crowd = factories.asb(pcso, summary="Crowd at the match")
    for i in range(9):
        factories.link(crowd, factories.person(f"Fan Number{i}"), LinkRole.WITNESS)
    index_entry(crowd)
    db.session.commit()
    people = _search(app, pcso, q="crowd").select_one("[data-testid=people-roles]")
    assert len(people.select("[data-person-id]")) == 6 and "and 3 more" in people.get_text()


def test_a_welfare_childs_role_shows_only_to_who_may_open_the_check(app):
    author = factories.user(Role.PCSO, beats=[BEAT])
    colleague = factories.user(Role.PCSO, beats=[BEAT])
    supervisor = factories.user(Role.SUPERVISOR, beats=[BEAT])
    check = factories.welfare(author, summary="Visit after the fight")
    index_entry(check)
    db.session.commit()
    assert "Jordan Testchild (subject)" in _search(app, supervisor, q="visit").get_text(" ")
    assert "Jordan Testchild" not in _search(app, colleague, q="visit").get_text(" ")
