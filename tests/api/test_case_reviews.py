"""ASB Case Reviews through /api/v1: the pages' visibility and permissions, each step, the audit, idempotency.

The rules themselves (thresholds, working days, each step's checks) are tested in tests/test_case_reviews.py;
here: that the API reaches them, answers their refusals as problems (never a 500), and shows only what the
pages would show.
"""
from __future__ import annotations

from datetime import date, timedelta

import jsonschema
import pytest
import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, CaseReview, CaseReviewState, Role, TokenScope
from pcso.timeutil import london_today
from tests import factories
from tests.api.helpers import bearer, key, problem, token
from tests.test_case_reviews import BEAT, OTHER
from tests.test_case_reviews_views import officers_and_a_victim

S = CaseReviewState
URL = "/api/v1/case-reviews"


@pytest.fixture
def world(app):
    people, victim, incidents = officers_and_a_victim()
    secrets = {name: token(person) for name, person in people.items()}
    return people, secrets, victim, incidents


def application(victim, incidents, **extra) -> dict:
    return {"victim_id": victim.id, "beat_id": factories.beat(BEAT).id, "received_on": london_today().isoformat(),
            "incident_ids": [i.id for i in incidents], **extra}


def post(app, secret, url, body, idempotency_key=None, **headers):
    return app.test_client().post(url, json=body, headers=bearer(secret, **{"Idempotency-Key": idempotency_key or key()},
                                                                 **headers))


def get(app, secret, url, **headers):
    return app.test_client().get(url, headers=bearer(secret, **headers))


def recorded(app, world) -> dict:
    _, secrets, victim, incidents = world
    response = post(app, secrets["pcso"], URL, application(victim, incidents))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def events_after(event_id: int, action: AuditAction | None = None) -> list[AuditEvent]:
    query = sa.select(AuditEvent).where(AuditEvent.id > event_id).order_by(AuditEvent.id)
    return list(db.session.scalars(query.where(AuditEvent.action == action) if action else query))


def last_event_id() -> int:
    return db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0


def conforms(app, body: dict, name: str) -> None:
    """The answer is what the OpenAPI document says it is."""
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    jsonschema.validate(body, {"$ref": f"#/components/schemas/{name}", "components": spec["components"]},
                        cls=jsonschema.Draft202012Validator)


def test_pcso_can_record_an_application_and_it_is_audited_with_ids_only(app, world):
    people, secrets, victim, incidents = world
    before = last_event_id()
    response = post(app, secrets["pcso"], URL, application(victim, incidents))
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"{URL}/{body['id']}" and response.headers["ETag"]
    assert body["state"] == "received" and body["qualifying"] == 3 and body["threshold"] == 3
    assert body["victim"] == {"id": victim.id, "full_name": "Vera Victim"} and body["may_decide"] is False
    assert sorted(i["entry"]["id"] for i in body["incidents"]) == sorted(i.id for i in incidents)
    assert body["due_steps"][0]["step"].startswith("Threshold decision") and body["timeline"][0]["done"] is True
    conforms(app, body, "CaseReview")
    review = db.session.get(CaseReview, body["id"])
    assert review.recorded_by_id == people["pcso"].id and review.state == S.RECEIVED
    (created,) = events_after(before, AuditAction.CREATE)
    assert (created.object_type, created.object_id) == ("case_review", review.id)
    assert created.details["context"] == "api_case_reviews.create" and created.details["victim_id"] == victim.id
    assert created.details["incident_ids"] == sorted(i.id for i in incidents)
    (view,) = events_after(before, AuditAction.VIEW)  # the answer shows the victim and the incidents
    assert view.details["records"]["person"]["ids"] == [victim.id] and view.details["case_review"] == review.id
    assert sorted(view.details["records"]["entry"]["ids"]) == sorted(i.id for i in incidents)
    assert all("Vera" not in str(event.details) for event in events_after(before))  # ids, never names


