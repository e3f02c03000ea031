"""Hypothesis over every form the pages render, and every JSON endpoint the page scripts call: random and
hostile input never makes a 500, and what it stores still renders.

The forms are not listed by hand: each page in PAGES is opened as the user who would use it, and every POST
form on it is read from the HTML (its action, its fields, their choices). A test checks that the forms found,
with the JSON endpoints and the few POSTs that have no form of their own, are every POST route of the URL map
outside /api/ (tests/test_fuzz_api.py covers those): a new POST route fails it until it is fuzzed too.

Each example posts one form with each field kept, dropped, repeated or replaced by something hostile: huge
text, Unicode (right-to-left overrides, combining marks, emoji, byte order marks), NUL, wrong types, impossible
dates, out-of-range coordinates, nan and infinities, ids beyond any integer. Settings: tests/conftest.py
(profile "ci": few examples, derandomized, so a run is reproducible).
"""
from __future__ import annotations

import json
import uuid
from datetime import date
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from pcso.api.tokens import create_token
from pcso.briefing.services import start_shift
from pcso.entries.held import hold_submission
from pcso.extensions import db
from pcso.lists.approvals import decide_export, request_export
from pcso.lists.exports import export_summary
from pcso.lists.filters import EntryFilter
from pcso.timeutil import london_today, utcnow
from pcso.models import BeatPriority, EntryKind, EntryStatus, LinkRole, Role, TokenScope, User
from pcso.models import AddressRole, Organisation, OrganisationType, PersonAddress, PersonWarningMarker
from tests import factories
from tests.factories import signed_in, soup
from tests.hostile import NASTY, hostile, text
from tests.test_amendments import form_values

OLD_TRAFFORD = factories.OLD_TRAFFORD

pytestmark = pytest.mark.usefixtures("memoised_hashing")

@st.composite
def filled(draw, fields: list[tuple[str, list[str]]]) -> MultiDict:
    """A form body: each field kept (one of its own values), dropped, repeated, or hostile."""
    data = MultiDict()
    for name, values in fields:
        how = draw(st.sampled_from(["keep", "keep", "keep", "hostile", "hostile", "drop", "repeat"]))
        if how == "keep" and values:
            data.add(name, draw(st.sampled_from(values)))
        elif how == "hostile":
            data.add(name, draw(hostile))
        elif how == "repeat":
            for value in draw(st.lists(hostile, min_size=2, max_size=3)):
                data.add(name, value)
    return data


# --- the pages and their forms --------------------------------------------------------------------------------

PAGES = [  # (who opens it, the page): every POST form on it is fuzzed
    ("anonymous", "/login"),
    ("pcso", "/locations/new"), ("pcso", "/organisations/new"),
    *[("pcso", f"/{slug}/new") for slug in ("patrols", "asb-incidents", "school-visits", "welfare-checks",
                                             "intelligence-reports")],
    ("pcso", "/intelligence-reports/new?from={asb}"),
    ("pcso", "/entries/{draft}/edit"), ("pcso", "/entries/{draft}"), ("pcso", "/entries/{patrol}"),
    ("pcso", "/entries/{draft}/pdf"), ("supervisor", "/lists/entries/export?kind=asb-incidents"), ("pcso", "/search"),
    ("pcso", "/briefing"), ("pcso", "/account/tokens"), ("pcso", "/entries/held/{held}"),
    ("supervisor", "/entries/{submitted}"), ("supervisor", "/entries/{welfare}"),  # the reason for access
    ("supervisor", "/people/{person}"), ("supervisor", "/vehicles/{vehicle}"),
    ("supervisor", "/locations/{location}"), ("supervisor", "/organisations/{organisation}"),  # merge forms
    ("supervisor", "/people/{person}/edit"), ("supervisor", "/vehicles/{vehicle}/edit"),
    ("supervisor", "/beats/{beat}/priorities/new"), ("supervisor", "/priorities/{priority}/edit"),
    ("supervisor", "/beats/{beat}"), ("supervisor", "/briefing"),  # not on shift: "Start shift"
    ("admin", "/admin/users/{victim}"), ("admin", "/admin/users/{victim}/tokens"),
    ("pcso", "/briefing.pdf"), ("pcso", "/account/password"), ("pcso", "/account/two-step"),
    ("pcso", "/entries/{approved}/amend"), ("supervisor", "/entries/{amended}"),
    ("supervisor", "/exports/{pending_export}"), ("supervisor", "/exports/{approved_export}"),
    ("admin", "/retention/entries/{asb}"), ("auditor", "/audit/export"),
]
# Sent by the pages' scripts as JSON (fuzzed below), or needing what a form can't give.
JSON_ENDPOINTS = {"geo_api.locate": "/geo/locate", "geo_api.postcode": "/geo/postcode",
                  "pole.suggest_people": "/people/suggest", "pole.suggest_vehicles": "/vehicles/suggest",
                  "places.suggest_location": "/locations/suggest",
                  "places.suggest_organisation": "/organisations/suggest"}
