"""Models and column types, on every backend: UTC datetimes, enums by value, constraints, cascades."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError
from werkzeug.security import generate_password_hash

from pcso.extensions import db
from pcso.models import user as user_model
from pcso.models import (
    AsbIncident, AuditAction, AuditEvent, Entry, EntryKind, EntryRevision, Link, LinkRole, Person, Role,
    SecurityMarking, User, Vehicle, normalise_vrm,
)
from pcso.models.types import UTCDateTime
from pcso.timeutil import utcnow
from tests import factories

LONDON = ZoneInfo("Europe/London")


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch):
    """factories.user() hashes with scrypt (~0.15 s a user); nothing here tests passwords."""
    monkeypatch.setattr(user_model, "generate_password_hash",
                        lambda password, method=None: generate_password_hash(password, method="pbkdf2:sha256:1"))


def raw(sql: str, **params):
    return db.session.execute(sa.text(sql), params)


# --- UTCDateTime ---------------------------------------------------------------------------------


@pytest.mark.parametrize("written, expected", [
    (datetime(2024, 6, 1, 12, 30, 15, 123456, tzinfo=LONDON), datetime(2024, 6, 1, 11, 30, 15, 123456)),  # BST
    (datetime(2024, 1, 15, 9, 0, tzinfo=LONDON), datetime(2024, 1, 15, 9, 0)),  # GMT
    (datetime(2024, 3, 31, 0, 30, tzinfo=timezone(timedelta(hours=-5))), datetime(2024, 3, 31, 5, 30)),
    (datetime(2024, 10, 27, 1, 30, tzinfo=timezone.utc), datetime(2024, 10, 27, 1, 30)),  # the hour that repeats
])
def test_utc_datetime_round_trips_as_aware_utc(app, written, expected):
    person = factories.user()
    person.created_at = written
    db.session.commit()
    person_id = person.id
    db.session.expunge_all()

    loaded = db.session.get(User, person_id).created_at
    assert loaded == written
    assert loaded.utcoffset() == timedelta(0)
    assert loaded.replace(tzinfo=None) == expected


def test_utc_datetime_stores_utc_in_the_database(app):
    person = factories.user()
    person.created_at = datetime(2024, 6, 1, 12, 0, tzinfo=LONDON)
    db.session.commit()
    stored = raw("SELECT created_at FROM \"user\" WHERE id = :id", id=person.id).scalar()
    if db.engine.dialect.name == "sqlite":
        assert str(stored).startswith("2024-06-01 11:00:00")
    else:
        assert stored == datetime(2024, 6, 1, 11, 0, tzinfo=timezone.utc)


def test_utc_datetime_refuses_naive_datetimes(app):
    person = factories.user()
    person.created_at = datetime(2024, 6, 1, 12, 0)
    with pytest.raises(StatementError, match="naive datetime: store timezone-aware UTC"):
        db.session.flush()
    db.session.rollback()


def test_utc_datetime_refuses_naive_datetimes_in_queries(app):
    with pytest.raises(StatementError, match="naive datetime"):
        db.session.scalars(sa.select(User).where(User.created_at > datetime(2024, 1, 1))).all()
    db.session.rollback()
    assert db.session.scalars(sa.select(User).where(
        User.created_at > datetime(2024, 1, 1, tzinfo=timezone.utc))).all() == []


def test_utc_datetime_passes_none_through(app):
    assert UTCDateTime().process_bind_param(None, db.engine.dialect) is None
    assert UTCDateTime().process_result_value(None, db.engine.dialect) is None
    patrol = factories.patrol(factories.user())
    patrol.ended_at, patrol.submitted_at = None, None
    db.session.commit()
    patrol_id = patrol.id
    db.session.expunge_all()
    loaded = db.session.get(Entry, patrol_id)
    assert loaded.ended_at is None and loaded.submitted_at is None and loaded.is_open


# --- enums ---------------------------------------------------------------------------------------


def test_enums_are_stored_by_value(app):
    author = factories.user(Role.PCSO)
    incident = factories.asb(author, marking=SecurityMarking.OFFICIAL_SENSITIVE)
    db.session.commit()
    row = raw("SELECT kind, marking, status, location_source FROM entry WHERE id = :id", id=incident.id).one()
    assert tuple(row) == ("asb_incident", "OFFICIAL-SENSITIVE", "submitted", "map")
    row = raw("SELECT nsir_category, asb_type, victim_risk FROM asb_incident WHERE id = :id", id=incident.id).one()
    assert tuple(row) == ("nuisance", "rowdy_behaviour", "low")
    assert raw("SELECT role FROM \"user\" WHERE id = :id", id=author.id).scalar() == "pcso"


def test_enums_read_back_as_members(app):
    incident = factories.asb(factories.user(), marking=SecurityMarking.OFFICIAL_SENSITIVE)
    db.session.commit()
    incident_id = incident.id
    db.session.expunge_all()
    loaded = db.session.get(Entry, incident_id)
    assert type(loaded) is AsbIncident
    assert loaded.kind is EntryKind.ASB_INCIDENT and loaded.marking is SecurityMarking.OFFICIAL_SENSITIVE


def test_the_database_refuses_an_unknown_enum_value(app):
    incident = factories.asb(factories.user())
    db.session.commit()
    with pytest.raises(IntegrityError):
        raw("UPDATE entry SET marking = 'SECRET' WHERE id = :id", id=incident.id)
    db.session.rollback()


def test_the_database_keeps_welfare_checks_official_sensitive(app):
    """A CHECK constraint (autogenerate does not compare those, so the migration test can't see it)."""
    author = factories.user()
    check = factories.welfare(author)
    incident = factories.asb(author, marking=SecurityMarking.OFFICIAL_SENSITIVE)
    db.session.commit()
    raw("UPDATE entry SET marking = 'OFFICIAL' WHERE id = :id", id=incident.id)  # allowed for other kinds
    with pytest.raises(IntegrityError, match="(?i)welfare_is_sensitive|check constraint"):
        raw("UPDATE entry SET marking = 'OFFICIAL' WHERE id = :id", id=check.id)
    db.session.rollback()


def test_an_unknown_enum_value_is_refused_before_the_database(app):
    person = factories.user()
    person.role = "chief"
    with pytest.raises(StatementError, match="chief"):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("role, label", [(Role.PCSO, "PCSO"), (Role.SUPERVISOR, "Supervisor"),
                                         (Role.ANALYST, "Analyst"), (Role.SAFEGUARDING, "Safeguarding lead"),
                                         (Role.ADMIN, "Admin"), (Role.AUDITOR, "Auditor")])
def test_role_labels(role, label):
    assert role.label == label


def test_every_role_has_a_label():
    assert [r.value for r in Role] == ["pcso", "supervisor", "analyst", "safeguarding", "admin", "auditor"]
    assert all(r.label and r.label != r.value for r in Role)


# --- vehicle registrations -----------------------------------------------------------------------


@pytest.mark.parametrize("typed, stored", [
    ("ab12 cde", "AB12CDE"), ("AB-12 CDE", "AB12CDE"), ("AB12CDE", "AB12CDE"), ("  a b 1 2 c d e ", "AB12CDE"),
    ("ab12.cde", "AB12CDE"), ("AB12\tCDE\n", "AB12CDE"), ("h 1", "H1"), ("", ""), (None, ""),
])
def test_normalise_vrm(typed, stored):
    assert normalise_vrm(typed) == stored


# --- the client-key constraint -------------------------------------------------------------------


def _insert_entry(author: User, client_key: str):
    beat = factories.beat()
    db.session.execute(sa.insert(Entry.__table__).values(
        kind=EntryKind.ASB_INCIDENT, author_id=author.id, beat_id=beat.id, occurred_at=utcnow(),
        summary="Direct insert", client_key=client_key, review_due=utcnow().date()))


def test_client_key_is_unique_per_author_in_the_database(app):
    first, second = factories.user(), factories.user()
    _insert_entry(first, "retry-key-0001")
    _insert_entry(second, "retry-key-0001")  # another author may use the same key
    db.session.commit()
    with pytest.raises(IntegrityError, match="(?i)unique|duplicate"):
        _insert_entry(first, "retry-key-0001")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Entry.id))) == 2


