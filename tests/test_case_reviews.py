"""ASB Case Review: the rules (threshold per area, working days), the services' steps, and their audit."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from pcso.case_reviews import rules as cr_rules
from pcso.case_reviews.queries import case_review_counts, overdue
from pcso.case_reviews.rules import CaseReviewRulesError, load_rules
from pcso.case_reviews.services import (
    ApplicationInput, CaseReviewNotFound, CaseReviewRejected, ReviewInput, decide_appeal, decide_threshold,
    record_appeal, record_application, record_informed, record_review, update_recommendation,
)
from pcso.extensions import db
from pcso.models import (
    AppealOutcome, ApplicantType, AuditAction, AuditEvent, CaseReview, CaseReviewState, LinkRole,
    RecommendationStatus, Role,
)
from pcso.timeutil import london_today, utcnow
from tests import factories

BEAT, OTHER = "E05015247", "E05015253"
S = CaseReviewState


def complaints(author, victim, days_ago=(10, 20, 30), beat=BEAT, late=()):
    """ASB incidents `days_ago`, the victim linked; those in `late` recorded 40 days after they happened."""
    made = []
    for n in days_ago:
        occurred = utcnow() - timedelta(days=n)
        incident = factories.asb(author, beat_code=beat, occurred_at=occurred,
                                 recorded_at=occurred + timedelta(days=40 if n in late else 0))
        factories.link(incident, victim, LinkRole.VICTIM)
        made.append(incident)
    return made


@pytest.fixture
def world(app):
    pcso = factories.user(Role.PCSO, beats=[BEAT])
    sergeant = factories.user(Role.SUPERVISOR, beats=[BEAT])
    victim = factories.person("Vera Victim")
    incidents = complaints(pcso, victim)
    db.session.commit()
    return pcso, sergeant, victim, incidents


def apply(actor, victim, incidents, **kw):
    data = ApplicationInput(victim.id, kw.pop("beat_id", factories.beat(BEAT).id), kw.pop("received_on", london_today()),
                            [i.id for i in incidents], **kw)
    return record_application(data, actor=actor)


@pytest.fixture
def rules_file(app, tmp_path):
    """Point the app at a rules file of the test's own; put the defaults back after."""
    def use(text: str):
        path = tmp_path / "case_review.toml"
        path.write_text(text, encoding="utf-8")
        app.config["CASE_REVIEW_RULES_FILE"] = str(path)
        app.extensions.pop(cr_rules.EXTENSION, None)
        return cr_rules.current_rules()
    yield use
    app.config["CASE_REVIEW_RULES_FILE"] = ""
    app.extensions.pop(cr_rules.EXTENSION, None)


FORCE = """[force]
threshold = 3
window_months = 6
complaint_within_months = 1
threshold_decision_working_days = 10
review_outcome_working_days = 25
outcome_informed_working_days = 5
appeal_decision_working_days = 20
"""


# --- rules ----------------------------------------------------------------------------------------------

def test_working_days_skip_weekends_and_bank_holidays():
    rules = load_rules()
    assert rules.force.threshold == 3 and rules.force.threshold_decision_working_days == 10
    # Fri 4 Dec 2026 + 10 working days: Fri 18 Dec (two weekends)
    assert rules.add_working_days(date(2026, 12, 4), 10) == date(2026, 12, 18)
    # Thu 17 Dec 2026 + 10: Christmas Day (Fri 25) and Boxing Day's substitute (Mon 28) and New Year's Day skipped
    assert rules.add_working_days(date(2026, 12, 17), 10) == date(2027, 1, 5)
    # Thu 2 Apr 2026 + 1: Good Friday and Easter Monday skipped -> Tue 7 Apr
    assert rules.add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)
    # received on a Saturday: the count starts on Monday
    assert rules.add_working_days(date(2026, 12, 5), 1) == date(2026, 12, 7)