NOT_FUZZED = {"auth.logout": "signs out: tests/test_auth.py",
              # the same forms as /locations/new and /organisations/new (fuzzed above): tests/test_places.py
              "places.edit_location": "tests/test_places.py", "places.edit_organisation": "tests/test_places.py"}
# A half-finished sign-in (password taken, the code awaited, or a code to set up first): fuzzed on their own below.
SECOND_STEP = {"auth.code": ("/login/code", True), "auth.enrol": ("/login/set-up-code", False)}
# ASB Case Review: each step's form shows only in its state; bad input on each is tested in
# tests/test_case_reviews_views.py (a 400 with the message, never a 500).
NOT_FUZZED.update({f"case_reviews.{name}": "tests/test_case_reviews_views.py" for name in (
    "create", "threshold", "informed", "review", "recommendation", "appeal", "appeal_decision")})
# A finished job's page holds one button and no fields (its hidden CSRF token only): tests/test_jobs.py.
NOT_FUZZED["jobs.download"] = "an empty form (the CSRF token only): tests/test_jobs.py"


def _priority(supervisor) -> BeatPriority:
    priority = BeatPriority(beat_id=factories.beat(OLD_TRAFFORD).id, issue="Fuzz issue", issue_date=date(2026, 11, 1),
                            set_by_id=supervisor.id)
    db.session.add(priority)
    db.session.flush()
    return priority


def _held(author):
    return hold_submission(author, EntryKind.ASB_INCIDENT, str(uuid.uuid4()), factories.asb_form(),
                           {"summary": "Enter a short summary"})


def _amended(app, pcso, supervisor) -> int:
    """An approved entry with an amendment waiting: the supervisor's decision form."""
    db.session.commit()
    author = signed_in(app, pcso)
    entry_id = int(author.post("/asb-incidents/new", data=factories.asb_form()).location.rsplit("/", 1)[1])
    assert signed_in(app, supervisor).post(f"/entries/{entry_id}/review", data={"decision": "approve"}).status_code == 302
    data = {**form_values(soup(author.get(f"/entries/{entry_id}/amend"))), "action": "amend",
            "amendment_reason": "Fuzz: the description was wrong", "description": "Fuzz amended"}
    assert author.post(f"/entries/{entry_id}/amend", data=data).status_code == 302
    return entry_id


def _export_requests(supervisor, sensitive) -> dict:
    """An OFFICIAL-SENSITIVE export another analyst asked for (the decision form) and the supervisor's own,
    approved (the download button)."""
    analyst = factories.user(Role.ANALYST, beats=[OLD_TRAFFORD])
    db.session.flush()
    filters = EntryFilter.from_args(MultiDict({"kind": "intelligence-reports"}))

    def asked(actor):
        summary = export_summary(filters.clauses(actor, today=london_today()))
        assert summary.needs_approval
        return request_export(filters, summary, fmt="csv", purpose="Fuzz", recipient="Fuzz", actor=actor)

    pending, mine = asked(analyst), asked(supervisor)
    db.session.flush()
    decide_export(mine, approve=True, comment="Fine", actor=analyst)
    return {"pending_export": pending.id, "approved_export": mine.id}


