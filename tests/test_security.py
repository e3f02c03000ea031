"""CSRF, security headers, no inline script, hostile input, and what may appear in URLs and cookies."""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from pcso.extensions import db
from pcso.models import AsbIncident, Entry, EntryStatus, Role, User, UserSession
from tests import factories
from tests.factories import soup
from tests.conftest import migrated_app

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
OLD_TRAFFORD = factories.OLD_TRAFFORD
POINT = factories.POINT
COOKIE = "beatbook_session"


pytestmark = pytest.mark.usefixtures("memoised_hashing")


def anonymous(app) -> FlaskClient:
    return app.test_client()


# --- CSRF -------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def csrf_app(tmp_path_factory):
    """An app with CSRF protection on, as in production, on its own migrated SQLite database.
    Requests run outside any app context, so each one gets a fresh one, as in production."""
    app = migrated_app(tmp_path_factory.mktemp("csrf") / "csrf.sqlite", WTF_CSRF_ENABLED=True)
    yield app
    with app.app_context():
        db.engine.dispose()


def officer_in(app, role=Role.PCSO):
    with app.app_context():
        person = factories.user(role, beats=[OLD_TRAFFORD])
        db.session.commit()
        return person.collar_number


def token_in(response) -> str:
    page = soup(response)
    hidden = page.select_one("form input[name=csrf_token]")
    token = hidden["value"] if hidden else page.select_one("meta[name=csrf-token]")["content"]
    assert token
    return token


def sign_in_with_token(app, collar: str):
    browser = app.test_client()
    response = browser.post("/login", data={"collar_number": collar, "password": factories.PASSWORD,
                                            "csrf_token": token_in(browser.get("/login"))})
    assert response.location == "/"
    return browser


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_sign_in_without_a_csrf_token_is_refused(csrf_app):
    collar = officer_in(csrf_app)
    browser = csrf_app.test_client()
    browser.get("/login")
    response = browser.post("/login", data={"collar_number": collar, "password": factories.PASSWORD})
    assert response.status_code == 400
    assert soup(response).select_one("h1").get_text(strip=True) == "The form could not be accepted"
    response = browser.post("/login", data={"collar_number": collar, "password": factories.PASSWORD,
                                            "csrf_token": "forged"})
    assert response.status_code == 400
    assert count(csrf_app, UserSession, UserSession.user_id == User.id, User.collar_number == collar) == 0


def test_sign_in_with_the_token_from_the_form_works(csrf_app):
    browser = sign_in_with_token(csrf_app, officer_in(csrf_app))
    assert browser.get("/entries").status_code == 200


def test_officer_cannot_log_an_entry_without_a_csrf_token(csrf_app):
    browser = sign_in_with_token(csrf_app, officer_in(csrf_app))
    before = count(csrf_app, Entry)
    assert browser.post("/asb-incidents/new", data=factories.asb_form()).status_code == 400
    assert count(csrf_app, Entry) == before

    form_page = browser.get("/asb-incidents/new")
    response = browser.post("/asb-incidents/new", data=factories.asb_form(csrf_token=token_in(form_page)))
    assert response.status_code == 302 and response.location.startswith("/entries/")
    assert count(csrf_app, Entry) == before + 1


def test_geo_lookups_need_the_csrf_header(csrf_app):
    browser = sign_in_with_token(csrf_app, officer_in(csrf_app))
    body = {"lat": 53.464903, "lon": -2.260757}
    response = browser.post("/geo/locate", json=body)
    assert response.status_code == 400
    assert response.is_json and response.get_json()["error"] == "CSRF check failed"

    meta = soup(browser.get("/asb-incidents/new")).select_one("meta[name=csrf-token]")["content"]
    response = browser.post("/geo/locate", json=body, headers={"X-CSRFToken": meta})
    assert response.status_code == 200
    assert response.get_json()["beat"]["code"] == OLD_TRAFFORD


