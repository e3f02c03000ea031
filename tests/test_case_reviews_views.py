"""ASB Case Review pages: who may open and change what (404 for others), the forms' errors, the audit of views."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, CaseReview, CaseReviewState, Role
from pcso.timeutil import london_today
from tests import factories
from tests.factories import signed_in, soup
from tests.test_case_reviews import BEAT, FORCE, OTHER, complaints, rules_file  # noqa: F401 (a fixture)

S = CaseReviewState


def officers_and_a_victim():
    """A PCSO and a sergeant of the beat, an analyst, a PCSO of another beat, a safeguarding lead; a victim with
    three complaints the PCSO recorded (the pages' tests and the API's, tests/api/test_case_reviews.py)."""
    people = {"pcso": factories.user(Role.PCSO, beats=[BEAT]), "sergeant": factories.user(Role.SUPERVISOR, beats=[BEAT]),
              "analyst": factories.user(Role.ANALYST), "other_pcso": factories.user(Role.PCSO, beats=[OTHER]),
              "safeguarding": factories.user(Role.SAFEGUARDING)}
    victim = factories.person("Vera Victim")
    incidents = complaints(people["pcso"], victim)
    db.session.commit()
    return people, victim, incidents


@pytest.fixture
def world(app):
    return officers_and_a_victim()


def form(victim, incidents, **extra):
    data = {"victim_id": str(victim.id), "received_on": london_today().isoformat(),
            "beat_id": str(factories.beat(BEAT).id), "applicant_type": "victim",
            "incident_ids": [str(i.id) for i in incidents]}
    data.update(extra)
    return data


def last_view() -> AuditEvent:
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.VIEW)
                              .order_by(AuditEvent.id.desc())).first()


def test_pcso_can_record_an_application_for_a_victim_on_their_beat(app, world):
    people, victim, incidents = world
    browser = signed_in(app, people["pcso"])
    page = browser.get(f"/case-reviews/new?person={victim.id}")
    assert page.status_code == 200
    assert len(soup(page).select("[data-testid=incident-checks] li")) == 3
    event = last_view()
    assert event.details["records"]["person"]["ids"] == [victim.id]
    assert sorted(event.details["records"]["entry"]["ids"]) == sorted(i.id for i in incidents)
    response = browser.post("/case-reviews", data=form(victim, incidents))
    review = db.session.scalars(sa.select(CaseReview)).one()
    assert response.status_code == 302 and response.location == f"/case-reviews/{review.id}"
    assert review.state == S.RECEIVED and review.recorded_by_id == people["pcso"].id
    detail = soup(browser.get(response.location))
    assert detail.select_one("[data-testid=state]").get_text(strip=True) == S.RECEIVED.label
    assert not detail.select("[data-testid=threshold-form]")  # a PCSO does not decide
    timeline = [li.get_text(" ", strip=True) for li in detail.select("[data-testid=timeline] li")]
    assert timeline[0].endswith("Application received") and "threshold decision" in timeline[-1]
    event = last_view()
    assert event.details["context"] == "case_reviews.detail" and event.details["case_review"] == review.id
    assert event.details["records"]["person"]["ids"] == [victim.id]


def test_the_pcso_cannot_decide_and_others_get_404(app, world):
    people, victim, incidents = world
    signed_in(app, people["pcso"]).post("/case-reviews", data=form(victim, incidents))
    review_id = db.session.scalar(sa.select(CaseReview.id))
    pcso = signed_in(app, people["pcso"])
    assert pcso.post(f"/case-reviews/{review_id}/threshold-decision",
                     data={"threshold-decision": "met"}).status_code == 403
    other = signed_in(app, people["other_pcso"])
    assert other.get(f"/case-reviews/{review_id}").status_code == 404
    assert other.get(f"/case-reviews/{review_id + 1000}").status_code == 404
    assert other.get(f"/case-reviews/new?person={victim.id}").status_code == 404  # the victim is not theirs to see
    assert other.post("/case-reviews", data=form(victim, incidents)).status_code == 404
    assert not soup(other.get("/case-reviews")).select("[data-case-review-id]")
    assert signed_in(app, people["safeguarding"]).get("/case-reviews").status_code == 403
    assert signed_in(app, people["analyst"]).get(f"/case-reviews/{review_id}").status_code == 200


def test_a_pcso_cannot_record_for_another_beat(app, world):
    people, victim, incidents = world
    response = signed_in(app, people["pcso"]).post(
        "/case-reviews", data=form(victim, incidents, beat_id=str(factories.beat(OTHER).id)))
    assert response.status_code == 400  # not one of the beat choices offered to them
    assert not db.session.scalars(sa.select(CaseReview)).all()


def test_bad_input_is_a_400_with_a_message_never_a_500(app, world):
    people, victim, incidents = world
    browser = signed_in(app, people["sergeant"])
    for bad, message in (({"received_on": "31/31/2026"}, "Not a valid date value."),
                         ({"incident_ids": []}, "Choose the complaints"),
                         ({"incident_ids": ["99999999999"]}, "Not a valid choice"),
                         ({"applicant_type": "on_behalf"}, "Enter the name of the person applying"),
                         ({"received_on": (london_today() + timedelta(days=3)).isoformat()}, "can't be in the future")):
        page = browser.post("/case-reviews", data=form(victim, incidents, **bad))
        assert page.status_code == 400, bad
        assert message.lower() in soup(page).select_one("[data-testid=error-summary]").get_text().lower(), bad
    assert browser.get("/case-reviews/new?person=abc").status_code == 404
    assert browser.get("/case-reviews?state=nonsense").status_code == 400
    assert not db.session.scalars(sa.select(CaseReview)).all()


def test_a_supervisor_takes_it_from_threshold_to_closed(app, world):
    people, victim, incidents = world
    browser = signed_in(app, people["sergeant"])
    browser.post("/case-reviews", data=form(victim, incidents))
    review_id = db.session.scalar(sa.select(CaseReview.id))
    base = f"/case-reviews/{review_id}"
    refused = browser.post(f"{base}/threshold-decision", data={"threshold-decision": "not_met"})
    assert refused.status_code == 400
    assert "applicant is told the reason" in soup(refused).select_one("[data-testid=error-summary]").get_text()
    today = london_today().isoformat()
    assert browser.post(f"{base}/threshold-decision", data={"threshold-decision": "met",
                                                            "threshold-informed_on": today}).status_code == 302
    assert browser.post(f"{base}/review", data={"review-meeting_on": today, "review-agencies": "Police; Council",
                                                "review-outcome": "Plan agreed",
                                                "review-recommendation_1": "Mediation"}).status_code == 400  # no owner
    assert browser.post(f"{base}/review", data={"review-meeting_on": today, "review-agencies": "Police; Council",
                                                "review-outcome": "Plan agreed", "review-recommendation_1": "Mediation",
                                                "review-owner_1": "Council ASB team"}).status_code == 302
    review = db.session.get(CaseReview, review_id)
    rec = review.recommendations[0]
    assert browser.post(f"{base}/recommendations/{rec.id}", data={"status": "in_progress"}).status_code == 302
    assert browser.post(f"{base}/recommendations/{rec.id + 99}", data={"status": "done"}).status_code == 404
    assert browser.post(f"{base}/applicant-informed", data={"informed-stage": "outcome",
                                                            "informed-informed_on": today}).status_code == 302
    db.session.expire_all()
    review = db.session.get(CaseReview, review_id)
    assert review.state == S.CLOSED and review.recommendations[0].status.value == "in_progress"
    page = soup(browser.get(base))
    assert page.select_one("[data-testid=appeal-form]")  # an appeal may follow
    updates = db.session.scalars(sa.select(AuditEvent.details["step"].as_string()).where(
        AuditEvent.object_type == "case_review", AuditEvent.action == AuditAction.UPDATE)
        .order_by(AuditEvent.id)).all()
    assert updates == ["threshold", "review", "recommendation", "informed_outcome"]


def test_the_list_filters_by_state_beat_and_overdue(app, world):
    people, victim, incidents = world
    sergeant = signed_in(app, people["sergeant"])
    sergeant.post("/case-reviews", data=form(victim, incidents))
    sergeant.post("/case-reviews", data=form(victim, incidents[:1]))
    late = db.session.scalars(sa.select(CaseReview).order_by(CaseReview.id)).first()
    late.threshold_due_on = london_today() - timedelta(days=1)
    db.session.commit()

    def ids(query=""):
        return [int(a["data-case-review-id"]) for a in soup(sergeant.get(f"/case-reviews{query}")).select(
            "[data-case-review-id]")]
    assert len(ids()) == 2
    assert ids("?state=threshold_not_met") == [late.id + 1]
    assert ids("?overdue=1") == [late.id]
    assert ids(f"?beat={factories.beat(OTHER).id}") == []
    event = last_view()
    assert event.details["context"] == "case_reviews.index"


# --- the dashboard ---------------------------------------------------------------------------------------

def test_the_dashboard_counts_applications_by_state_and_overdue(app, world):
    people, victim, incidents = world
    sergeant = signed_in(app, people["sergeant"])
    for chosen in (incidents, incidents, incidents[:1]):
        sergeant.post("/case-reviews", data=form(victim, incidents=chosen))
    first, second, _ = db.session.scalars(sa.select(CaseReview).order_by(CaseReview.id)).all()
    first.threshold_due_on = london_today() - timedelta(days=1)  # overdue
    db.session.commit()
    today = london_today().isoformat()
    sergeant.post(f"/case-reviews/{second.id}/threshold-decision",
                  data={"threshold-decision": "met", "threshold-informed_on": today})
    page = soup(sergeant.get("/dashboard"))

    def n(name):
        return int(page.select_one(f"[data-testid=case-reviews-{name}]")["data-cr-count"])
    assert (n("received"), n("threshold-met"), n("threshold-not-met"), n("overdue"), n("closed")) == (1, 1, 1, 1, 0)
    link = page.select_one("[data-testid=case-reviews-overdue]")["href"]
    listed = soup(sergeant.get(link)).select("[data-case-review-id]")
    assert [int(a["data-case-review-id"]) for a in listed] == [first.id]
    # a PCSO of another beat sees none of them
    other = soup(signed_in(app, people["other_pcso"]).get("/dashboard"))
    assert int(other.select_one("[data-testid=case-reviews-received]")["data-cr-count"]) == 0


def test_eligibility_on_the_dashboard_uses_the_areas_threshold(app, world, rules_file):
    people, victim, incidents = world
    pair = factories.person("Pat Pair")
    complaints(people["pcso"], pair, days_ago=(3, 4))
    db.session.commit()
    browser = signed_in(app, people["pcso"])

    def eligible():
        page = soup(browser.get("/dashboard"))
        return {a.get_text(strip=True) for a in page.select("[data-testid=case-review] li[data-person-id] > a")}
    assert eligible() == {"Vera Victim"}  # default: 3 complaints
    rules_file(FORCE + "\n[beats.E05015247]\nthreshold = 2\n")
    assert eligible() == {"Vera Victim", "Pat Pair"}
    page = soup(browser.get("/dashboard"))
    assert "(some beats differ)" in page.select_one("#case-review").get_text()
    record = page.select_one(f"[data-testid=case-review] li[data-person-id='{pair.id}'] [data-testid=record-application]")
    assert record["href"] == f"/case-reviews/new?person={pair.id}"


def test_a_victim_already_applying_is_not_offered_again_until_a_new_complaint_after_a_decision(app, world):
    people, victim, incidents = world
    browser = signed_in(app, people["sergeant"])

    def eligible():
        page = soup(browser.get("/dashboard"))
        return {a.get_text(strip=True) for a in page.select("[data-testid=case-review] li[data-person-id] > a")}

    def on_the_choose_page():
        return "Vera Victim" in soup(browser.get("/case-reviews/new")).get_text()
    assert eligible() == {"Vera Victim"} and on_the_choose_page()
    browser.post("/case-reviews", data=form(victim, incidents))
    review = db.session.scalars(sa.select(CaseReview)).one()
    assert review.state == S.RECEIVED
    assert eligible() == set() and not on_the_choose_page()  # applying already: not asked to apply again
    review.state = S.CLOSED  # decided: the same complaints don't make a second application
    review.received_on = london_today() - timedelta(days=1)
    db.session.commit()
    assert eligible() == set()
    complaints(people["pcso"], victim, days_ago=(0,))  # a complaint recorded since: may ask again
    db.session.commit()
    assert eligible() == {"Vera Victim"} and on_the_choose_page()