@pytest.fixture
def world(app):
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    supervisor = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD])
    admin = factories.user(Role.ADMIN)
    victim = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])  # the admin's forms change this one, not the actors
    draft = factories.asb(pcso, OLD_TRAFFORD, status=EntryStatus.DRAFT)
    asb = factories.asb(pcso, OLD_TRAFFORD)
    factories.link(draft, factories.person("Fuzz Person"), LinkRole.WITNESS)
    factories.link(draft, factories.vehicle("FZ12 ZZZ"))
    factories.photo(draft, gps=factories.GPS_M15_4AD, taken="2026:12:01 14:02:00")
    patrol = factories.patrol(pcso, OLD_TRAFFORD, status=EntryStatus.DRAFT)
    patrol.ended_at = None  # running: its page has the end form
    submitted = factories.asb(pcso, OLD_TRAFFORD)
    person = factories.link(submitted, factories.person("Fuzz Other", aliases=["Fuzzy"]), LinkRole.WITNESS).person
    # an alias, a marker and an address: their remove (and review) forms are on the person's edit page
    person.markers.append(PersonWarningMarker(marker="violent"))
    person.addresses.append(PersonAddress(location=factories.location("1 Fuzz Road"), role=AddressRole.HOME))
    vehicle = factories.link(submitted, factories.vehicle("FZ12 ZZY")).vehicle
    location = factories.link(submitted, factories.location("2 Fuzz Road", "M16 9AX"), LinkRole.SCENE).location
    organisation = Organisation(name="Fuzz Shop", name_key="fuzz shop", org_type=OrganisationType.SHOP)
    db.session.add(organisation)
    db.session.flush()
    factories.link(submitted, organisation)
    ids = {"draft": draft.id, "asb": asb.id, "patrol": patrol.id, "submitted": submitted.id, "person": person.id,
           "vehicle": vehicle.id, "location": location.id, "organisation": organisation.id, "beat": factories.beat(OLD_TRAFFORD).id, "victim": victim.id,
           "priority": _priority(supervisor).id, "held": _held(pcso).id}
    factories.link(submitted, factories.person("Fuzz Victim"), LinkRole.VICTIM)  # the supervisor's risk review
    victim.locked_at, victim.lock_reason = utcnow(), "fuzz"  # the admin's unlock form
    victim.totp_secret, victim.totp_enabled_at = "not-a-real-token", utcnow()  # and reset two-step
    approved = factories.asb(pcso, OLD_TRAFFORD, status=EntryStatus.APPROVED)
    welfare = factories.welfare(pcso, beat_code=OLD_TRAFFORD)  # OFFICIAL-SENSITIVE: the supervisor is asked why
    ids |= {"welfare": welfare.id, "approved": approved.id, "amended": _amended(app, pcso, supervisor),
            **_export_requests(supervisor, factories.intel(pcso, OLD_TRAFFORD))}
    start_shift(pcso)  # the briefing shows "End shift"
    for officer in (pcso, victim):
        create_token(officer, name="Fuzz", scope=TokenScope.READ, days=30, actor=officer)  # revoke forms
    db.session.commit()
    return {"pcso": pcso, "supervisor": supervisor, "admin": admin, "auditor": factories.user(Role.AUDITOR)}, ids


def client_for(app, people, actor):
    """One signed-in client per actor and test (signing in for each example would be most of the run)."""
    clients = people.setdefault("_clients", {})
    if actor not in clients or (actor != "anonymous" and clients[actor].get("/account/tokens").status_code != 200):
        clients[actor] = app.test_client() if actor == "anonymous" else signed_in(app, people[actor])
    return clients[actor]


def page_forms(app, response, page: str) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """(action path, [(field name, its values on the page)]) for every POST form in the page."""
    found = []
    for form in soup(response).select("form"):
        if (form.get("method") or "get").lower() != "post":
            continue
        action = urlsplit(form.get("action") or page).path
        if action == "/logout":
            continue
        fields: dict[str, list[str]] = {}
        for element in form.select("input[name], select[name], textarea[name], button[name]"):
            name = element["name"]
            if name == "csrf_token" or element.get("type") == "file":
                continue
            values = fields.setdefault(name, [])
            if element.name == "select":
                values += [option.get("value", option.get_text()) for option in element.select("option")]
            elif element.name == "textarea":
                values.append(element.get_text())
            elif element.get("value") is not None:
                values.append(element["value"])
        found.append((action, list(fields.items())))
    return found


SEEN_FORMS: dict[tuple, list] = {}


def endpoint_of(app, path: str) -> str:
    return app.url_map.bind("localhost").match(path, method="POST")[0]


