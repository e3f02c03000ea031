"""Each child's latest welfare check (welfare_latest) stays right through every write (issue 11 part 4).

The table is kept on flush (pcso/models/latest_check.py); after each step through the app's own pages and
services it must equal a ranking of every check done here from scratch, and the dashboard must show it:
logging, a draft, editing (a draft, and a check returned for correction), review, erasure (retention's
disposal of a check, of a child), and merging two children."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from pcso.extensions import db
from pcso.dashboard.welfare import welfare_due
from pcso.models import EntryStatus, LinkRole, Person, RetentionDecisionType, Role, WelfareCheck, WelfareLatest
from pcso.models.latest_check import rebuild_all
from pcso.pole.services import merge_people
from pcso.retention.erase import carry_out
from pcso.retention.services import record_decision
from pcso.timeutil import to_london, utcnow
from tests import factories
from tests.factories import signed_in
from tests.test_welfare_child import welfare_form

pytestmark = pytest.mark.usefixtures("memoised_hashing")


def stored() -> dict[int, tuple[int, int, object]]:
    db.session.expire_all()
    return {row.child_id: (row.check_id, row.beat_id, row.next_visit_on)
            for row in db.session.scalars(sa.select(WelfareLatest))}


def ranked_from_scratch() -> dict[int, tuple[int, int, object]]:
    """Every check that is not a draft, ranked per child in Python: what the table must hold."""
    db.session.expire_all()
    best: dict[int, WelfareCheck] = {}
    for check in db.session.scalars(sa.select(WelfareCheck)):
        if check.status == EntryStatus.DRAFT:
            continue
        for link in check.links:
            if link.role == LinkRole.SUBJECT and link.person_id is not None:
                held = best.get(link.person_id)
                if held is None or (check.occurred_at, check.id) > (held.occurred_at, held.id):
                    best[link.person_id] = check
    return {child: (c.id, c.beat_id, c.next_visit_on) for child, c in best.items()}


def latest_of(child_id: int) -> int | None:
    now = stored()
    assert now == ranked_from_scratch()
    return now[child_id][0] if child_id in now else None


def at(days_ago: int) -> str:
    return to_london(utcnow() - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M")


def new_check(browser, spoc, *, days_ago: int, next_in: int, **extra) -> WelfareCheck:
    visit = to_london(utcnow()).date() + timedelta(days=next_in)
    response = browser.post("/welfare-checks/new", data=welfare_form(
        spoc, occurred_at=at(days_ago), next_visit_on=visit.isoformat(), **extra))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return db.session.scalars(sa.select(WelfareCheck).order_by(WelfareCheck.id.desc())).first()


@pytest.fixture
def people(app):
    return {"spoc": factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD]),
            "supervisor": factories.user(Role.SUPERVISOR), "admin": factories.user(Role.ADMIN)}


def test_logging_drafts_and_edits_keep_the_latest_check(app, people):
    spoc, supervisor = people["spoc"], people["supervisor"]
    browser = signed_in(app, spoc)
    first = new_check(browser, spoc, days_ago=20, next_in=-3)
    child = first.child.id
    assert latest_of(child) == first.id
    second = new_check(browser, spoc, days_ago=10, next_in=2, child_id=str(child), child_name=first.child.full_name,
                       child_born_on=first.child.born_on.isoformat())
    assert second.child.id == child and latest_of(child) == second.id
    # a newer draft does not count until it is submitted
    draft = new_check(browser, spoc, days_ago=1, next_in=5, action="save", child_id=str(child),
                      child_name=first.child.full_name, child_born_on=first.child.born_on.isoformat())
    assert draft.status == EntryStatus.DRAFT and latest_of(child) == second.id
    edited = welfare_form(spoc, occurred_at=at(2), next_visit_on=(to_london(utcnow()).date() + timedelta(days=4))
                          .isoformat(), child_id=str(child), child_name=first.child.full_name,
                          child_born_on=first.child.born_on.isoformat())
    assert browser.post(f"/entries/{draft.id}/edit", data=edited).status_code == 302
    assert latest_of(child) == draft.id
    assert stored()[child][2] == to_london(utcnow()).date() + timedelta(days=4)
    # returned for correction, its next visit changed: the row follows
    sergeant = signed_in(app, supervisor)
    assert sergeant.post(f"/entries/{draft.id}/review", data={"decision": "return", "comment": "date"}).status_code == 302
    assert latest_of(child) == draft.id  # a check returned is still counted, as before
    moved = dict(edited, client_key=edited["client_key"], next_visit_on=(to_london(utcnow()).date()).isoformat())
    assert browser.post(f"/entries/{draft.id}/edit", data=moved).status_code == 302
    assert stored()[child][2] == to_london(utcnow()).date()
    # what the dashboard lists is that check, and only it, for the child
    due = welfare_due(db.session.get(type(supervisor), supervisor.id), None, today=to_london(utcnow()).date())
    assert [(d.child.id, d.check.id) for d in due] == [(child, draft.id)]
    # approval changes nothing
    assert sergeant.post(f"/entries/{draft.id}/review", data={"decision": "approve"}).status_code == 302
    assert latest_of(child) == draft.id


def _dispose(record_type: str, record, admin, **extra):
    decision = record_decision(record_type, record, decision=RetentionDecisionType.DISPOSE,
                               rationale="No policing purpose", next_review=None, actor=admin, **extra)
    db.session.flush()
    carry_out(decision)
    db.session.commit()


def test_erasing_the_latest_check_falls_back_to_the_one_before_and_erasing_the_child_leaves_no_row(app, people):
    spoc, admin = people["spoc"], people["admin"]
    older = factories.welfare(spoc, occurred_at=utcnow() - timedelta(days=30))
    child = older.child
    newer = factories.welfare(spoc, occurred_at=utcnow() - timedelta(days=3))
    newer.links[0].person = child  # the same child, on the newer check
    db.session.commit()
    assert latest_of(child.id) == newer.id
    _dispose("entry", db.session.get(WelfareCheck, newer.id), admin, safeguarding_note="Agreed with the lead")
    assert db.session.get(WelfareCheck, newer.id) is None
    assert latest_of(child.id) == older.id
    _dispose("entry", db.session.get(WelfareCheck, older.id), admin, safeguarding_note="Agreed with the lead")
    assert latest_of(child.id) is None and stored() == {}


def test_merging_two_children_ranks_their_checks_together(app, people):
    spoc, supervisor = people["spoc"], people["supervisor"]
    kept = factories.welfare(spoc, occurred_at=utcnow() - timedelta(days=20), child_name="Casey Child")
    other = factories.welfare(spoc, occurred_at=utcnow() - timedelta(days=2), child_name="Casey Childe")
    keep_id, loser_id = kept.child.id, other.child.id
    db.session.commit()
    assert latest_of(keep_id) == kept.id and latest_of(loser_id) == other.id
    merge_people(db.session.get(Person, keep_id), db.session.get(Person, loser_id),
                 actor=db.session.get(type(supervisor), supervisor.id), reason="Same child")
    db.session.commit()
    assert latest_of(keep_id) == other.id  # the loser's newer check is the survivor's now
    assert loser_id not in stored()


def test_a_check_that_moves_to_another_child_leaves_the_first_one_theirs_before(app, people):
    spoc = people["spoc"]
    first = factories.welfare(spoc, occurred_at=utcnow() - timedelta(days=9), child_name="Alex One")
    second = factories.welfare(spoc, occurred_at=utcnow() - timedelta(days=1), child_name="Alex Two")
    second.links[0].person = first.child
    db.session.commit()
    alex_one, alex_two = first.child.id, db.session.scalar(sa.select(Person.id).where(Person.full_name == "Alex Two"))
    assert latest_of(alex_one) == second.id and latest_of(alex_two) is None
    check = db.session.get(WelfareCheck, second.id)
    check.links[0].person_id = alex_two  # the link re-pointed, the check itself untouched
    db.session.commit()
    assert latest_of(alex_one) == first.id and latest_of(alex_two) == second.id


def test_rebuild_all_gives_what_the_writes_kept(app, people):
    spoc = people["spoc"]
    for days in (5, 15, 25):
        factories.welfare(spoc, occurred_at=utcnow() - timedelta(days=days), child_name=f"Child {days}")
    factories.welfare(spoc, status=EntryStatus.DRAFT, child_name="Only A Draft")
    db.session.commit()
    kept = stored()
    assert len(kept) == 3 and kept == ranked_from_scratch()
    assert rebuild_all(db.session.connection()) == 3
    db.session.commit()
    assert stored() == kept
