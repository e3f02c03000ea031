"""Role x route x object, walked over the whole URL map (pages and API): no unexpected success, no leak.

tests/test_access.py and tests/api/test_api_access.py hold the hand-written tables of what each route
answers each role for one set of objects. This file asks the attacker's question the other way round: for
every route that takes a record (an entry, a person, a vehicle, a place, a photo), every actor and every
kind of object the actor may NOT see, the answer is never a 2xx or a redirect somewhere useful, and the
object's marker text never appears in it; and on every list, map, dashboard, search and export no marker of
an object the actor may not see appears. New routes are walked without anyone adding them here.

The objects (OBJECT_KINDS) and who may see each (VISIBLE) are written by hand from DOMAIN.md and the README.
"erased" is an entry disposed of under the retention rules (with its own person, vehicle, place and photo,
erased with it): no one may see it (a VISIBLE row of False, so the walks check that nothing of it leaks
anywhere), and its routes answer 410 Gone to those who could have seen it (COULD_HAVE_SEEN, as a same-beat
entry) and the 404 they always had to the others (test_an_erased_entry_is_gone_only_to_those_who_could_see_it).
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.routing.converters import AnyConverter

from pcso.access import PUBLIC
from pcso.extensions import db
from pcso.models import ErasedRecord, LinkRole, RetentionDecisionType, Role, SecurityMarking
from pcso.retention.erase import carry_out, delete_files
from pcso.retention.services import record_decision
from pcso.timeutil import london_today
from tests import factories
from tests.api.helpers import bearer, token
from tests.factories import signed_in

OLD_TRAFFORD = factories.OLD_TRAFFORD  # the PCSO's, the supervisor's and the author's beat
ALTRINCHAM = "E05015239"
ELSEWHERE = "E05015247"  # the other-beat PCSO's

pytestmark = pytest.mark.usefixtures("memoised_hashing")

ACTORS = ("pcso", "pcso_other_beat", "supervisor", "analyst", "safeguarding", "admin", "auditor")
ROLES = {"pcso": Role.PCSO, "pcso_other_beat": Role.PCSO, "supervisor": Role.SUPERVISOR, "analyst": Role.ANALYST,
         "safeguarding": Role.SAFEGUARDING, "admin": Role.ADMIN, "auditor": Role.AUDITOR}
BEATS = {"pcso": [OLD_TRAFFORD], "pcso_other_beat": [ELSEWHERE], "supervisor": [OLD_TRAFFORD]}

OBJECT_KINDS = ["own_entry", "same_beat_entry", "other_beat_entry", "others_welfare", "intel_with_source", "erased"]

VISIBLE = {
    # object                pcso   pcso_other supervisor analyst safeguarding admin  auditor
    "own_entry":           (True,  False,     True,      True,   False,       False, False),  # OFFICIAL ASB
    "same_beat_entry":     (True,  False,     True,      True,   False,       False, False),  # another PCSO's
    "other_beat_entry":    (False, False,     True,      True,   False,       False, False),
    "others_welfare":      (False, False,     True,      False,  True,        False, False),  # need-to-know
    "intel_with_source":   (False, False,     True,      True,   False,       False, False),  # OFFICIAL-SENSITIVE
    "erased":              (False, False,     False,     False,  False,       False, False),  # disposed of
}
COULD_HAVE_SEEN = {"erased": VISIBLE["same_beat_entry"]}  # a same-beat entry before its disposal: told it is gone
SOURCE_READERS = {"supervisor", "analyst"}  # the intelligence's source details, on top of seeing the report
SOURCE = "Mksourcedetail rings on Tuesdays"

# Routes open to every role (the auditor too): none of them shows an entry or a record.
NO_PERSONAL_DATA = {"auth.logout", "main.data_sources", "beats.index", "beats.outlines", "tokens.index",
                    "tokens.create", "tokens.revoke", "api_core.me", "api_core.beats", "api_phone.csrf_token",
                    "security.overview", "security.change_password", "security.enrol"}  # one's own sign-in

RECORD_ARGUMENTS = {"entry_id": "entry", "patrol_id": "entry", "person_id": "person", "vehicle_id": "vehicle",
                    "location_id": "location", "photo_id": "photo"}


def visible(actor: str, kind: str) -> bool:
    return VISIBLE[kind][ACTORS.index(actor)]


def marker(kind: str) -> str:
    return "Mk" + kind.replace("_", "")  # one word: full-text search finds it


def make_object(kind: str, people: dict, author, far_author) -> dict:
    """An entry of `kind` with its own person, vehicle, place and photo, each carrying the kind's marker."""
    word = marker(kind)
    build = {
        "own_entry": lambda: factories.asb(people["pcso"], OLD_TRAFFORD, summary=f"{word} summary"),
        "same_beat_entry": lambda: factories.asb(author, OLD_TRAFFORD, summary=f"{word} summary"),
        "other_beat_entry": lambda: factories.asb(far_author, ALTRINCHAM, summary=f"{word} summary"),
        "others_welfare": lambda: factories.welfare(author, beat_code=OLD_TRAFFORD, summary=f"{word} summary",
                                                    child_name=f"Zara {word}child"),
        "intel_with_source": lambda: factories.intel(author, OLD_TRAFFORD, summary=f"{word} summary",
                                                     source_details=f"{SOURCE} {word}"),
        "erased": lambda: factories.asb(author, OLD_TRAFFORD, summary=f"{word} summary"),
    }[kind]
    entry = build()
    person = entry.child if kind == "others_welfare" else factories.link(
        entry, factories.person(f"Pat {word}person"), LinkRole.WITNESS).person
    vehicle = factories.link(entry, factories.vehicle(f"MK{OBJECT_KINDS.index(kind)}1 ABC")).vehicle
    location = factories.link(entry, factories.location(f"{word} Street", "M16 0AA")).location
    photo = factories.photo(entry, gps=factories.GPS_M15_4AD)
    if kind == "erased":
        dispose(entry, people["admin"])
    return {"entry": entry.id, "person": person.id, "vehicle": vehicle.id, "location": location.id,
            "photo": photo.id, "beat": entry.beat_id}