def test_the_pages_hold_a_form_for_every_post_route(app, world):
    people, ids = world
    covered = set(JSON_ENDPOINTS) | set(NOT_FUZZED) | set(SECOND_STEP)
    for actor, page in PAGES:
        response = client_for(app, people, actor).get(page.format(**ids))
        assert response.status_code == 200, page
        covered |= {endpoint_of(app, action) for action, _ in page_forms(app, response, page.format(**ids))}
    posts = {rule.endpoint for rule in app.url_map.iter_rules()
             if "POST" in rule.methods and not rule.rule.startswith("/api/")}
    assert posts - covered == set(), "add a page with this form to PAGES (or the endpoint to JSON_ENDPOINTS)"


@pytest.mark.parametrize("actor, page", PAGES, ids=[page for _, page in PAGES])
@given(data=st.data())
def test_no_form_input_makes_a_server_error(app, world, actor, page, data):
    people, ids = world
    url = page.format(**ids)
    browser = client_for(app, people, actor)
    # The forms as the page first showed them: a post that works changes the page (a patrol ended, an entry
    # reviewed), and later examples post the same forms again, as a stale tab or a replay would.
    key = (id(app), actor, url)
    if key not in SEEN_FORMS:
        SEEN_FORMS[key] = page_forms(app, browser.get(url), url)
    forms = SEEN_FORMS[key]
    assert forms, f"{page} has no POST form"
    action, fields = data.draw(st.sampled_from(forms), label="form")
    body = data.draw(filled(fields), label="body")
    response = browser.post(action, data=body)
    assert response.status_code < 500, (action, response.status_code)
    if response.status_code in (301, 302, 303) and response.location.startswith("/entries/"):
        shown = browser.get(response.location)  # what was stored renders
        assert shown.status_code < 500, response.location


# --- the second step of signing in ------------------------------------------------------------------------------

@pytest.fixture
def half_signed_in(app):
    """A supervisor with two-step sign-in set up (the code form), and one who must set it up first."""
    people = {True: factories.user(Role.SUPERVISOR, two_step=True), False: factories.user(Role.SUPERVISOR, two_step=False)}
    db.session.commit()
    return people


@pytest.mark.parametrize("endpoint", sorted(SECOND_STEP))
@given(data=st.data())
def test_no_input_to_the_second_step_of_signing_in_makes_a_server_error(app, half_signed_in, endpoint, data):
    path, enrolled = SECOND_STEP[endpoint]
    person = half_signed_in[enrolled]
    # Each example signs in afresh: the wrong codes before it must not have locked the account (they count).
    db.session.execute(sa.update(User).where(User.id == person.id).values(
        failed_logins=0, failed_login_since=None, locked_at=None, lock_reason=None))
    db.session.commit()
    browser = app.test_client()
    signing_in = browser.post("/login", data={"collar_number": person.collar_number, "password": factories.PASSWORD})
    assert signing_in.location == path
    page = browser.get(path)
    assert page.status_code == 200
    forms = page_forms(app, page, path)
    assert [endpoint_of(app, action) for action, _ in forms] == [endpoint]
    _, fields = forms[0]
    response = browser.post(path, data=data.draw(filled(fields), label="body"))
    assert response.status_code < 500, (path, response.status_code)
    assert browser.get(path).status_code < 500  # and the step after it (or the sign-in page again)


# --- the JSON the page scripts send -----------------------------------------------------------------------------

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                         text, st.sampled_from(NASTY))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(["q", "lat", "lon", "postcode", "x"]) | text,
                                                 inner, max_size=4)), max_leaves=12)
raw_bodies = st.one_of(
    json_values.map(json.dumps),
    st.sampled_from(["", "{", "[1,", "NaN", '{"lat": NaN, "lon": Infinity}', '{"lat": 1e999, "lon": -1e999}',
                     '{"q": "\\ud800"}', '{"postcode": "\\u0000"}', "[" * 5000 + "]" * 5000,
                     '{"lat": ' + "9" * 5000 + ', "lon": 1}', '{"q": ' + '"x", "q": ' * 100 + '"y"}']),
    text)


@pytest.mark.parametrize("endpoint", sorted(JSON_ENDPOINTS))
@given(body=raw_bodies, content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"]))
def test_no_json_to_the_page_scripts_endpoints_makes_a_server_error(app, world, endpoint, body, content_type):
    people, _ = world
    browser = client_for(app, people, "pcso")
    response = browser.post(JSON_ENDPOINTS[endpoint], data=body.encode("utf-8", "surrogatepass"),
                            content_type=content_type)
    assert response.status_code < 500
    assert response.is_json