def test_client_key_constraint_also_holds_through_the_orm(app):
    author = factories.user()
    factories.asb(author)
    duplicate = factories.asb(author)
    db.session.commit()
    duplicate_key = db.session.scalar(sa.select(Entry.client_key).where(Entry.id != duplicate.id))
    duplicate.client_key = duplicate_key
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# --- cascades ------------------------------------------------------------------------------------


def _incident_with_children() -> AsbIncident:
    author = factories.user()
    incident = factories.asb(author)
    incident.links = [
        Link(person=Person(full_name="Sam Smith", name_key="sam smith"), role=LinkRole.VICTIM, position=0),
        Link(person=Person(full_name="Jo Bloggs", name_key="jo bloggs"), role=LinkRole.WITNESS, position=1),
        Link(vehicle=Vehicle(vrm="AB12CDE"), role=LinkRole.MENTIONED, position=100)]
    db.session.add(EntryRevision(entry_id=incident.id, actor_id=author.id, action="created", changes={}))
    db.session.add(EntryRevision(entry_id=incident.id, actor_id=author.id, action="updated", changes={}))
    db.session.commit()
    return incident


def _child_counts(entry_id: int) -> dict[str, int]:
    return {
        "entry": raw("SELECT count(*) FROM entry WHERE id = :id", id=entry_id).scalar(),
        "asb_incident": raw("SELECT count(*) FROM asb_incident WHERE id = :id", id=entry_id).scalar(),
        "link": raw("SELECT count(*) FROM link WHERE entry_id = :id", id=entry_id).scalar(),
        "entry_revision": raw("SELECT count(*) FROM entry_revision WHERE entry_id = :id", id=entry_id).scalar(),
    }