def dispose(entry, admin) -> None:
    """As `flask retention run --apply` does, on a recorded decision: the entry, its kind's row, links, photo
    and the POLE records only it named go; a tombstone stays."""
    db.session.flush()
    entry.review_due = london_today() - timedelta(days=1)
    decision = record_decision("entry", entry, decision=RetentionDecisionType.DISPOSE, rationale="No policing purpose",
                               next_review=None, safeguarding_note=None, actor=admin)
    carry_out(decision)
    db.session.flush()


@pytest.fixture
def world(app):
    people = {actor: factories.user(ROLES[actor], beats=BEATS.get(actor, ())) for actor in ACTORS}
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    far_author = factories.user(Role.PCSO, beats=[ALTRINCHAM])
    objects = {kind: make_object(kind, people, author, far_author) for kind in OBJECT_KINDS}
    db.session.commit()
    delete_files()  # once the erasure is committed, as the command does
    db.session.commit()
    pages = {actor: signed_in(app, person) for actor, person in people.items()}
    secrets = {actor: token(person) for actor, person in people.items()}
    return people, objects, pages, secrets


def rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def send(app, world, actor: str, method: str, url: str):
    _, _, pages, secrets = world
    if url.startswith("/api/"):
        extra = {"Idempotency-Key": f"k-{actor}-{url}-{method}"} | ({"If-Match": '"stale"'} if method == "PUT" else {})
        return app.test_client().open(url, method=method, json=None if method == "GET" else {},
                                      headers=bearer(secrets[actor], **extra))
    return pages[actor].open(url, method=method, data={})


def succeeded(response) -> bool:
    """A 2xx, or a redirect anywhere but the sign-in page (a POST that did its work redirects)."""
    if 200 <= response.status_code < 300:
        return True
    return 300 <= response.status_code < 400 and urlsplit(response.location).path != "/login"


def leaked(actor: str, objects: dict, text: str) -> list[str]:
    """Markers in `text` of objects the actor may not see, and the source details to anyone but its readers."""
    found = [kind for kind in OBJECT_KINDS if not visible(actor, kind) and marker(kind).lower() in text.lower()]
    if actor not in SOURCE_READERS and SOURCE.lower() in text.lower():
        found.append("source details")
    return found


def body(response) -> str:
    binary = response.mimetype == "application/pdf" or response.mimetype.startswith("image/")
    return "" if binary else response.get_data(as_text=True)


