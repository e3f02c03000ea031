"""Every record shown leaves an event (DPA 2018 s.62 consultation): walked over the URL map, not a hand list.

test_every_get_route_that_shows_records_writes_one_view_event_naming_them opens EVERY GET route of the app
(pages and API) as a user who may see the records, with real records from tests/factories.py, and fails
for any route that writes no `view` event naming what it showed. Routes that show no entry or POLE record
are in EXEMPT, each with its reason; a new GET route is in neither list until someone decides, so the test
fails for it. The rest: denials, the ?from= prefill, the merge comparison, combination, POLE revisions and
the bound on an event's size.
"""
from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict
from flask import url_for

from pcso import audit
from pcso.access import PUBLIC
from pcso.case_reviews.services import ApplicationInput, record_application
from pcso.entries.held import hold_submission
from pcso.extensions import db
from pcso.lists.approvals import request_export
from pcso.lists.exports import export_summary
from pcso.lists.filters import EntryFilter
from pcso.models import (
    AsbIncident, AsbType, AuditAction, AuditEvent, Entry, EntryKind, EntryStatus, LinkRole, NsirCategory, Organisation,
    OrganisationType, PatrolSuggestion, Person, Role, Vehicle,
)
from pcso.pole.services import person_for, vehicle_for
from pcso.search.index import index_entry
from pcso.timeutil import utcnow
from tests import factories
from tests.factories import signed_in
from tests.test_exports import read_csv

BEAT = "E05015247"
OTHER_BEAT = "E05015253"

# GET routes that show no entry and no POLE record, and why. Kept small: each one is a decision.
EXEMPT = {
    "static": "static files",
    "main.health": "health check",
    "main.ready": "readiness check (database and Redis reachable)",
    "main.web_manifest": "web app manifest",
    "main.data_sources": "licences of the open data used",
    "auth.login": "sign-in form",
    "offline.service_worker": "service worker script",
    "offline.outbox": "the phone's own outbox, read from the browser's storage, not the server",
    "geo_api.offline_pack": "beat outlines and postcodes (no entries, no people)",
    "beats.index": "the list of beats (areas)",
    "beats.outlines": "beat outlines (geometry)",
    "beats.street_crime": "data.police.uk open data (no Beatbook records)",
    "briefing.new_priority": "a form for a beat priority (a beat's task, not an entry or a person)",
    "briefing.edit_priority": "a beat priority's form (a beat's task, not an entry or a person)",
    "search.index": "the empty search form (results are search.results)",
    "admin.users": "officer accounts (audited by the admin pages, not s.62 records)",
    "admin.edit_user": "an officer account",
    "tokens.index": "the user's own API tokens",
    "tokens.user_tokens": "an officer's API tokens (admin)",
    "api_core.me": "the caller's own account",
    "api_core.beats": "the beats (areas)",
    "api_core.schools": "the schools list (public open data)",
    "api_docs.openapi_json": "the API's description",
    "api_docs.reference": "the API's reference page",
    "api_phone.csrf_token": "a CSRF token",
    "api_phone.seal_key": "the server's public sealing key",
    "api_lists.export_request": "an export request's state: its count, purpose and dates (no rows, no names)",
    "auth.code": "the second step of signing in (the user's own code)",
    "auth.enrol": "setting up the user's own second factor",
    "security.overview": "the user's own sign-in settings",
    "security.change_password": "the user's own password form",
    "security.enrol": "setting up the user's own second factor",
    "briefing.pdf": "the purpose and recipient form: beats and marking only (its POST is the disclosure)",
    # Background jobs (pcso/jobs/): a job's kind and progress, never what its file holds. The job records the
    # disclosure before it writes the file; the download (a POST) records its collection.
    "jobs.index": "the user's own jobs: kinds, states and times only",
    "jobs.show": "one of the user's own jobs: its kind and progress only",
    "jobs.status": "one of the user's own jobs' progress (JSON), for its page",
    "places.new_location": "an empty form for a new place",
    "places.new_organisation": "an empty form for a new organisation",
}
# The audit viewer (auditors only) shows the audit log: events and the ids, kinds, beats and markings of the
# records they name, never a record's content or a name. Each page writes its own `view` event of object_type
# "audit" with its terms (pcso/audit_viewer/services.py record_audit_view; tests/test_audit_viewer.py), and the
# by-officer and by-record pages show nothing until asked (so the walk, without a query, sees no event).
EXEMPT.update({endpoint: "the audit log (metadata only); the page writes its own 'audit' view event" for endpoint in (
    "audit.index", "audit.people", "audit.records", "audit.events", "audit.unusual", "audit.export")})