def test_deleting_an_entry_through_the_orm_deletes_its_children(app):
    incident = _incident_with_children()
    entry_id = incident.id
    assert _child_counts(entry_id) == {"entry": 1, "asb_incident": 1, "link": 3,
                                       "entry_revision": 2}
    db.session.delete(incident)
    db.session.commit()
    assert set(_child_counts(entry_id).values()) == {0}


def test_deleting_an_entry_row_cascades_in_the_database(app):
    incident = _incident_with_children()
    entry_id = incident.id
    db.session.expunge_all()
    raw("DELETE FROM entry WHERE id = :id", id=entry_id)
    db.session.commit()
    assert set(_child_counts(entry_id).values()) == {0}


def test_deleting_a_user_removes_their_beat_assignments(app):
    officer = factories.user(beats=["E05015253", "E05015247"])
    db.session.commit()
    officer_id = officer.id
    assert raw("SELECT count(*) FROM beat_assignment WHERE user_id = :id", id=officer_id).scalar() == 2
    db.session.expunge_all()
    raw("DELETE FROM \"user\" WHERE id = :id", id=officer_id)
    db.session.commit()
    assert raw("SELECT count(*) FROM beat_assignment WHERE user_id = :id", id=officer_id).scalar() == 0


def test_an_entry_needs_an_existing_beat(app):
    author = factories.user()
    with pytest.raises(IntegrityError):
        db.session.execute(sa.insert(Entry.__table__).values(
            kind=EntryKind.ASB_INCIDENT, author_id=author.id, beat_id=999_999, occurred_at=utcnow(),
            summary="No such beat", client_key="no-beat-0001"))
    db.session.rollback()


def test_audit_event_defaults(app):
    event = AuditEvent(action=AuditAction.VIEW, object_type="entry", object_id=1)
    db.session.add(event)
    db.session.commit()
    event_id = event.id
    db.session.expunge_all()
    loaded = db.session.get(AuditEvent, event_id)
    assert loaded.details == {} and loaded.actor_id is None
    assert abs(loaded.at - utcnow()) < timedelta(minutes=1)