def object_urls(app, ids: dict):
    """(method, url, endpoint) for every route that takes a record, filled with this object's records."""
    for rule in rules(app):
        arguments = set(rule.arguments)
        if not arguments & set(RECORD_ARGUMENTS) or not arguments <= set(RECORD_ARGUMENTS):
            continue
        url = rule.build({name: ids[RECORD_ARGUMENTS[name]] for name in arguments}, append_unknown=False)[1]
        for method in methods(rule):
            yield method, url, rule.endpoint
    yield "GET", f"/intelligence-reports/new?from={ids['entry']}", "entries.new"


def test_no_route_answers_a_record_the_actor_may_not_see(app, world):
    _, objects, _, _ = world
    problems, walked = [], 0
    for kind in OBJECT_KINDS:
        for method, url, endpoint in object_urls(app, objects[kind]):
            for actor in ACTORS:
                if visible(actor, kind):
                    continue
                response = send(app, world, actor, method, url)
                walked += 1
                if response.status_code >= 500 or succeeded(response):
                    problems.append(f"{method} {url} ({endpoint}) as {actor} on {kind}: {response.status_code}")
                elif found := leaked(actor, objects, body(response)):
                    problems.append(f"{method} {url} as {actor} on {kind}: shows {found}")
    assert walked > 500  # the walk found the routes (23 of them, each with up to 7 actors and 5 objects)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("endpoint", ["entries.detail", "api_entries.entry", "pole.person", "api_records.person",
                                      "pole.vehicle", "photos.photo"])
def test_each_record_opens_for_those_who_may_see_it(app, world, endpoint):
    """The other half of VISIBLE: where it says yes, the record's own page opens (so the walk above, which only
    tries the no's, is walking real records), and the source shows only to its readers."""
    _, objects, _, _ = world
    problems = []
    for kind in OBJECT_KINDS:
        url = next(url for method, url, name in object_urls(app, objects[kind]) if name == endpoint)
        for actor in ACTORS:
            if not visible(actor, kind):
                continue
            response = send(app, world, actor, "GET", url)
            if response.status_code != 200:
                problems.append(f"{url} as {actor} on {kind}: {response.status_code}")
            elif found := leaked(actor, objects, body(response)):
                problems.append(f"{url} as {actor} on {kind}: shows {found}")
    assert not problems, "\n".join(problems)


def listing_urls(app, world) -> list[tuple[str, str, dict | None]]:
    """Every GET that takes nothing but a beat (lists, maps, dashboards, the briefing, the API's lists), and the
    searches and exports, as (method, url, body)."""
    _, objects, _, _ = world
    beats = {objects["own_entry"]["beat"], objects["other_beat_entry"]["beat"]}
    found = []
    for rule in rules(app):
        if "GET" not in rule.methods or not set(rule.arguments) <= {"beat_id"}:
            continue
        for beat_id in sorted(beats) if rule.arguments else [None]:
            found.append(("GET", rule.build({"beat_id": beat_id} if beat_id else {})[1], None))
    found += [("GET", f"/lists/entries?beat={beat_id}", None) for beat_id in sorted(beats)]
    for kind in OBJECT_KINDS:
        found += [("POST", "/api/v1/search", {"q": marker(kind)}), ("POST", "/search", {"q": marker(kind)})]
    found += [("POST", "/lists/entries/export", {"format": fmt, "purpose": "Ward panel", "recipient": "Council"})
              for fmt in ("csv", "geojson")]
    found += [("POST", "/api/v1/exports", {"format": "csv", "purpose": "Ward panel", "recipient": "Council"})]
    return found


def test_no_list_map_search_or_export_shows_what_the_actor_may_not_see(app, world):
    _, objects, pages, secrets = world
    problems = []
    for actor in ACTORS:
        for method, url, data in listing_urls(app, world):
            if actor == "auditor" and urlsplit(url).path.split("/")[1] == "audit":
                continue  # the audit log names what every officer opened and searched for: the auditor's work
                # (professional standards), covered by test_an_auditor_uses_only_the_audit_pages and test_audit_viewer
            if url.startswith("/api/"):
                response = app.test_client().open(url, method=method, json=data, headers=bearer(secrets[actor]))
            else:
                response = pages[actor].open(url, method=method, data=data, follow_redirects=True)
            if response.status_code >= 500:
                problems.append(f"{method} {url} as {actor}: {response.status_code}")
            text = body(response)
            if data and "q" in data:  # the search form shows the words searched for: not a leak
                text = text.replace(data["q"], "").replace(data["q"].lower(), "")
            if found := leaked(actor, objects, text):
                problems.append(f"{method} {url} as {actor}: shows {found}")
    assert not problems, "\n".join(problems)


