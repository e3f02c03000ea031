"""Every entry and POLE record carries its review date: set on create from the rules, backfilled by 0012."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from pcso.entries.schema import load_entry_input
from pcso.entries.services import log_entry, update_entry
from pcso.extensions import db
from pcso.models import Entry, EntryKind, Person, Role, Vehicle
from pcso.retention.rules import add_years
from pcso.timeutil import london_today, to_london
from tests import factories
from tests.test_entry_json import body
from tests.test_migrations import FOUNDATION_ROWS, blank_app, blank_url, flask_db  # noqa: F401 (fixtures)


def _logged(kind: EntryKind, author=None, **extra):
    author = author or factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    entry, created = log_entry(load_entry_input(kind, body(kind, **extra), str(uuid.uuid4())), actor=author)
    assert created
    db.session.commit()
    return entry


def _occurred_day(entry: Entry) -> date:
    return to_london(entry.occurred_at).date()


def test_the_entry_services_set_each_kinds_review_date_on_create(app):
    patrol = _logged(EntryKind.PATROL)
    asb = _logged(EntryKind.ASB_INCIDENT)
    assert patrol.review_due == add_years(_occurred_day(patrol), 7)
    assert asb.review_due == add_years(_occurred_day(asb), 6)
    victim, vehicle = asb.links[0].person, asb.links[1].vehicle
    # A person or vehicle is not due before the entry naming them.
    assert victim.review_due == add_years(london_today(), 6) == asb.review_due
    assert vehicle.review_due >= asb.review_due
    intel = _logged(EntryKind.INTELLIGENCE_REPORT)
    assert intel.review_due == add_years(_occurred_day(intel), 6)


def test_a_welfare_check_is_not_reviewed_before_the_childs_25th_birthday(app):
    check = _logged(EntryKind.WELFARE_CHECK)  # child born 2012-03-04
    child = check.links[0].person
    assert check.review_due == max(add_years(_occurred_day(check), 10), date(2037, 3, 4))
    assert child.review_due == check.review_due  # the welfare-child rule, and never before the check


def test_a_later_link_moves_a_records_review_date_on(app):
    author = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    first = factories.asb(author, occurred_at=datetime(2020, 5, 1, 12, tzinfo=timezone.utc))
    van = factories.vehicle("AB12CDE")
    factories.link(first, van)
    db.session.flush()
    assert first.review_due == date(2026, 5, 1)
    assert van.review_due == max(add_years(london_today(), 6), first.review_due)
    old = factories.patrol(author, occurred_at=datetime(2019, 1, 2, 12, tzinfo=timezone.utc))
    assert old.review_due == date(2026, 1, 2)


def test_editing_an_entry_keeps_its_review_date_out_of_the_revisions(app):
    asb = _logged(EntryKind.ASB_INCIDENT)
    update_entry(asb, load_entry_input(EntryKind.ASB_INCIDENT, body(EntryKind.ASB_INCIDENT, summary="Changed"),
                                       asb.client_key), actor=asb.author)
    db.session.commit()
    assert all("review_due" not in revision.changes for revision in asb.revisions)
    assert db.session.scalar(sa.select(sa.func.count()).where(Entry.review_due.is_(None))) == 0


def test_the_page_form_sets_it_too(app, client):
    author = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    db.session.commit()
    factories.login(client, author)
    response = client.post("/asb-incidents/new", data=factories.asb_form())
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    entry = db.session.scalar(sa.select(Entry).where(Entry.author_id == author.id))
    assert entry.review_due == add_years(_occurred_day(entry), 6)


def test_the_migration_backfills_review_dates(blank_app):
    flask_db(blank_app, "upgrade", "0001")
    with db.engine.begin() as conn:
        for statement in FOUNDATION_ROWS:
            conn.exec_driver_sql(statement)
    flask_db(blank_app, "upgrade", "0010")
    flask_db(blank_app, "upgrade", "0012")
    with db.engine.connect() as conn:
        entries = dict(conn.exec_driver_sql("SELECT id, review_due FROM entry ORDER BY id").all())
        people = {name: (due, created) for name, due, created in conn.exec_driver_sql(
            "SELECT full_name, review_due, created_at FROM person ORDER BY id").all()}
        van = conn.exec_driver_sql("SELECT review_due FROM vehicle").scalar()
    day = lambda value: date.fromisoformat(str(value)[:10])  # noqa: E731 (SQLite gives text)
    assert {key: day(value) for key, value in entries.items()} == {
        1: date(2032, 1, 1), 2: date(2032, 1, 2),  # ASB: 6 years from the day it happened
        3: date(2037, 5, 1), 4: date(2037, 5, 1)}  # welfare: 10 years, and not before the child is 25
    due, created = people["Alex Example"]
    assert day(due) == max(date(2037, 5, 1), add_years(day(created), 10))
    assert day(people["Lee Jones"][0]) >= date(2032, 1, 1)
    assert day(van) >= date(2032, 1, 2)  # never before its latest entry
    flask_db(blank_app, "downgrade", "0010")
    with db.engine.connect() as conn:
        assert "review_due" not in {c["name"] for c in sa.inspect(conn).get_columns("entry")}


def test_a_merge_keeps_the_later_review_date(app):
    from pcso.pole.services import merge_people

    supervisor = factories.user(Role.SUPERVISOR)
    keep, loser = factories.person("Dale Wrigley"), factories.person("Dale Wrigly")
    db.session.flush()
    keep.review_due, loser.review_due = date(2030, 1, 1), date(2034, 6, 1)
    db.session.flush()
    merge_people(keep, loser, actor=supervisor, reason="Same man, typo")
    db.session.commit()
    assert db.session.get(Person, keep.id).review_due == date(2034, 6, 1)
    other, later = factories.person("Ann Bee"), factories.person("Ann B")
    db.session.flush()
    other.review_due, later.review_due = date(2040, 1, 1), date(2031, 1, 1)
    merge_people(other, later, actor=supervisor, reason="Same woman")
    db.session.commit()
    assert db.session.get(Person, other.id).review_due == date(2040, 1, 1)  # never earlier


def test_correcting_an_entrys_time_moves_its_review_date_unless_it_was_decided(app):
    from pcso.models import RetentionDecision, RetentionDecisionType

    asb = _logged(EntryKind.ASB_INCIDENT)
    corrected = (datetime.now(timezone.utc) - timedelta(days=400)).replace(microsecond=0)
    update_entry(asb, load_entry_input(EntryKind.ASB_INCIDENT, body(EntryKind.ASB_INCIDENT,
                                                                    occurred_at=corrected.isoformat()),
                                       asb.client_key), actor=asb.author)
    db.session.commit()
    assert asb.review_due == add_years(to_london(corrected).date(), 6)
    db.session.add(RetentionDecision(record_type="entry", record_id=asb.id, decision=RetentionDecisionType.RETAIN,
                                     rule="asb-incident", mopi_group="3", rationale="Kept", next_review=date(2040, 1, 1),
                                     decided_by_id=asb.author_id))
    asb.review_due = date(2040, 1, 1)
    db.session.commit()
    asb.occurred_at = corrected - timedelta(days=30)
    db.session.commit()
    assert asb.review_due == date(2040, 1, 1)  # the decision stands