def test_a_threshold_above_three_is_refused(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(FORCE.replace("threshold = 3", "threshold = 4"))
    with pytest.raises(CaseReviewRulesError, match="above 3"):
        load_rules(path)
    path.write_text(FORCE + "\n[beats.E05015247]\nthreshold = 0\n")
    with pytest.raises(CaseReviewRulesError, match="beats.E05015247.*at least 1"):
        load_rules(path)
    path.write_text(FORCE + "colour = 'red'\n")
    with pytest.raises(CaseReviewRulesError, match="unknown keys"):
        load_rules(path)


def test_a_beat_override_changes_only_what_it_names(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(FORCE + "\n[beats.E05015247]\nthreshold = 2\nsource = 'Local procedure'\n")
    rules = load_rules(path)
    assert rules.for_beat(BEAT).threshold == 2 and rules.for_beat(BEAT).window_months == 6
    assert rules.for_beat(OTHER).threshold == 3 and rules.lowest_threshold == 2


# --- recording an application ----------------------------------------------------------------------------

def test_an_application_at_the_threshold_is_received_with_its_due_date(world):
    pcso, _, victim, incidents = world
    review = apply(pcso, victim, incidents)
    assert review.state == S.RECEIVED and review.qualifying == 3 and review.threshold == 3
    assert review.threshold_due_on == cr_rules.current_rules().add_working_days(london_today(), 10)
    assert all(link.qualifies for link in review.incidents)
    (event,) = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.object_type == "case_review")).all()
    assert (event.action, event.object_id, event.actor_id) == (AuditAction.CREATE, review.id, pcso.id)
    assert event.details["incident_ids"] == sorted(i.id for i in incidents) and event.details["victim_id"] == victim.id
    assert "Vera" not in str(event.details)


def test_below_the_threshold_it_is_decided_not_met_with_the_reason_for_the_applicant(world):
    pcso, _, victim, incidents = world
    old = complaints(pcso, victim, days_ago=(200,))
    late = complaints(pcso, victim, days_ago=(50,), late=(50,))
    review = apply(pcso, victim, [incidents[0], *old, *late])
    assert review.state == S.THRESHOLD_NOT_MET and review.qualifying == 1 and review.is_threshold_met is False
    assert review.threshold_decided_by_id == pcso.id
    assert "1 qualifying complaint about anti-social behaviour in the 6 months" in review.threshold_reason
    assert "the threshold in this area is 3" in review.threshold_reason
    assert "more than 6 months before the application" in review.threshold_reason
    assert "reported more than 1 month(s) after the behaviour" in review.threshold_reason
    assert review.due_steps() == [("Tell the applicant the threshold decision", review.threshold_due_on)]


def test_the_threshold_is_the_beats_own(world, rules_file):
    pcso, _, victim, incidents = world
    rules_file(FORCE + "\n[beats.E05015247]\nthreshold = 2\n")
    assert apply(pcso, victim, incidents[:2]).state == S.RECEIVED
    other = factories.user(Role.SUPERVISOR)
    elsewhere = apply(other, victim, incidents[:2], beat_id=factories.beat(OTHER).id)
    assert elsewhere.state == S.THRESHOLD_NOT_MET and elsewhere.threshold == 3


def test_a_pcso_records_only_for_their_beats_and_the_incidents_they_can_see(world):
    pcso, _, victim, incidents = world
    with pytest.raises(CaseReviewRejected) as refused:
        apply(pcso, victim, incidents, beat_id=factories.beat(OTHER).id)
    assert refused.value.field == "beat_id"
    hidden = complaints(factories.user(Role.PCSO, beats=[OTHER]), victim, days_ago=(5,), beat=OTHER)
    with pytest.raises(CaseReviewRejected) as refused:
        apply(pcso, victim, [*incidents, *hidden])
    assert refused.value.field == "incident_ids"
    stranger = factories.person("Not A Victim Here")
    with pytest.raises(CaseReviewNotFound):
        apply(pcso, stranger, incidents)


def test_on_behalf_needs_a_name_and_the_date_cannot_be_in_the_future(world):
    pcso, _, victim, incidents = world
    with pytest.raises(CaseReviewRejected, match="name of the person applying"):
        apply(pcso, victim, incidents, applicant_type=ApplicantType.ON_BEHALF)
    with pytest.raises(CaseReviewRejected, match="future"):
        apply(pcso, victim, incidents, received_on=london_today() + timedelta(days=1))
    review = apply(pcso, victim, incidents, applicant_type=ApplicantType.ON_BEHALF, applicant_name="Pat Parent",
                   applicant_relationship="mother")
    assert (review.applicant_name, review.applicant_relationship) == ("Pat Parent", "mother")


def test_an_application_needs_a_real_beat_and_a_date_since_the_case_review_began(world):
    _, sergeant, victim, incidents = world  # a supervisor may choose any beat: one that exists
    with pytest.raises(CaseReviewRejected) as refused:
        apply(sergeant, victim, incidents, beat_id=987654)
    assert refused.value.field == "beat_id"
    for day in (date(2014, 10, 19), date(1, 1, 1)):  # no date arithmetic on year 1 (it would overflow)
        with pytest.raises(CaseReviewRejected, match="20 October 2014") as refused:
            apply(sergeant, victim, incidents, received_on=day)
        assert refused.value.field == "received_on"
    assert apply(sergeant, victim, incidents, received_on=date(2014, 10, 20)).state == S.THRESHOLD_NOT_MET


# --- the steps ------------------------------------------------------------------------------------------