def test_the_walk_sees_what_a_supervisor_may(app, world):
    """The leak check above can fail: a supervisor's list of entries does show every marker."""
    _, objects, pages, _ = world
    text = body(pages["supervisor"].get("/lists/entries?beat=" + str(objects["own_entry"]["beat"])))
    assert {"others_welfare", "intel_with_source"} <= set(leaked("pcso", objects, text))


def test_an_auditor_uses_only_the_audit_pages(app, world):
    """Role.AUDITOR (professional standards): every entry page, record, list, map, form and API endpoint is
    403; what it may open either declares the auditor by name (the audit pages) or shows no personal data."""
    people, objects, pages, secrets = world
    ids = objects["own_entry"] | {"beat_id": objects["own_entry"]["beat"], "user_id": people["pcso"].id,
                                  "held_id": 1, "priority_id": 1, "token_id": 1, "search_id": "A" * 32,
                                  "slug": "asb-incidents", "incident_id": objects["own_entry"]["entry"],
                                  "request_id": 1, "record_id": 1, "action": "unlock", "case_review_id": 1,
                                  "recommendation_id": 1, "job_id": "B" * 32, "marker_id": 1, "address_id": 1,
                                  "organisation_id": 1, "suggestion_id": 1}
    problems = []
    for rule in rules(app):
        access = app.view_functions[rule.endpoint].access
        if access == PUBLIC:
            continue
        if Role.AUDITOR in access:
            if access == frozenset(Role) and rule.endpoint not in NO_PERSONAL_DATA:
                problems.append(f"{rule.endpoint} is open to every role: add it to NO_PERSONAL_DATA only if it "
                                "shows no entry or record")
            continue
        values = {name: ids[RECORD_ARGUMENTS.get(name, name)] for name in rule.arguments}
        for name, converter in rule._converters.items():  # a fixed choice (<any(...)>): the first it allows
            if isinstance(converter, AnyConverter) and values[name] not in converter.items:
                values[name] = sorted(converter.items)[0]
        url = rule.build(values, append_unknown=False)[1]
        for method in methods(rule):
            response = send(app, world, "auditor", method, url)
            if response.status_code != 403:
                problems.append(f"{method} {url} as auditor: {response.status_code}")
    assert not problems, "\n".join(problems)


def test_an_erased_entry_is_gone_only_to_those_who_could_see_it(app, world):
    """Every route that takes the erased entry (pages and API) answers 410 to those who could have opened it, and
    to the others just what it answers for a record that never was (404; 403 for a role the route is closed to;
    400/422 where the body is refused before any record is looked up): they learn nothing. Its person, vehicle,
    place and photo went with it: never-was to all. Nothing of the entry is in any answer (the walks above too)."""
    _, objects, _, _ = world
    ids, never = objects["erased"], {name: 987654 for name in objects["erased"]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ErasedRecord).where(
        ErasedRecord.record_type == "entry", ErasedRecord.record_id == ids["entry"])) == 1
    problems, gone = [], 0
    for (method, url, endpoint), (_, never_url, _) in zip(object_urls(app, ids), object_urls(app, never), strict=True):
        names_entry = "/entries/" in url or "/patrols/" in url or "from=" in url
        for actor in ACTORS:
            response, baseline = send(app, world, actor, method, url), send(app, world, actor, method, never_url)
            expected = {baseline.status_code}
            if names_entry and COULD_HAVE_SEEN["erased"][ACTORS.index(actor)] and baseline.status_code == 404:
                expected = {410}
            gone += response.status_code == 410
            if response.status_code not in expected:
                problems.append(f"{method} {url} ({endpoint}) as {actor}: {response.status_code}, not {expected}")
            elif found := leaked(actor, objects, body(response)):
                problems.append(f"{method} {url} as {actor}: shows {found}")
    assert gone > 20  # the entry's page, PDF, edit, API read... to the three who could have seen it
    assert not problems, "\n".join(problems)
