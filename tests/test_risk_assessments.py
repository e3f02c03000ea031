"""Victim risk assessments as records (issue 10, item 5): the initial assessment made with the ASB incident, a
supervisor's reviews from the incident's page, and the dashboard's "risk review due" read from them."""
from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pyotp
import pytest
import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import (
    AsbIncident, AssessmentKind, AuditAction, AuditEvent, EntryStatus, Link, LinkRole, Person, RiskAssessment,
    RiskLevel, Role, SecurityMarking,
)
from pcso.pole.services import merge_people
from pcso.seed.people import DEMO_USERS, demo_totp_secret
from pcso.timeutil import to_london, utcnow
from tests import factories
from tests.factories import signed_in, soup
from tests.test_migrations import blank_app, blank_url, flask_db  # noqa: F401  (fixtures)

OLD_TRAFFORD = factories.OLD_TRAFFORD
POINT = {"lat": "53.464903", "lon": "-2.260757"}

pytestmark = pytest.mark.usefixtures("memoised_hashing")


def today() -> date:
    return to_london(utcnow()).date()


def asb_form(occurred=None, **extra) -> dict:
    when = occurred or utcnow()
    return {"client_key": str(uuid.uuid4()), "occurred_at": to_london(when).strftime("%Y-%m-%dT%H:%M"),
            "summary": "Youths at the door", "marking": "OFFICIAL", **POINT, "accuracy_m": "12",
            "location_source": "gps", "beat_id": "", "nsir_category": "personal", "asb_type": "nuisance_neighbours",
            "description": "Banging on the door at night", "action": "submit"} | extra


def assessments(**where) -> list[RiskAssessment]:
    query = sa.select(RiskAssessment).order_by(RiskAssessment.id)
    for name, value in where.items():
        query = query.where(getattr(RiskAssessment, name) == value)
    return list(db.session.scalars(query))


def creates(object_type="risk_assessment") -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.CREATE,
                                                               AuditEvent.object_type == object_type)))


def dashboard_due(browser) -> int:
    node = soup(browser.get("/dashboard")).select_one("[data-testid=figure-risk-review-due]")
    return int(re.match(r"\d+", node.select_one(".dash-tile__n").get_text(strip=True)).group())


# --- the initial assessment ---------------------------------------------------------------------------

def test_logging_an_incident_with_victims_records_their_initial_assessments(app):
    officer = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    browser = signed_in(app, officer)
    response = browser.post("/asb-incidents/new", data=asb_form(**{
        "people-0-name": "Vic Tim", "people-0-role": "victim", "people-1-name": "Val Tim", "people-1-role": "victim",
        "people-2-name": "Sus Pect", "people-2-role": "suspect", "victim_risk": "high"}))
    assert response.status_code == 302, soup(response).select_one("[data-testid=error-summary]")
    incident = db.session.scalar(sa.select(AsbIncident))
    made = assessments()
    assert sorted(a.person.full_name for a in made) == ["Val Tim", "Vic Tim"]  # victims only
    for a in made:
        assert (a.incident_id, a.kind, a.level, a.assessed_by_id) == (
            incident.id, AssessmentKind.INITIAL, RiskLevel.HIGH, officer.id)
        assert a.assessed_at == incident.occurred_at
        assert a.next_review_on == to_london(incident.occurred_at).date() + timedelta(days=14)
    events = creates()
    assert sorted(e.object_id for e in events) == sorted(a.id for a in made)
    assert all(e.actor_id == officer.id and e.details["kind"] == "initial" for e in events)
    # no victim, no assessment
    browser.post("/asb-incidents/new", data=asb_form(**{"people-0-name": "Wit Ness", "people-0-role": "witness"}))
    assert len(assessments()) == 2