# Who opens a route: the first of these roles its view allows (the author first: they see their own).
ROLE_ORDER = ("author", "supervisor", "safeguarding", "analyst", "auditor", "admin")


@pytest.fixture
def world(app):
    author = factories.user(Role.PCSO, beats=[BEAT])
    people = {"author": author,
              "supervisor": factories.user(Role.SUPERVISOR, beats=[BEAT]),
              "safeguarding": factories.user(Role.SAFEGUARDING),
              "analyst": factories.user(Role.ANALYST),
              "auditor": factories.user(Role.AUDITOR),
              "admin": factories.user(Role.ADMIN)}
    welfare = factories.welfare(author, next_visit_on=date.today() + timedelta(days=2),
                                occurred_at=utcnow() - timedelta(days=5))
    child = welfare.links[0].person
    asb = factories.asb(author)
    car, park = factories.vehicle("MX65TKZ", make="Ford"), factories.location("Longford Park", beat_code=BEAT)
    dale = factories.person("Dale Wrigley", date(1988, 7, 14))
    shop = Organisation(name="Corner Shop", name_key="corner shop", org_type=OrganisationType.SHOP,
                        review_due=date.today())
    db.session.add(shop)
    db.session.flush()
    for record in (car, park, dale, shop):
        factories.link(asb, record, LinkRole.SUSPECT if record is dale else LinkRole.MENTIONED)
    draft = factories.asb(author, status=EntryStatus.DRAFT, summary="Draft to finish")
    returned = factories.asb(author, status=EntryStatus.RETURNED, summary="Returned to author")
    patrol = factories.patrol(author, status=EntryStatus.DRAFT)
    patrol.ended_at = None
    photo = factories.photo(asb)
    approved = factories.asb(author, status=EntryStatus.APPROVED, summary="Approved, to amend")
    asb.review_due = date.today() - timedelta(days=1)  # due for its MoPI review: on the records manager's queue
    for entry in (asb, welfare):
        index_entry(entry)  # the search finds what the entry services would have indexed
    held = hold_submission(author, EntryKind.ASB_INCIDENT, str(uuid.uuid4()), {"summary": "x"}, {"summary": "Bad"})
    on_dale = EntryFilter.from_args(MultiDict({"person": str(dale.id)}))  # an export request naming a person
    asked = request_export(on_dale, export_summary(on_dale.clauses(people["supervisor"], today=date.today())),
                           fmt="csv", purpose="Case file", recipient="CPS", actor=people["supervisor"])
    vera = factories.person("Vera Victim")  # an ASB Case Review application (pcso/case_reviews/)
    noise = factories.asb(author, summary="Noise next door")
    factories.link(noise, vera, LinkRole.VICTIM)
    case_review = record_application(ApplicationInput(vera.id, factories.beat(BEAT).id, date.today(), [noise.id]),
                                     actor=author)
    db.session.commit()
    records = {"vera": vera, "noise": noise, "case_review": case_review, "shop": shop,
               "welfare": welfare, "child": child, "asb": asb, "car": car, "park": park, "dale": dale,
               "draft": draft, "returned": returned, "patrol": patrol, "photo": photo, "held": held,
               "export_request": asked, "approved": approved}
    return people, records