def test_each_role_sees_what_the_pages_show(app, world):
    people, secrets, victim, incidents = world
    review_id = recorded(app, world)["id"]
    for name in ("pcso", "sergeant", "analyst"):
        listed = get(app, secrets[name], URL)
        assert listed.status_code == 200 and [r["id"] for r in listed.get_json()["case_reviews"]] == [review_id], name
        opened = get(app, secrets[name], f"{URL}/{review_id}")
        assert opened.status_code == 200 and opened.get_json()["may_decide"] is (name != "pcso"), name
    conforms(app, listed.get_json(), "CaseReviewList")
    other = secrets["other_pcso"]  # a PCSO of another beat: not in the list, and 404 as for no such review
    assert get(app, other, URL).get_json() == {"count": 0, "case_reviews": []}
    assert problem(get(app, other, f"{URL}/{review_id}"))["status"] == 404
    assert problem(get(app, other, f"{URL}/{review_id + 1000}"))["status"] == 404
    assert post(app, other, URL, application(victim, incidents)).status_code == 404  # the victim is not theirs
    assert post(app, other, f"{URL}/{review_id}/threshold-decision", {"decision": "met"}).status_code == 403
    for response in (get(app, secrets["safeguarding"], URL), get(app, secrets["safeguarding"], f"{URL}/{review_id}"),
                     post(app, secrets["safeguarding"], URL, application(victim, incidents))):
        assert problem(response)["status"] == 403  # as the pages: case reviews are not safeguarding's


def test_reading_an_application_names_the_victim_and_incidents(app, world):
    people, secrets, victim, incidents = world
    review_id = recorded(app, world)["id"]
    before = last_event_id()
    assert get(app, secrets["analyst"], f"{URL}/{review_id}").status_code == 200
    (event,) = events_after(before)
    assert event.action == AuditAction.VIEW and event.actor_id == people["analyst"].id
    assert (event.object_type, event.object_id) == ("person", victim.id)
    assert event.details["context"] == "api_case_reviews.detail" and event.details["via"] == "api"
    assert sorted(event.details["records"]["entry"]["ids"]) == sorted(i.id for i in incidents)
    before = last_event_id()
    assert get(app, secrets["analyst"], f"{URL}?state=received").status_code == 200
    (event,) = events_after(before)
    assert event.details["records"]["person"]["ids"] == [victim.id] and event.details["case_reviews"] == [review_id]
    assert "Vera" not in str(event.details)


def test_the_list_filters_as_the_page_does(app, world):
    _, secrets, victim, incidents = world
    review_id = recorded(app, world)["id"]
    beat_id = factories.beat(BEAT).id
    found = {url: [r["id"] for r in get(app, secrets["sergeant"], url).get_json()["case_reviews"]] for url in (
        f"{URL}?state=received", f"{URL}?state=closed", f"{URL}?beat={beat_id}", f"{URL}?beat={beat_id + 1}",
        f"{URL}?overdue=true", f"{URL}?victim={victim.id}")}
    assert found == {f"{URL}?state=received": [review_id], f"{URL}?state=closed": [],
                     f"{URL}?beat={beat_id}": [review_id], f"{URL}?beat={beat_id + 1}": [],
                     f"{URL}?overdue=true": [], f"{URL}?victim={victim.id}": [review_id]}
    assert problem(get(app, secrets["other_pcso"], f"{URL}?victim={victim.id}"))["status"] == 404
    assert problem(get(app, secrets["sergeant"], f"{URL}?state=nonsense"))["status"] == 422