def test_sign_out_without_a_csrf_token_is_refused(csrf_app):
    browser = sign_in_with_token(csrf_app, officer_in(csrf_app))
    assert browser.post("/logout").status_code == 400
    assert browser.get("/entries").status_code == 200  # still signed in


def test_sign_out_with_the_token_from_the_menu_works(csrf_app):
    browser = sign_in_with_token(csrf_app, officer_in(csrf_app))
    menu_form = soup(browser.get("/entries")).select_one("form[action='/logout']")
    token = menu_form.select_one("input[name=csrf_token]")["value"]
    response = browser.post("/logout", data={"csrf_token": token})
    assert response.location == "/login"
    assert urlsplit(browser.get("/entries").location).path == "/login"


def test_forms_work_over_https_with_a_same_origin_referrer(csrf_app):
    """Flask-WTF checks the Referer on HTTPS: why Referrer-Policy must be same-origin, not no-referrer."""
    collar = officer_in(csrf_app)
    browser = csrf_app.test_client()
    https = {"base_url": "https://localhost"}
    token = token_in(browser.get("/login", **https))
    data = {"collar_number": collar, "password": factories.PASSWORD, "csrf_token": token}
    response = browser.post("/login", data=data, **https)
    assert response.status_code == 400  # no Referer, as no-referrer would make every browser send
    response = browser.post("/login", data=data, headers={"Referer": "https://localhost/login"}, **https)
    assert response.location == "/"


# --- headers -----------------------------------------------------------------------------------------------------

def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


@pytest.fixture
def officer_client(client):
    officer = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    entry = factories.asb(officer, OLD_TRAFFORD)
    draft = factories.asb(officer, OLD_TRAFFORD, status=EntryStatus.DRAFT)
    db.session.commit()
    assert factories.login(client, officer).location == "/"
    client.entry_id, client.draft_id = entry.id, draft.id
    return client


def test_html_pages_send_strict_security_headers(app, officer_client):
    for url in ("/login", "/", "/entries", f"/entries/{officer_client.entry_id}", "/asb-incidents/new"):
        response = anonymous(app).get(url) if url == "/login" else officer_client.get(url)
        assert response.status_code == 200 and response.mimetype == "text/html", url
        csp = csp_directives(response)
        assert csp["script-src"] == ["'self'"], url
        assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"], url
        assert csp["frame-ancestors"] == ["'none'"], url
        assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"], url
        assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"], url
        assert response.headers["Referrer-Policy"] == "same-origin", url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["X-Frame-Options"] == "DENY", url


def test_signed_in_pages_and_data_are_not_cached(officer_client):
    for url in ("/", "/entries", f"/entries/{officer_client.entry_id}", "/beats/outlines.geojson"):
        response = officer_client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response.headers["Cache-Control"], url
    response = officer_client.post("/geo/postcode", json={"postcode": "M15 4AD"})
    assert "no-store" in response.headers["Cache-Control"]


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>|<script\b[^>]*>\s*[^<\s]", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[a-zA-Z][^>]*?\son[a-z]+\s*=", re.IGNORECASE)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def test_templates_have_no_inline_script_or_event_handlers():
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 10
    offenders = [f"{path.relative_to(TEMPLATES)}:{text.count(chr(10), 0, match.start()) + 1}: {match.group(0)[:60]}"
                 for path in templates
                 for text in [path.read_text()]
                 for pattern in (INLINE_SCRIPT, EVENT_HANDLER, JS_URL)
                 for match in pattern.finditer(text)]
    assert not offenders, "the CSP forbids inline script:\n" + "\n".join(offenders)


@pytest.mark.parametrize("html, flagged", [
    ('<script>alert(1)</script>', True),
    ('<script src="/static/js/app.js" defer>alert(1)</script>', True),
    ('<button type="button" onclick="go()">', True),
    ('<a href="javascript:go()">', True),
    ('<script src="{{ url_for(\'static\', filename=\'js/app.js\') }}" defer></script>', False),
    ('<p>Logged on=Tuesday</p>', False),
])
def test_inline_script_patterns_catch_inline_script(html, flagged):
    assert any(p.search(html) for p in (INLINE_SCRIPT, EVENT_HANDLER, JS_URL)) is flagged