def _ids_for(endpoint: str, records: dict) -> dict:
    """Each route argument's record: (its kind, its id); a kind of None is not a record (a beat)."""
    ids = {"entry_id": ("entry", records["asb"].id), "person_id": ("person", records["dale"].id),
           "vehicle_id": ("vehicle", records["car"].id), "location_id": ("location", records["park"].id),
           "organisation_id": ("organisation", records["shop"].id),
           "photo_id": ("photo", records["photo"].id), "held_id": ("held_submission", records["held"].id),
           "beat_id": (None, factories.beat(BEAT).id),
           "request_id": (None, records["export_request"].id),
           "slug": (None, "entries"), "record_id": ("entry", records["asb"].id)}  # retention.decide
    if endpoint == "entries.edit":  # only a draft (or returned) entry has an edit page
        ids["entry_id"] = ("entry", records["draft"].id)
    if endpoint == "entries.amend":  # only an approved one is amended
        ids["entry_id"] = ("entry", records["approved"].id)
    return ids


def _extra(endpoint: str, records: dict, browser) -> tuple[dict, set]:
    """Query arguments some routes need to show records, and the records they must then name."""
    if endpoint == "entries.new":
        return ({"slug": "intelligence-reports", "from": records["welfare"].id},
                {("entry", records["welfare"].id), ("person", records["child"].id)})
    if endpoint == "lists.export":  # the export form names the person the list is filtered on
        return {"person": records["dale"].id}, {("person", records["dale"].id)}
    if endpoint in ("lists.export_requests", "lists.export_request"):  # the request's description names Dale
        return {}, {("person", records["dale"].id)}
    if endpoint == "case_reviews.detail":  # the victim and the incidents counted
        return ({"case_review_id": records["case_review"].id},
                {("person", records["vera"].id), ("entry", records["noise"].id)})
    if endpoint == "case_reviews.new":  # the application form for a victim names them and their incidents
        return {"person": records["vera"].id}, {("person", records["vera"].id), ("entry", records["noise"].id)}
    if endpoint in ("case_reviews.index", "api_case_reviews.index"):
        return {}, {("person", records["vera"].id)}
    if endpoint == "api_case_reviews.detail":  # the API's read of the application: the same records as its page
        return ({"case_review_id": records["case_review"].id},
                {("person", records["vera"].id), ("entry", records["noise"].id)})
    if endpoint == "patrol_plans.start":  # a suggestion shown to the author (the world's ASB incidents make one)
        assert browser.get("/patrols/suggested").status_code == 200
        suggestion_id = db.session.scalar(sa.select(PatrolSuggestion.id).order_by(PatrolSuggestion.id))
        return {"suggestion_id": suggestion_id}, {("entry", records["asb"].id)}
    if endpoint == "search.results":
        response = browser.post("/search", data={"q": "Youths"})
        assert response.status_code == 303, response.get_data(as_text=True)
        return {"search_id": response.location.rsplit("/", 1)[1]}, {("entry", records["asb"].id)}
    return {}, set()


def _named(event: AuditEvent) -> set[tuple[str, int]]:
    named = {(kind, record_id) for kind, shown in event.details.get("records", {}).items()
             for record_id in shown["ids"]}
    if event.object_id is not None:
        named.add((event.object_type, event.object_id))
    return named


def _last_event_id() -> int:
    return db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0