@pytest.mark.parametrize("change, field", [
    ({"received_on": (london_today() + timedelta(days=1)).isoformat()}, "received_on"),
    ({"received_on": "0001-01-01"}, "received_on"),  # before the Case Review began: no date arithmetic on it
    ({"beat_id": 987654}, "beat_id"),  # no such beat
    ({"incident_ids": []}, "incident_ids"),
    ({"incident_ids": [987654]}, "incident_ids"),  # not the victim's
    ({"applicant_type": "on_behalf"}, "applicant_name"),  # someone on the victim's behalf, unnamed
    ({"applicant_type": "on_behalf", "applicant_name": "   "}, "applicant_name"),
    ({"applicant_name": "x" * 121}, "applicant_name"),
    ({"victim_id": 2**31}, "victim_id"), ({"victim_id": "one"}, "victim_id"), ({"received_on": "4 Dec"}, "received_on"),
    ({"incident_ids": list(range(1, 60))}, "incident_ids"), ({"surprise": 1}, "surprise"),
    ({"applicant_type": "mp"}, "applicant_type"),
])
def test_a_bad_application_is_a_422_naming_the_field(app, world, change, field):
    _, secrets, victim, incidents = world
    response = post(app, secrets["sergeant"], URL, application(victim, incidents, **change))
    body = problem(response)
    assert response.status_code == 422 and field in body["errors"], body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseReview)) == 0


def test_a_pcso_records_applications_only_for_their_own_beats(app, world):
    _, secrets, victim, incidents = world
    response = post(app, secrets["pcso"], URL, application(victim, incidents, beat_id=factories.beat(OTHER).id))
    assert response.status_code == 422 and problem(response)["errors"] == {"beat_id": ["Choose one of your beats"]}
    for body in (None, [], "text", {"victim_id": None}):
        assert post(app, secrets["pcso"], URL, body).status_code in (400, 422)
    assert post(app, secrets["pcso"], URL, application(victim, incidents, victim_id=987654)).status_code == 404


def test_a_supervisor_takes_an_application_to_its_outcome_and_a_pcso_may_not(app, world):
    people, secrets, victim, incidents = world
    review_id = recorded(app, world)["id"]
    step = f"{URL}/{review_id}"
    refused = post(app, secrets["pcso"], f"{step}/threshold-decision", {"decision": "met"})
    assert problem(refused)["status"] == 403 and db.session.get(CaseReview, review_id).state == S.RECEIVED
    today = london_today().isoformat()
    answers = [post(app, secrets["sergeant"], f"{step}/threshold-decision", {"decision": "met", "informed_on": today})]
    assert answers[-1].get_json()["state"] == "threshold_met" and answers[-1].get_json()["review_due_on"]
    again = post(app, secrets["sergeant"], f"{step}/threshold-decision", {"decision": "not_met", "reason": "x"})
    assert again.status_code == 422 and "decision" in problem(again)["errors"]  # the service's check, once
    answers.append(post(app, secrets["sergeant"], f"{step}/review", {
        "meeting_on": today, "agencies": "Police; council", "outcome": "Mediation",
        "recommendations": [{"text": "Mediation visit", "owner": "Council ASB team"}]}))
    rec_id = answers[-1].get_json()["recommendations"][0]["id"]
    answers.append(post(app, secrets["analyst"], f"{step}/recommendations/{rec_id}", {"status": "done"}))
    assert answers[-1].get_json()["recommendations"][0]["status"] == "done"
    assert post(app, secrets["analyst"], f"{step}/recommendations/{rec_id + 99}", {"status": "done"}).status_code == 404
    answers.append(post(app, secrets["sergeant"], f"{step}/applicant-informed", {"stage": "outcome", "informed_on": today}))
    assert answers[-1].get_json()["state"] == "closed"
    answers.append(post(app, secrets["sergeant"], f"{step}/appeal", {"appeal_received_on": today, "grounds": "Unhappy"}))
    assert answers[-1].get_json()["state"] == "appealed" and answers[-1].get_json()["appeal_due_on"]
    answers.append(post(app, secrets["sergeant"], f"{step}/appeal-decision",
                        {"outcome": "not_upheld", "decided_on": today, "note": "Handled well"}))
    assert [a.status_code for a in answers] == [200] * 6
    final = answers[-1].get_json()
    assert final["state"] == "closed" and final["appeal_outcome"] == "not_upheld" and final["may_decide"] is True
    conforms(app, final, "CaseReview")
    steps = [e.details["step"] for e in events_after(0, AuditAction.UPDATE) if e.object_type == "case_review"]
    assert steps == ["threshold", "review", "recommendation", "informed_outcome", "appeal", "appeal_decision"]