@pytest.mark.parametrize("level, days", [("medium", 28), ("low", None)])
def test_the_next_review_is_28_days_after_medium_and_none_after_low(app, level, days):
    officer = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    signed_in(app, officer).post("/asb-incidents/new", data=asb_form(**{
        "people-0-name": "Vic Tim", "people-0-role": "victim", "victim_risk": level}))
    (made,) = assessments()
    expected = to_london(made.incident.occurred_at).date() + timedelta(days=days) if days else None
    assert (made.level.value, made.next_review_on) == (level, expected)


def test_correcting_a_draft_keeps_its_initial_assessments_in_step(app):
    officer = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    browser = signed_in(app, officer)
    form = asb_form(action="draft", **{"people-0-name": "Vic Tim", "people-0-role": "victim", "victim_risk": "medium"})
    browser.post("/asb-incidents/new", data=form)
    incident_id = db.session.scalar(sa.select(AsbIncident.id))
    (first,) = assessments()
    form["people-0-person_id"] = str(first.person_id)  # as the edit page fills it in
    browser.post(f"/entries/{incident_id}/edit", data=form | {"victim_risk": "high"})
    db.session.expire_all()
    (again,) = assessments()
    assert again.id == first.id and again.level == RiskLevel.HIGH
    assert again.next_review_on == to_london(again.assessed_at).date() + timedelta(days=14)
    # the victim becomes a witness: their initial assessment goes with it
    browser.post(f"/entries/{incident_id}/edit", data=form | {"people-0-role": "witness", "victim_risk": ""})
    db.session.expire_all()
    assert assessments() == []


# --- a supervisor's review ---------------------------------------------------------------------------

@pytest.fixture
def due(app):
    """A high-risk victim assessed 20 days ago (their review fell due 6 days ago) on a PCSO's incident."""
    officer = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    supervisor = factories.user(Role.SUPERVISOR)
    victim = factories.person("Vic Tim")
    incident = factories.asb(officer, OLD_TRAFFORD, occurred_at=utcnow() - timedelta(days=20))
    incident.victim_risk = RiskLevel.HIGH
    incident.links.append(Link(person=victim, role=LinkRole.VICTIM))
    db.session.add(RiskAssessment(incident_id=incident.id, person_id=victim.id, kind=AssessmentKind.INITIAL,
                                  level=RiskLevel.HIGH, assessed_by_id=officer.id, assessed_at=incident.occurred_at,
                                  next_review_on=today() - timedelta(days=6)))
    db.session.commit()
    return officer, supervisor, incident.id, victim.id


def review(browser, incident_id, **data):
    return browser.post(f"/asb-incidents/{incident_id}/risk-reviews", data=data)


def test_supervisor_records_a_review_from_the_incident_page_and_the_victim_is_no_longer_due(app, due):
    officer, supervisor, incident_id, victim_id = due
    browser = signed_in(app, supervisor)
    assert dashboard_due(browser) == 1
    page = soup(browser.get(f"/entries/{incident_id}"))
    form = page.select_one("[data-testid=risk-review-form]")
    assert form is not None and form["action"] == f"/asb-incidents/{incident_id}/risk-reviews"
    assert "next review due" in page.select_one("[data-testid=risk-latest]").get_text()
    response = review(browser, incident_id, person_id=str(victim_id), level="medium",
                      outcome="Visited at home: no incidents since the last one")
    assert response.location == f"/entries/{incident_id}#risk"
    (initial, made) = assessments(person_id=victim_id)
    assert (made.kind, made.level, made.assessed_by_id) == (AssessmentKind.REVIEW, RiskLevel.MEDIUM, supervisor.id)
    assert made.next_review_on == to_london(made.assessed_at).date() + timedelta(days=28)
    assert made.outcome == "Visited at home: no incidents since the last one"
    (event,) = creates()
    assert (event.object_id, event.actor_id, event.details["kind"], event.details["incident_id"]) == (
        made.id, supervisor.id, "review", incident_id)
    assert dashboard_due(browser) == 0
    history = soup(browser.get(f"/entries/{incident_id}")).select_one("[data-testid=risk-history]").get_text(" ")
    assert "Review" in history and supervisor.display_name in history