def test_every_get_route_that_shows_records_writes_one_view_event_naming_them(app, world, memoised_hashing):
    people, records = world
    browsers = {name: signed_in(app, person) for name, person in people.items()}
    world_ids = {("entry" if isinstance(record, Entry) else record.__tablename__, record.id)
                 for record in records.values()}
    rules = [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods]
    assert len(rules) > 40  # the URL map, not an empty list passing vacuously
    assert set(EXEMPT) <= {rule.endpoint for rule in rules}, "an exemption for a route that no longer exists"
    walked, failures = [], []
    for rule in rules:
        if rule.endpoint in EXEMPT:
            continue
        allowed = app.view_functions[rule.endpoint].access
        role = "author" if allowed == PUBLIC else next(name for name in ROLE_ORDER if people[name].role in allowed)
        browser = browsers[role]
        values, must_name = _extra(rule.endpoint, records, browser)
        for argument in rule.arguments - set(values):
            kind, value = _ids_for(rule.endpoint, records).get(argument, (None, None))
            assert value is not None, f"{rule.endpoint}: no record in the world for <{argument}>: add one"
            values[argument] = value
            if kind is not None:
                must_name = must_name | {(kind, value)}
        with app.test_request_context():
            url = url_for(rule.endpoint, **values)
        before = _last_event_id()
        response = browser.get(url)
        if response.status_code != 200:
            failures.append(f"{rule.endpoint} {url}: {response.status_code}")
            continue
        views = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.id > before, AuditEvent.action == AuditAction.VIEW)).all()
        walked.append(rule.endpoint)
        if len(views) != 1:
            failures.append(f"{rule.endpoint} {url}: {len(views)} view events (one per request): "
                            f"{[(e.object_type, e.details) for e in views]}")
            continue
        (event,) = views
        named = _named(event)
        if not {kind for kind, _ in named} <= set(audit.RECORD_TYPES):
            failures.append(f"{rule.endpoint}: names kinds of record the audit viewer does not know: {sorted(named)}")
        if event.details.get("context") != rule.endpoint or event.actor_id != people[role].id:
            failures.append(f"{rule.endpoint}: event context {event.details.get('context')}, actor {event.actor_id}")
        elif not must_name <= named:
            failures.append(f"{rule.endpoint} {url}: does not name {sorted(must_name - named)}")
        elif not named & world_ids:
            failures.append(f"{rule.endpoint} {url}: names none of the records shown ({sorted(named)})")
    assert not failures, "routes that show records without a consultation event naming them:\n" + "\n".join(failures)
    # the walk reached the pages and the API reads
    assert {"entries.detail", "entries.index", "lists.entries", "pole.person", "review.queue", "dashboard.index",
            "beats.detail", "briefing.show", "search.results", "photos.photo", "entries.held",
            "api_entries.entry", "api_lists.entries", "api_records.person", "api_work.review_queue",
            "api_work.briefing", "main.index", "case_reviews.index", "case_reviews.detail",
            "api_case_reviews.index", "api_case_reviews.detail", "network.person", "network.vehicle", "network.location", "network.organisation"} <= set(walked)  # networks: JSON, one event each



def test_a_profile_names_the_person_and_the_entries_of_its_timeline(app, world):
    people, records = world
    before = _last_event_id()
    assert signed_in(app, people["analyst"]).get(f"/people/{records['dale'].id}").status_code == 200
    (event,) = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id > before,
                                                              AuditEvent.action == AuditAction.VIEW)).all()
    assert (event.object_type, event.object_id) == ("person", records["dale"].id)
    assert event.details["records"]["entry"]["ids"] == [records["asb"].id]  # "entry", whatever the kind
    assert set(event.details["records"]) == {"person", "entry", "vehicle", "location", "organisation"}  # associates, network
    assert event.details["joined"] is True