def test_from_application_to_outcome_each_step_audited(world):
    pcso, sergeant, victim, incidents = world
    review = apply(pcso, victim, incidents)
    with pytest.raises(PermissionError):
        decide_threshold(review, True, None, None, actor=pcso)
    decide_threshold(review, True, None, None, actor=sergeant)
    assert review.state == S.THRESHOLD_MET and review.review_due_on is not None
    assert [text for text, _ in review.due_steps()] == ["Tell the applicant the threshold decision",
                                                       "Review held and outcome agreed"]
    record_informed(review, "threshold", london_today(), actor=sergeant)
    record_review(review, ReviewInput(london_today(), "Police; Trafford Council ASB team", "Action plan agreed",
                                      [("Mediation with neighbours", "Council ASB team")]), actor=sergeant)
    assert review.state == S.REVIEWED and review.recommendations[0].status == RecommendationStatus.OPEN
    update_recommendation(review, review.recommendations[0].id, RecommendationStatus.DONE, actor=sergeant)
    record_informed(review, "outcome", london_today(), actor=sergeant)
    assert review.state == S.CLOSED and review.due_steps() == []
    steps = db.session.scalars(sa.select(AuditEvent.details["step"].as_string()).where(
        AuditEvent.object_type == "case_review", AuditEvent.object_id == review.id).order_by(AuditEvent.id)).all()
    assert steps == ["application", "threshold", "informed_threshold", "review", "recommendation", "informed_outcome"]


def test_met_is_refused_below_the_threshold_and_not_met_needs_a_reason(world):
    pcso, sergeant, victim, incidents = world
    review = apply(pcso, victim, incidents)
    with pytest.raises(CaseReviewRejected, match="applicant is told the reason"):
        decide_threshold(review, False, "  ", None, actor=sergeant)
    review.qualifying = 2  # e.g. a complaint found not to be about ASB
    with pytest.raises(CaseReviewRejected, match="threshold of 3 is not met"):
        decide_threshold(review, True, None, None, actor=sergeant)
    decide_threshold(review, False, "One complaint was about parking, not ASB", london_today(), actor=sergeant)
    assert review.state == S.THRESHOLD_NOT_MET and review.due_steps() == []
    with pytest.raises(CaseReviewRejected, match="already"):
        decide_threshold(review, True, None, None, actor=sergeant)


def test_an_upheld_appeal_against_the_threshold_makes_a_review_due(world):
    pcso, sergeant, victim, incidents = world
    review = apply(pcso, victim, incidents[:1])
    record_appeal(review, london_today(), "Two more complaints were made by phone", actor=sergeant)
    assert review.state == S.APPEALED and review.appeal_due_on > london_today()
    decide_appeal(review, AppealOutcome.UPHELD, london_today(), "Phone complaints found", actor=sergeant)
    assert review.state == S.THRESHOLD_MET and review.is_threshold_met and review.review_due_on
    other = apply(pcso, victim, incidents[:1])
    record_appeal(other, london_today(), "Disagree", actor=sergeant)
    decide_appeal(other, AppealOutcome.NOT_UPHELD, london_today(), "", actor=sergeant)
    assert other.state == S.CLOSED


def test_overdue_in_sql_matches_the_model(world):
    pcso, sergeant, victim, incidents = world
    today = london_today()
    long_ago = today - timedelta(days=60)
    older = complaints(pcso, victim, days_ago=(70, 80, 90))  # before the applications of 60 days ago
    made = [apply(pcso, victim, older, received_on=long_ago),  # received, threshold decision overdue
            apply(pcso, victim, incidents),  # received, in time
            apply(pcso, victim, incidents[:1], received_on=long_ago)]  # not met, applicant not told: overdue
    told = apply(pcso, victim, incidents[:1], received_on=long_ago)
    record_informed(told, "threshold", today, actor=sergeant)  # not met and told: nothing due
    met = apply(pcso, victim, incidents)
    decide_threshold(met, True, None, today, actor=sergeant)
    met.review_due_on = today - timedelta(days=1)  # the review is late
    db.session.flush()
    made += [told, met]
    in_sql = set(db.session.scalars(sa.select(CaseReview.id).where(overdue(today))))
    assert in_sql == {r.id for r in made if r.is_overdue(today)} == {made[0].id, made[2].id, met.id}
    counts = case_review_counts(sergeant, None, today)
    assert made[0].state == S.RECEIVED
    assert counts.overdue == 3 and counts.by_state[S.RECEIVED] == 2 and counts.by_state[S.THRESHOLD_NOT_MET] == 2
    assert counts.by_state[S.THRESHOLD_MET] == 1 and counts.total == 5 and counts.open == 3
    assert case_review_counts(factories.user(Role.PCSO, beats=[OTHER]), None, today).total == 0