def test_approving_the_incident_is_not_a_review(app, due):
    officer, supervisor, incident_id, _ = due
    browser = signed_in(app, supervisor)
    response = browser.post(f"/entries/{incident_id}/review", data={"decision": "approve", "comment": ""})
    assert response.status_code in (302, 303), response.status_code
    assert db.session.get(AsbIncident, incident_id).status == EntryStatus.APPROVED
    assert dashboard_due(browser) == 1


@pytest.mark.parametrize("data, field, words", [
    ({"level": "medium", "outcome": ""}, "outcome", "Say what the review found"),
    ({"level": "", "outcome": "Seen"}, "level", "Choose the risk level"),
    ({"level": "severe", "outcome": "Seen"}, "level", "Not a valid choice"),
    ({"level": "low", "outcome": "x" * 2001}, "outcome", "2,000 characters"),
    ({"level": "low", "outcome": "Seen", "person_id": "99999999999999999999"}, "person_id", "Not a valid choice"),
])
def test_a_review_with_a_field_wrong_is_refused_naming_it(app, due, data, field, words):
    officer, supervisor, incident_id, victim_id = due
    response = review(signed_in(app, supervisor), incident_id, **({"person_id": str(victim_id)} | data))
    assert response.status_code == 400
    form = soup(response).select_one("[data-testid=risk-review-form]")
    message = form.select_one(f"#{field}").find_parent(class_="form-group").select_one(".error-message").get_text()
    assert words.lower() in message.lower()
    assert len(assessments()) == 1 and creates() == []


def test_a_pcso_or_analyst_cannot_record_a_review_and_a_pcso_sees_no_form(app, due):
    officer, supervisor, incident_id, victim_id = due
    data = {"person_id": str(victim_id), "level": "low", "outcome": "Fine"}
    for person in (officer, factories.user(Role.ANALYST), factories.user(Role.SAFEGUARDING)):
        db.session.commit()
        assert review(signed_in(app, person), incident_id, **data).status_code == 403
    page = soup(signed_in(app, officer).get(f"/entries/{incident_id}"))
    assert page.select_one("[data-testid=risk-review-form]") is None
    assert page.select_one("[data-testid=risk-history]") is not None  # the author sees the assessments
    assert len(assessments()) == 1


def test_a_review_of_an_incident_the_supervisor_cannot_open_is_404(app, due):
    officer, supervisor, incident_id, victim_id = due
    draft = factories.asb(officer, OLD_TRAFFORD, status=EntryStatus.DRAFT)
    db.session.commit()
    data = {"person_id": str(victim_id), "level": "low", "outcome": "Fine"}
    assert review(signed_in(app, supervisor), draft.id, **data).status_code == 404
    welfare = factories.welfare(officer)
    db.session.commit()
    assert review(signed_in(app, supervisor), welfare.id, **data).status_code == 404  # not an ASB incident
    assert review(signed_in(app, supervisor), 999999, **data).status_code == 404


def test_a_victim_stays_due_however_long_ago_until_reviewed(app, due):
    officer, supervisor, incident_id, victim_id = due
    assessment = assessments()[0]
    assessment.assessed_at = utcnow() - timedelta(days=400)
    assessment.next_review_on = today() - timedelta(days=386)
    db.session.commit()
    assert dashboard_due(signed_in(app, supervisor)) == 1


def test_a_merge_takes_the_assessments_to_the_survivor(app, due):
    officer, supervisor, incident_id, victim_id = due
    keep = factories.person("Victor Tim")
    factories.link(factories.asb(officer, OLD_TRAFFORD), keep, LinkRole.WITNESS)
    db.session.commit()
    merge_people(keep, db.session.get(Person, victim_id), actor=supervisor, reason="Same person")
    db.session.commit()
    assert [a.person_id for a in assessments()] == [keep.id]
    assert dashboard_due(signed_in(app, supervisor)) == 1