def test_a_step_refused_by_the_rules_is_a_422_never_a_500(app, world):
    _, secrets, victim, incidents = world
    step = f"{URL}/{recorded(app, world)['id']}"
    for path, body, field in [
        ("threshold-decision", {"decision": "not_met"}, "reason"),
        ("threshold-decision", {"decision": "met", "informed_on": "2000-01-01"}, "informed_on"),
        ("threshold-decision", {"decision": "maybe"}, "decision"),
        ("review", {"meeting_on": london_today().isoformat(), "agencies": "Police", "outcome": "x"}, "meeting_on"),
        ("review", {"meeting_on": "2026-01-01", "agencies": " ", "outcome": "x"}, "agencies"),
        ("review", {"meeting_on": "2026-01-01", "agencies": "P", "outcome": "x", "recommendations": [{"text": "t"}]},
         "recommendations"),
        ("applicant-informed", {"stage": "outcome", "informed_on": london_today().isoformat()}, "informed_on"),
        ("appeal", {"appeal_received_on": london_today().isoformat(), "grounds": "x"}, "appeal_received_on"),
        ("appeal-decision", {"outcome": "upheld", "decided_on": london_today().isoformat()}, "outcome"),
    ]:
        response = post(app, secrets["sergeant"], f"{step}/{path}", body)
        assert response.status_code == 422 and field in problem(response)["errors"], (path, body, response.get_json())
    assert db.session.scalars(sa.select(CaseReview)).one().state == S.RECEIVED


def test_a_step_with_a_stale_if_match_is_refused(app, world):
    _, secrets, _, _ = world
    review_id = recorded(app, world)["id"]
    current = get(app, secrets["sergeant"], f"{URL}/{review_id}").headers["ETag"]
    stale = post(app, secrets["sergeant"], f"{URL}/{review_id}/threshold-decision", {"decision": "met"},
                 **{"If-Match": '"not-this-one"'})
    assert problem(stale)["status"] == 412 and db.session.get(CaseReview, review_id).state == S.RECEIVED
    done = post(app, secrets["sergeant"], f"{URL}/{review_id}/threshold-decision", {"decision": "met"},
                **{"If-Match": current})
    assert done.status_code == 200 and done.headers["ETag"] != current


def test_an_idempotency_key_replayed_makes_one_application(app, world):
    _, secrets, victim, incidents = world
    body, same = application(victim, incidents), key()
    first = post(app, secrets["pcso"], URL, body, idempotency_key=same)
    second = post(app, secrets["pcso"], URL, body, idempotency_key=same)
    assert first.status_code == second.status_code == 201 and second.headers["Idempotent-Replayed"] == "true"
    assert second.get_json() == first.get_json() and second.headers["Location"] == first.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseReview)) == 1
    other_body = post(app, secrets["pcso"], URL, dict(body, received_on=(date.today() - timedelta(days=1)).isoformat()),
                      idempotency_key=same)
    assert problem(other_body)["status"] == 422  # the key was used with another body
    missing = app.test_client().post(URL, json=body, headers=bearer(secrets["pcso"]))
    assert problem(missing)["status"] == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseReview)) == 1


def test_a_read_token_lists_but_may_not_record(app, world):
    people, _, victim, incidents = world
    reader = token(people["pcso"], scope=TokenScope.READ)
    assert get(app, reader, URL).status_code == 200
    response = post(app, reader, URL, application(victim, incidents))
    assert problem(response)["status"] == 403 and response.get_json()["type"].endswith("problem-scope")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseReview)) == 0