def test_rendered_pages_have_no_inline_script(officer_client):
    for url in ("/", "/entries", "/entries/new", "/patrols/new", "/asb-incidents/new", "/school-visits/new",
                "/welfare-checks/new", f"/entries/{officer_client.entry_id}", "/beats/", "/data-sources"):
        page = soup(officer_client.get(url))
        scripts = page.find_all("script")
        assert scripts and all(s.get("src") and not s.get_text(strip=True) for s in scripts), url
        handlers = [(tag.name, attr) for tag in page.find_all(True) for attr in tag.attrs if attr.startswith("on")]
        assert not handlers, (url, handlers)


# --- hostile and broken input --------------------------------------------------------------------------------------

def test_a_five_megabyte_post_is_refused_and_nothing_changes(client):
    officer = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    draft = factories.asb(officer, OLD_TRAFFORD, status=EntryStatus.DRAFT)
    db.session.commit()
    factories.login(client, officer)
    huge = "x" * (5 * 1024 * 1024)

    response = client.post("/asb-incidents/new", data=factories.asb_form(description=huge))
    assert response.status_code == 413
    page = soup(response)
    assert page.select_one("h1").get_text(strip=True) == "Too much was sent"
    assert "KB" in page.select_one("main p").get_text()

    response = client.post(f"/entries/{draft.id}/edit", data=factories.asb_form(description=huge, summary="Changed"))
    assert response.status_code == 413
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Entry.id))) == 1
    stored = db.session.get(AsbIncident, draft.id)
    assert (stored.description, stored.summary, stored.status) == ("Youths shouting", "Test entry", EntryStatus.DRAFT)
    assert stored.revisions == []


BAD_POINTS = [
    ("garbage", "application/json"),
    ("lat=53.4&lon=-2.2", "application/x-www-form-urlencoded"),
    ("{}", "application/json"),
    ("null", "application/json"),
    ('{"lat": "abc", "lon": "x"}', "application/json"),
    ('{"lat": NaN, "lon": -2.26}', "application/json"),
    ('{"lat": "nan", "lon": "inf"}', "application/json"),
    ('{"lat": Infinity, "lon": -2.26}', "application/json"),
    ('{"lat": 91, "lon": -2.26}', "application/json"),
    ('{"lat": 53.46, "lon": -181}', "application/json"),
    ('{"lat": {"x": 1}, "lon": [1]}', "application/json"),
    ("[53.46, -2.26]", "application/json"),  # a list or a string body was a 500 (data.get)
    ('"53.46,-2.26"', "application/json"),
    ('{"lat": 1%s, "lon": 1}' % ("0" * 400), "application/json"),  # float(huge int): OverflowError, was a 500
]


@pytest.mark.parametrize("body, content_type", BAD_POINTS)
def test_geo_locate_answers_nonsense_with_a_json_400(officer_client, body, content_type):
    response = officer_client.post("/geo/locate", data=body, content_type=content_type)
    assert response.status_code == 400
    assert response.is_json and response.get_json()["error"]


def test_geo_locate_finds_the_beat_of_a_real_point(officer_client):
    response = officer_client.post("/geo/locate", json={"lat": 53.464903, "lon": -2.260757})
    assert response.status_code == 200 and response.get_json()["beat"]["code"] == OLD_TRAFFORD


@pytest.mark.parametrize("body", [
    {"postcode": "ZZ99 9ZZ"}, {"postcode": "not a postcode"}, {"postcode": ""}, {}, {"postcode": ["M15 4AD"]},
    {"postcode": "M15 4AD" * 1000},
])
def test_geo_postcode_answers_an_unknown_postcode_with_a_json_404(officer_client, body):
    response = officer_client.post("/geo/postcode", json=body)
    assert response.status_code == 404
    assert response.is_json and "not found" in response.get_json()["error"]