# --- the migration and the seed ----------------------------------------------------------------------

def test_the_migration_gives_existing_victims_their_initial_assessments(blank_app):
    from tests.test_migrations import FOUNDATION_ROWS

    flask_db(blank_app, "upgrade", "0001")
    with db.engine.begin() as conn:
        for statement in FOUNDATION_ROWS:
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql("UPDATE asb_incident SET victim_risk = 'high' WHERE id = 1")
    flask_db(blank_app, "upgrade")
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT r.incident_id, p.full_name, r.kind, r.level, r.assessed_by_id, r.next_review_on "
            "FROM risk_assessment r JOIN person p ON p.id = r.person_id")).all()
    # incident 1 (2 Jan 2026, 10:00 London): Sam Smith its victim; Lee Jones is a suspect; incident 2 has no risk
    assert [tuple(str(v) for v in row) for row in rows] == [
        ("1", "Sam Smith", "initial", "high", "1", "2026-01-15")]
    flask_db(blank_app, "downgrade", "0010")
    flask_db(blank_app, "upgrade")


def test_the_demo_has_initial_assessments_reviews_and_victims_due(app):
    from tests.test_seed import seeded

    seeded(app, "--days", "120")
    incidents = list(db.session.scalars(sa.select(AsbIncident).where(AsbIncident.victim_risk.is_not(None))))
    assert incidents
    for incident in incidents:
        victims = {item.person_id for item in incident.links if item.role == LinkRole.VICTIM}
        initial = {a.person_id for a in assessments(incident_id=incident.id, kind=AssessmentKind.INITIAL)}
        assert initial == victims, incident.id
    reviews = assessments(kind=AssessmentKind.REVIEW)
    assert reviews and all(a.outcome and a.assessed_by.role == Role.SUPERVISOR for a in reviews)
    assert all(a.assessed_at <= utcnow() for a in reviews)
    # some victims were reviewed until no more was due; others are due now, on the sergeant's dashboard
    demo = next(d for d in DEMO_USERS if d.role == Role.SUPERVISOR)
    browser = app.test_client()
    response = browser.post("/login", data={"collar_number": demo.collar_number, "password": demo.password})
    assert response.location.startswith("/login/code")  # a supervisor signs in with a code too (seeded enrolled)
    response = browser.post("/login/code", data={"code": pyotp.TOTP(demo_totp_secret(demo.collar_number)).now()})
    assert response.status_code == 302 and response.location == "/"
    assert dashboard_due(browser) >= 1


def test_the_incident_page_shows_no_risk_from_an_incident_the_viewer_may_not_open(app, due):
    """The victim's later assessment is on an OFFICIAL-SENSITIVE incident: a PCSO on the beat sees this
    incident's own assessment as the latest, never the sensitive one's level."""
    officer, supervisor, incident_id, victim_id = due
    colleague = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    sensitive = factories.asb(supervisor, OLD_TRAFFORD, marking=SecurityMarking.OFFICIAL_SENSITIVE)
    db.session.add(RiskAssessment(incident_id=sensitive.id, person_id=victim_id, kind=AssessmentKind.INITIAL,
                                  level=RiskLevel.MEDIUM, assessed_by_id=supervisor.id, assessed_at=utcnow(),
                                  next_review_on=today() + timedelta(days=28)))
    db.session.commit()
    latest = soup(signed_in(app, colleague).get(f"/entries/{incident_id}")).select_one("[data-testid=risk-latest]")
    assert "High risk" in latest.get_text() and "Medium" not in latest.get_text()
    latest = soup(signed_in(app, supervisor).get(f"/entries/{incident_id}")).select_one("[data-testid=risk-latest]")
    assert "Medium risk" in latest.get_text() and "another incident" in latest.get_text()