def test_a_view_names_the_entry_its_pole_records_and_kind_in_one_event(app, world):
    people, records = world
    browser = signed_in(app, people["author"])
    before = _last_event_id()
    assert browser.get(f"/entries/{records['asb'].id}").status_code == 200
    (event,) = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id > before)).all()
    assert (event.action, event.object_type, event.object_id) == (AuditAction.VIEW, "entry", records["asb"].id)
    assert event.details["context"] == "entries.detail" and event.details["kind"] == "asb_incident"
    shown = event.details["records"]
    assert shown["entry"]["ids"] == [records["asb"].id] and shown["entry"]["count"] == 1
    assert shown["person"]["ids"] == [records["dale"].id]
    assert shown["vehicle"]["ids"] == [records["car"].id] and shown["location"]["ids"] == [records["park"].id]
    # no free text about people: the event holds ids, never the name
    assert "Dale" not in str(event.details) and "Youths" not in str(event.details)
    # the record can be found by the helper the audit viewer uses
    assert db.session.scalars(sa.select(AuditEvent.id).where(
        audit.events_naming("person", records["dale"].id), AuditEvent.action == AuditAction.VIEW)).all() == [event.id]


def test_denied_access_is_recorded_once_a_minute_without_content(app, world):
    people, records = world
    stranger = factories.user(Role.PCSO, beats=[OTHER_BEAT])
    db.session.commit()
    browser = signed_in(app, stranger)
    welfare_id = records["welfare"].id
    for _ in range(5):  # a probing loop on one record
        assert browser.get(f"/entries/{welfare_id}").status_code == 404
    assert browser.get(f"/api/v1/entries/{welfare_id}").status_code == 404
    assert browser.get(f"/people/{records['child'].id}").status_code == 404
    assert browser.get("/entries/99999999").status_code == 404  # no such entry: nothing denied
    denials = db.session.execute(sa.select(AuditEvent.object_type, AuditEvent.object_id, AuditEvent.details)
                                 .where(AuditEvent.action == AuditAction.DENY, AuditEvent.actor_id == stranger.id)
                                 .order_by(AuditEvent.id)).all()
    assert denials == [("entry", welfare_id, {"context": "entries.detail", "method": "GET"}),
                       ("person", records["child"].id, {"context": "pole.person", "method": "GET"})]
    assert not db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == AuditAction.VIEW, AuditEvent.actor_id == stranger.id)).all()
    # ?from= on a new report names the entry asked for as well
    assert browser.get(f"/intelligence-reports/new?from={records['asb'].id}").status_code == 404
    assert db.session.scalar(sa.select(AuditEvent.object_id).where(
        AuditEvent.action == AuditAction.DENY, AuditEvent.details["context"].as_string() == "entries.new")) == \
        records["asb"].id


def test_a_probing_loop_over_many_records_is_capped_per_minute(app, world):
    people, records = world
    stranger = factories.user(Role.PCSO, beats=[OTHER_BEAT])
    hidden = [factories.welfare(people["author"]).id for _ in range(audit.DENY_CAP + 5)]
    db.session.commit()
    browser = signed_in(app, stranger)
    for entry_id in hidden:
        assert browser.get(f"/entries/{entry_id}").status_code == 404
    denials = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == AuditAction.DENY, AuditEvent.actor_id == stranger.id).order_by(AuditEvent.id)).all()
    assert len(denials) == audit.DENY_CAP
    assert [e.object_id for e in denials] == hidden[:audit.DENY_CAP]
    assert denials[-1].details.get("capped") is True and "capped" not in denials[0].details


def test_raising_a_report_from_a_welfare_check_records_the_child_shown(app, world):
    people, records = world
    browser = signed_in(app, people["author"])
    before = _last_event_id()
    page = browser.get(f"/intelligence-reports/new?from={records['welfare'].id}")
    assert page.status_code == 200 and "Jordan Testchild" in page.get_data(as_text=True)
    (event,) = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id > before)).all()
    assert event.action == AuditAction.VIEW and event.details["context"] == "entries.new"
    assert (event.object_type, event.object_id) == ("entry", records["welfare"].id)
    assert event.details["records"]["person"]["ids"] == [records["child"].id]
    assert event.details["raised_from"] == records["welfare"].id