def test_geo_postcode_answers_a_list_body_with_json(officer_client):
    response = officer_client.post("/geo/postcode", data="[1]", content_type="application/json")
    assert response.status_code in (400, 404) and response.is_json


def test_geo_postcode_finds_a_trafford_postcode(officer_client):
    response = officer_client.post("/geo/postcode", json={"postcode": "m154ad"})
    assert response.status_code == 200
    assert response.get_json()["postcode"] == "M15 4AD"
    assert response.get_json()["beat"]["code"] == OLD_TRAFFORD


def test_missing_entry_is_a_404_page(officer_client):
    response = officer_client.get("/entries/999999")
    assert response.status_code == 404
    assert soup(response).select_one("h1").get_text(strip=True) == "Page not found"


@pytest.mark.parametrize("url, status", [
    # beyond the database's integer these reached the query and raised: OverflowError on SQLite,
    # "integer out of range" on PostgreSQL (whose id columns are 32-bit)
    ("/entries/99999999999999999999", 404), ("/entries/2147483648", 404), ("/beats/99999999999999999999", 404),
    ("/beats/2147483648", 404), ("/entries/2147483648/edit", 404), ("/admin/users/2147483648", 404),
    ("/entries?page=99999999999999999999", 200), ("/entries?page=2147483648", 200),
    ("/entries?beat=99999999999999999999", 200), ("/entries?beat=2147483648", 200),
])
def test_out_of_range_numbers_in_urls_are_not_server_errors(officer_client, url, status):
    assert officer_client.get(url).status_code == status


@pytest.mark.parametrize("query", ["page=abc", "page=0", "page=-3", "kind=nonsense", "kind=", "status=bogus",
                                   "beat=abc", "beat=999999", "kind=welfare-checks&page=2&status=draft"])
def test_entry_list_shrugs_off_odd_filters(officer_client, query):
    response = officer_client.get(f"/entries?{query}")
    assert response.status_code == 200
    assert soup(response).select_one("[data-testid=result-count]") is not None


# --- URLs and cookies ------------------------------------------------------------------------------------------

def test_entry_forms_send_their_contents_in_the_body(app, officer_client):
    for url in ("/patrols/new", "/asb-incidents/new", "/school-visits/new", "/welfare-checks/new",
                f"/entries/{officer_client.draft_id}/edit"):
        form = soup(officer_client.get(url)).select_one("form[data-entry-form]")
        assert form["method"].lower() == "post", url
        assert "?" not in form.get("action", ""), url
    login_form = soup(anonymous(app).get("/login")).select_one("main form")
    assert login_form["method"].lower() == "post"


def test_geo_lookups_take_post_bodies_only(app, officer_client):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/geo/") and rule.endpoint != "geo_api.offline_pack":  # the pack takes no input
            assert rule.methods - {"HEAD", "OPTIONS"} == {"POST"}, rule.rule
    response = officer_client.get("/geo/postcode?postcode=M15+4AD")
    assert response.status_code == 405 and response.is_json
    response = officer_client.get("/geo/locate?lat=53.46&lon=-2.26")
    assert response.status_code == 405 and response.is_json


def test_session_cookie_is_http_only_and_same_site_lax(client):
    officer = factories.user(Role.PCSO)
    db.session.commit()
    response = factories.login(client, officer)
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{COOKIE}=")]
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert "httponly" in attributes
    assert attributes["samesite"] == "SameSite=Lax"
    assert attributes["path"] == "Path=/"
    stored = client.get_cookie(COOKIE)
    assert stored.http_only and stored.same_site == "Lax"
    app = client.application
    contents = app.session_interface.get_signing_serializer(app).loads(stored.value)
    assert set(contents) <= {"_user_id", "_fresh", "_id", "csrf_token", "_flashes"}, contents
    assert factories.PASSWORD not in json.dumps(contents) and officer.collar_number not in json.dumps(contents)
