"""The audit viewer's queries, on SQLite and PostgreSQL: which events name a record (object or details.ids),
keyset pages, the filter's parsing, the recent sensitive records, and the unusual-access report."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from pcso.audit_viewer.matching import names_records
from pcso.audit_viewer.queries import AuditFilterError, AuditQuery, event_page, recent_sensitive_records
from pcso.audit_viewer.unusual import unusual_access
from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, Role, SecurityMarking
from pcso.timeutil import london_day_start, london_today, utcnow
from tests import factories

OLD_TRAFFORD = factories.OLD_TRAFFORD
ALTRINCHAM = "E05015239"


def event(action=AuditAction.VIEW, *, actor=None, object_type="entry", object_id=None, at=None, **details):
    e = AuditEvent(action=action, actor_id=actor.id if actor else None, object_type=object_type, object_id=object_id,
                   details=details, at=at or utcnow())
    db.session.add(e)
    db.session.flush()
    return e


def matching(clause) -> set[int]:
    return set(db.session.scalars(sa.select(AuditEvent.id).where(clause)))


# --- which events name a record ------------------------------------------------------------------------

def test_an_event_names_a_record_as_its_object_or_in_its_list_of_ids(app):
    pcso = factories.user(Role.PCSO)
    own = event(actor=pcso, object_id=42)
    listed = event(actor=pcso, ids=[7, 42, 99], count=3, context="lists.entries")
    listed_alone = event(actor=pcso, ids=[42])
    other_list = event(actor=pcso, ids=[7, 420, 4])  # 420 is not 42
    other_type = event(actor=pcso, object_type="person", object_id=42)
    person_list = event(actor=pcso, object_type="person", ids=[42])
    not_an_array = [event(actor=pcso, ids={"42": 42}), event(actor=pcso, ids="42"), event(actor=pcso, ids=42),
                    event(actor=pcso, ids=None), event(actor=pcso),
                    event(actor=pcso, records={"entry": {"ids": {"a": 42}}}), event(actor=pcso, records=[42])]
    # one consultation event per request (pcso/audit.py, s62): every kind of record the response showed
    page = event(actor=pcso, object_type="entry", object_id=5, context="entries.detail",
                 records={"entry": {"ids": [5], "count": 1}, "person": {"ids": [42, 43], "count": 2}})
    capped_list = event(actor=pcso, object_type="entry", records={"entry": {"ids": [1, 42], "count": 900}})
    db.session.commit()
    assert matching(names_records("entry", [42])) == {own.id, listed.id, listed_alone.id, capped_list.id}
    assert matching(names_records("person", [42])) == {other_type.id, person_list.id, page.id}
    assert matching(names_records("entry", [5])) == {page.id}
    assert matching(names_records("entry", [4, 99])) == {listed.id, other_list.id}
    assert matching(names_records("entry", [])) == set()
    assert not {e.id for e in not_an_array} & matching(names_records("entry", [42]))


def test_a_page_continues_before_the_last_event_without_skipping_or_repeating(app):
    pcso = factories.user(Role.PCSO)
    moment = utcnow() - timedelta(hours=1)
    made = [event(actor=pcso, object_id=i, at=moment + timedelta(seconds=i // 3)) for i in range(1, 121)]  # ties in `at`
    event(actor=factories.user(Role.PCSO), object_id=1)  # someone else's
    db.session.commit()
    query = AuditQuery.from_args(MultiDict({"collar": pcso.collar_number}), default_month=False)
    seen, pages = [], 0
    while True:
        page = event_page(query, per_page=50)
        seen += [row.event.id for row in page.rows]
        pages += 1
        if page.next_before is None:
            break
        query = AuditQuery.from_args(MultiDict({"collar": pcso.collar_number, "before": str(page.next_before)}),
                                     default_month=False)
    expected = [e.id for e in sorted(made, key=lambda e: (e.at, e.id), reverse=True)]
    assert (seen, pages) == (expected, 3)


def test_the_filter_reads_the_request_and_refuses_what_it_cannot(app):
    officer = factories.user(Role.PCSO, collar="PC4242")
    db.session.commit()
    query = AuditQuery.from_args(MultiDict([("collar", "pc4242"), ("action", "view"), ("action", "deny")]),
                                 default_month=True)
    assert query.actor.id == officer.id
    assert query.actions == (AuditAction.VIEW, AuditAction.DENY)
    assert (query.from_on, query.to_on) == (london_today().replace(day=1), london_today())  # this month
    assert AuditQuery.from_args(MultiDict({"id": "#17"}), default_month=False).to_args() == {"type": "entry", "id": 17}
    for args, message in [({"collar": "PC9999"}, "No officer"), ({"type": "entry; drop"}, "not a record type"),
                          ({"type": "person"}, "number"), ({"id": "12a"}, "not a record number"),
                          ({"id": "99999999999999999999"}, "not a record number"), ({"from": "2026-13-01"}, "date"),
                          ({"from": "2026-12-02", "to": "2026-12-01"}, "after"), ({"action": "delete"}, "Choose"),
                          ({"before": "-1"}, "event number"), ({"from": "1066-10-14"}, "between")]:
        with pytest.raises(AuditFilterError, match=message):
            AuditQuery.from_args(MultiDict(args), default_month=True)


def test_the_date_range_is_london_days_inclusive(app):
    pcso = factories.user(Role.PCSO)
    day = date(2026, 7, 1)  # British Summer Time: the London day starts at 23:00 UTC the day before
    inside = [event(actor=pcso, at=london_day_start(day)), event(actor=pcso, at=london_day_start(day + timedelta(1))
                                                                  - timedelta(microseconds=1))]
    event(actor=pcso, at=london_day_start(day) - timedelta(microseconds=1))
    event(actor=pcso, at=london_day_start(day + timedelta(1)))
    db.session.commit()
    query = AuditQuery.from_args(MultiDict({"collar": pcso.collar_number, "from": "2026-07-01", "to": "2026-07-01"}),
                                 default_month=True)
    assert {row.event.id for row in event_page(query).rows} == {e.id for e in inside}


def test_recent_sensitive_records_are_the_latest_viewed_sensitive_entries(app):
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    supervisor = factories.user(Role.SUPERVISOR)
    welfare = [factories.welfare(author, beat_code=OLD_TRAFFORD) for _ in range(3)]
    ordinary = factories.asb(author, OLD_TRAFFORD)
    sensitive = factories.asb(author, OLD_TRAFFORD, marking=SecurityMarking.OFFICIAL_SENSITIVE)
    start = utcnow() - timedelta(hours=2)
    for minutes, entry in enumerate([welfare[0], ordinary, welfare[1], sensitive, welfare[0], ordinary]):
        event(actor=supervisor, object_id=entry.id, at=start + timedelta(minutes=minutes))
    event(actor=supervisor, object_id=welfare[2].id, at=utcnow() - timedelta(days=40))  # too long ago
    db.session.commit()
    recent = recent_sensitive_records(batch=2)  # small batches: the loop really continues
    assert [r.entry.id for r in recent] == [welfare[0].id, sensitive.id, welfare[1].id]
    assert recent[0].entry.beat_name == "Old Trafford" and recent[0].entry.marking == SecurityMarking.OFFICIAL_SENSITIVE
    assert [r.entry.id for r in recent_sensitive_records(limit=1)] == [welfare[0].id]


# --- unusual access ------------------------------------------------------------------------------------

def test_welfare_views_off_the_viewers_beats_are_unusual(app):
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    spoc = factories.user(Role.PCSO, beats=[ALTRINCHAM])
    off_beat = factories.user(Role.SUPERVISOR, beats=[ALTRINCHAM])
    on_beat = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD])
    safeguarding = factories.user(Role.SAFEGUARDING)  # no beats: their whole area is every child
    check = factories.welfare(author, spoc=spoc, beat_code=OLD_TRAFFORD)
    ordinary = factories.asb(author, OLD_TRAFFORD)
    for who in (author, spoc, off_beat, off_beat, on_beat, safeguarding):
        event(actor=who, object_id=check.id)
    event(actor=off_beat, object_id=ordinary.id)  # not a welfare check
    db.session.commit()
    report = unusual_access(london_today() - timedelta(days=1), london_today())
    assert [(f.actor.id, f.count, f.title) for f in report.off_beat] == [(off_beat.id, 2, f"Welfare check #{check.id}")]
    assert report.off_beat[0].link == {"collar": off_beat.collar_number, "type": "entry", "id": check.id,
                                       "from": (london_today() - timedelta(days=1)).isoformat(),
                                       "to": london_today().isoformat()}


def test_searches_for_a_colleagues_name_are_unusual(app):
    searcher = factories.user(Role.PCSO, name="Sam Searcher")
    colleague = factories.user(Role.PCSO, name="Priya Okafor-Jones")
    factories.user(Role.PCSO, name="Al Bo")  # words under three letters: never matched
    for terms in ({"q": "okafor-jones priya"}, {"q": "Okafor-Jones", "name": "PRIYA"}, {"q": "priya"},
                  {"q": "al bo knife"}, {"q": "sam searcher"}):
        event(AuditAction.SEARCH, actor=searcher, scope="search", terms=terms)
    db.session.commit()
    report = unusual_access(london_today(), london_today())
    assert [(f.actor.id, f.count) for f in report.colleague_searches] == [(searcher.id, 2)]  # not "priya" alone
    assert colleague.display_name in report.colleague_searches[0].title
    assert report.colleague_searches[0].link["action"] == "search"


def test_bursts_of_refusals_are_unusual(app):
    prober, careless = factories.user(Role.PCSO), factories.user(Role.PCSO)
    start = utcnow() - timedelta(hours=3)
    for minute in (0, 1, 2, 3, 4, 12, 13):  # five in four minutes, and it runs on to 13 (gaps under 10)
        event(AuditAction.DENY, actor=prober, object_id=100 + minute, at=start + timedelta(minutes=minute))
    for minute in (0, 20, 40, 60, 80, 100):  # six, but spread out
        event(AuditAction.DENY, actor=careless, object_id=200 + minute, at=start + timedelta(minutes=minute))
    db.session.commit()
    report = unusual_access(london_today() - timedelta(days=1), london_today())
    assert [(f.actor.id, f.count) for f in report.deny_bursts] == [(prober.id, 7)]
    assert report.deny_bursts[0].link["action"] == "deny"


def test_views_at_hours_the_officer_never_works_are_unusual(app):
    officer, newcomer = factories.user(Role.SUPERVISOR), factories.user(Role.SUPERVISOR)
    today = london_today()
    for day in range(1, 26):  # the baseline: 25 days of views at 10:00 London
        moment = london_day_start(today - timedelta(days=day)) + timedelta(hours=10)
        event(actor=officer, object_id=day, at=moment)
    night = london_day_start(today) + timedelta(hours=3, minutes=15)
    morning = london_day_start(today) + timedelta(hours=10, minutes=5)
    event(actor=officer, object_id=1, at=night)
    event(actor=officer, object_id=1, at=morning)
    event(actor=newcomer, object_id=1, at=night)  # no history: nothing to compare with
    db.session.commit()
    report = unusual_access(today, today)
    assert [(f.actor.id, f.count) for f in report.odd_hours] == [(officer.id, 1)]
    assert "03:00" in report.odd_hours[0].title


def test_a_remembered_reason_shows_the_note_it_was_given_with(app):
    supervisor, other = factories.user(Role.SUPERVISOR), factories.user(Role.SUPERVISOR)
    start = utcnow() - timedelta(hours=1)
    given = event(actor=supervisor, object_id=9, at=start, reason="safeguarding", note="MASH ref 77")
    by_ref = event(actor=supervisor, object_id=9, at=start + timedelta(minutes=1), reason="safeguarding",
                   reason_event=given.id)
    reload = event(actor=supervisor, object_id=9, at=start + timedelta(minutes=2), reason="safeguarding")
    elsewhere = event(actor=other, object_id=9, at=start + timedelta(minutes=3), reason="safeguarding")
    changed = event(actor=supervisor, object_id=9, at=start + timedelta(minutes=4), reason="supervision")
    db.session.commit()
    page = event_page(AuditQuery.from_args(MultiDict({"id": "9"}), default_month=False))
    notes = {row.event.id: page.note_for(row.event) for row in page.rows}
    assert notes == {given.id: "MASH ref 77", by_ref.id: "MASH ref 77", reload.id: "MASH ref 77",
                     elsewhere.id: None, changed.id: None}


def test_how_many_records_a_page_showed_is_said_in_words():
    from pcso.audit_viewer.queries import detail_items, listed_summary

    assert listed_summary({"ids": [1, 2], "count": 40}) == "in a list of 40"
    assert listed_summary({"ids": [1, 2], "count": 1}) == "in a list of 2"  # a count below the ids is not believed
    assert listed_summary({"records": {"entry": {"ids": [5], "count": 1}}}) is None  # one record's page
    assert listed_summary({"records": {"entry": {"ids": [5], "count": 1}, "person": {"ids": [1, 2], "count": 2}}}) \
        == "shown with 1 entry, 2 people"
    assert listed_summary({"records": {"entry": {"ids": [5, 6], "count": 2}, "vehicle": {"ids": [1]}}}) \
        == "shown with 2 entries, 1 vehicle"
    assert listed_summary({"records": "nonsense"}) is None and listed_summary(None) is None
    assert detail_items({"records": {}, "terms": {"q": "x" * 300}, "results": 3, "note": "n"}) == [
        ("terms", "q: " + "x" * 116 + "…"), ("results", "3")]


def test_each_kind_of_finding_is_capped_keeping_those_with_most_events(app, monkeypatch):
    from pcso.audit_viewer import unusual

    monkeypatch.setattr(unusual, "MAX_FINDINGS", 1)
    small, big = factories.user(Role.PCSO), factories.user(Role.PCSO)
    start = utcnow() - timedelta(hours=2)
    for who, count in ((small, 5), (big, 8)):
        for n in range(count):
            event(AuditAction.DENY, actor=who, object_id=n + 1, at=start + timedelta(seconds=n))
    db.session.commit()
    report = unusual_access(london_today() - timedelta(days=1), london_today())
    assert [(f.actor.id, f.count) for f in report.deny_bursts] == [(big.id, 8)]
    assert report.capped == ["deny bursts: the 1 with most events of 2 (narrow the dates)"]


def test_postgresql_has_the_details_index_the_lookups_use(app):
    inspector = sa.inspect(db.engine)
    names = {index["name"] for index in inspector.get_indexes("audit_event")}
    if db.engine.dialect.name == "postgresql":  # migration 0017; SQLite cannot index into JSON arrays
        assert "ix_audit_event_details_gin" in names
        clause = names_records("entry", [42])
        sql = str(sa.select(AuditEvent.id).where(clause).compile(dialect=db.engine.dialect))
        assert "CAST(audit_event.details AS JSONB) @>" in sql  # the indexed expression, as the index has it
    else:
        assert "ix_audit_event_details_gin" not in names