def test_the_merge_comparison_records_both_records(app, world):
    people, records = world
    dupe = factories.person("Dale Wrigly", date(1988, 7, 14))
    factories.link(records["asb"], dupe, LinkRole.WITNESS)
    db.session.commit()
    dale_id, dupe_id = records["dale"].id, dupe.id
    browser = signed_in(app, people["supervisor"])
    before = _last_event_id()
    page = browser.post(f"/people/{dale_id}/merge", data={"other_id": dupe_id, "action": "review"})
    assert page.status_code == 200 and "Dale Wrigly" in page.get_data(as_text=True)
    (event,) = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id > before)).all()
    assert event.action == AuditAction.VIEW and event.details["context"] == "pole.merge_person"
    assert event.details["records"]["person"]["ids"] == [dale_id, dupe_id]
    # then the merge itself: a combination naming both and the survivor, not an ordinary update
    before = _last_event_id()
    browser.post(f"/people/{dale_id}/merge", data={"other_id": dupe_id, "action": "merge", "reason": "Same DOB"})
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id > before)).all()
    (combine,) = [e for e in events if e.action == AuditAction.COMBINE]
    assert not [e for e in events if e.action == AuditAction.UPDATE]
    assert (combine.object_type, combine.object_id) == ("person", dale_id)
    assert combine.details["survivor"] == dale_id and combine.details["merged"] == dupe_id
    assert combine.details["ids"] == [dale_id, dupe_id]
    db.session.expire_all()
    assert combine.details["revision"] == db.session.get(Person, dale_id).revision == 2
    assert combine.details["merged_revision"] == db.session.get(Person, dupe_id).revision == 2


def test_pole_creation_and_change_are_audited_with_field_names_and_revisions(app, world):
    people, _ = world
    author = people["author"]
    with app.test_request_context():
        person = person_for(user=author, person_id=None, full_name="Sam Newperson", born_on=date(2001, 2, 3))
        car = vehicle_for(vrm="AB12 CDE", actor=author)
        same = vehicle_for(vrm="AB12CDE", make="Vauxhall", model="Corsa", actor=author)  # fills blanks
        again = vehicle_for(vrm="AB12CDE", make="Ford", actor=author)  # nothing blank to fill: no change
        db.session.commit()
    assert same.id == car.id == again.id
    events = db.session.execute(sa.select(AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id,
                                          AuditEvent.details).where(AuditEvent.object_type.in_(["person", "vehicle"]))
                                .order_by(AuditEvent.id)).all()
    assert [(a, t, i, d["revision"], d["fields"]) for a, t, i, d in events] == [
        (AuditAction.CREATE, "person", person.id, 1, ["born_on", "full_name"]),
        (AuditAction.CREATE, "vehicle", car.id, 1, ["vrm"]),
        (AuditAction.UPDATE, "vehicle", car.id, 2, ["make", "model"]),
    ]
    assert "Vauxhall" not in str(events) and "Sam" not in str(events)  # names of fields, never values
    assert db.session.get(Vehicle, car.id).revision == 2 and db.session.get(Person, person.id).revision == 1


def test_an_entry_form_that_makes_a_person_audits_the_creation(app, world):
    people, _ = world
    browser = signed_in(app, people["author"])
    form = factories.asb_form(**{"people-0-name": "Robin Formperson", "people-0-role": "witness",
                                 "people-0-born_on": "1990-01-02"})
    assert browser.post("/asb-incidents/new", data=form).status_code == 302
    person = db.session.scalar(sa.select(Person).where(Person.full_name == "Robin Formperson"))
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.object_type == "person",
                                                          AuditEvent.object_id == person.id))
    assert event.action == AuditAction.CREATE and event.details["revision"] == 1
    assert event.details["context"] == "entries.new"


def test_a_thousand_entries_make_one_bounded_event_with_the_total(app, world):
    people, _ = world
    author = people["author"]
    beat_id = factories.beat(BEAT).id
    now = utcnow()
    made = [AsbIncident(author_id=author.id, beat_id=beat_id, located_beat_id=beat_id, occurred_at=now,
                        summary="Bulk", status=EntryStatus.SUBMITTED, submitted_at=now, client_key=str(uuid.uuid4()),
                        nsir_category=NsirCategory.NUISANCE, asb_type=AsbType.NOISE, description="x")
            for _ in range(1000)]
    db.session.add_all(made)
    db.session.commit()
    browser = signed_in(app, people["supervisor"])
    before = _last_event_id()
    response = browser.get("/api/v1/review-queue")  # every submitted entry on the beat: up to its limit of 200
    assert response.status_code == 200
    (event,) = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id > before)).all()
    shown = event.details["records"]["entry"]
    assert shown["count"] == len(response.get_json()["items"]) == 200
    # an export of them all: one disclosure naming the first MAX_IDS, the total and the digest of all
    before = _last_event_id()
    response = browser.post("/lists/entries/export?kind=asb-incidents", data={"format": "csv", "purpose": "Audit test",
                                                           "recipient": "Professional standards"})
    assert response.status_code == 200
    expected = sorted(int(row["id"]) for row in read_csv(response.get_data())[1])
    (disclosure,) = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id > before)).all()
    assert disclosure.action == AuditAction.DISCLOSE and disclosure.details["recipient"] == "Professional standards"
    named = disclosure.details["records"]["entry"]
    assert named["count"] == len(expected) > 1000 and len(named["ids"]) == audit.MAX_IDS
    assert named["ids"] == expected[:audit.MAX_IDS]
    assert named["digest"] == audit.id_summary(expected)["digest"]
    assert len(str(disclosure.details)) < 4000


def test_consulted_caps_ids_and_keeps_the_count_and_digest(app):
    with app.test_request_context():
        audit.consulted(list(range(1, 1001)), actor=None, object_type="entry")
        event = audit.write_consultations()
    shown = event.details["records"]["entry"]
    assert shown["ids"] == list(range(1, audit.MAX_IDS + 1)) and shown["count"] == 1000
    assert shown["digest"] == audit.id_summary(reversed(range(1, 1001)))["digest"]  # order does not matter
    assert shown["digest"] != audit.id_summary(range(1, 1000))["digest"]


def test_erasure_metadata_refuses_free_text(app):
    event = audit.erased("entry", 7, actor=None, kind="welfare_check", links=3, decided_on=date(2032, 1, 1))
    assert event.action == AuditAction.ERASE and event.details["decided_on"] == "2032-01-01"
    with pytest.raises(ValueError):
        audit.erased("entry", 7, actor=None, note="Jordan Testchild, 14")


def test_a_blank_form_writes_no_event_and_suggestions_name_what_they_offer(app, world):
    people, records = world
    before = _last_event_id()
    # the author's form shows their open patrol ("what you log now is added to it"): named
    assert signed_in(app, people["author"]).get("/asb-incidents/new").status_code == 200
    assert [e["records"] for e in db.session.scalars(sa.select(AuditEvent.details).where(
        AuditEvent.id > before, AuditEvent.action == AuditAction.VIEW))] == [
        {"entry": audit.id_summary([records["patrol"].id])}]
    before = _last_event_id()
    browser = signed_in(app, people["supervisor"])  # no patrol open: the form shows no record, nothing recorded
    assert browser.get("/asb-incidents/new").status_code == 200
    assert db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.id > before)).all() == [AuditAction.LOGIN]
    before = _last_event_id()
    response = browser.post("/vehicles/suggest", json={"q": "MX65"})
    assert [item["id"] for item in response.get_json()["results"]] == [records["car"].id]
    (event,) = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id > before)).all()
    assert event.action == AuditAction.VIEW and event.details["context"] == "pole.suggest_vehicles"
    assert event.details["records"] == {"vehicle": audit.id_summary([records["car"].id])}
    assert "MX65" not in str(event.details)  # what was typed is not kept
