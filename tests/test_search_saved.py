"""Search results under an opaque, per-user, expiring id: the form posts, then 303 to a GET page.

Back, reload and bookmarks open /search/results/<id> again without resubmitting; another user's id,
an expired one and garbage are 404; the terms never appear in a URL or a log line.
"""
from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, Link, LinkRole, Role, SavedSearch
from pcso.search.index import reindex_entries
from pcso.timeutil import utcnow
from tests import factories
from tests.factories import signed_in, soup

OLD_TRAFFORD = factories.OLD_TRAFFORD
NAME = "Zebedee Quartermaine"
RESULTS = re.compile(r"/search/results/([A-Za-z0-9_-]{32})")

pytestmark = pytest.mark.usefixtures("memoised_hashing")


def searches() -> int:
    return db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == AuditAction.SEARCH))


@pytest.fixture
def officer():
    """A PCSO with one entry naming NAME, indexed."""
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    entry = factories.asb(pcso, beat_code=OLD_TRAFFORD, summary="Shouting at the precinct")
    entry.links.append(Link(person=factories.person(NAME), role=LinkRole.SUSPECT, position=0))
    reindex_entries()
    db.session.commit()
    return pcso


def run_search(browser, **data):
    response = browser.post("/search", data=data)
    assert response.status_code == 303, response.status_code
    match = RESULTS.fullmatch(response.location)
    assert match, response.location
    return match[1]


def test_a_search_redirects_to_its_results_and_reload_runs_it_again(app, officer):
    browser = signed_in(app, officer)
    search_id = run_search(browser, person=NAME)
    assert searches() == 0  # keeping the terms is not yet a consultation: the results page is
    for view in (1, 2):  # the redirect, then a reload (or Back, or a bookmark)
        response = browser.get(f"/search/results/{search_id}")
        assert response.status_code == 200
        html = soup(response)
        assert html.select_one("#person")["value"] == NAME  # the form comes back filled in
        assert html.select_one("[data-testid=people-found]").get_text(" ", strip=True).startswith(NAME)
        assert len(html.select("[data-testid=search-results] [data-entry-id]")) == 1
        assert searches() == view  # recorded on every view of the results
    row = db.session.get(SavedSearch, search_id)
    assert row.user_id == officer.id and "csrf_token" not in row.form_data
    assert timedelta(hours=7, minutes=59) < row.expires_at - row.created_at <= timedelta(hours=8)


def test_each_search_gets_its_own_random_id(app, officer):
    browser = signed_in(app, officer)
    ids = {run_search(browser, q="precinct") for _ in range(3)}
    assert len(ids) == 3


def test_another_users_id_is_not_found(app, officer):
    search_id = run_search(signed_in(app, officer), person=NAME)
    colleague = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD])  # who could run the same search
    db.session.commit()
    response = signed_in(app, colleague).get(f"/search/results/{search_id}")
    assert response.status_code == 404
    html = soup(response)
    assert html.select_one("[data-testid=search-gone] h2").get_text(strip=True) == "Search not found"
    assert NAME not in response.get_data(as_text=True)
    assert html.select_one("form[data-testid=search-form]")["action"] == "/search"  # search again
    assert searches() == 0


def test_an_expired_search_says_so_and_offers_the_form(app, officer):
    browser = signed_in(app, officer)
    search_id = run_search(browser, person=NAME)
    db.session.get(SavedSearch, search_id).expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = browser.get(f"/search/results/{search_id}")
    assert response.status_code == 404
    html = soup(response)
    assert html.select_one("[data-testid=search-gone] h2").get_text(strip=True) == "This search has expired"
    assert "8 hours" in html.select_one("[data-testid=search-gone]").get_text()
    assert NAME not in response.get_data(as_text=True)  # not even in the form
    assert html.select_one("form[data-testid=search-form] #person")
    assert searches() == 0


def test_the_ttl_comes_from_config(app, officer):
    app.config["SEARCH_RESULTS_TTL_HOURS"] = 1
    try:
        search_id = run_search(signed_in(app, officer), q="precinct")
    finally:
        app.config["SEARCH_RESULTS_TTL_HOURS"] = 8
    row = db.session.get(SavedSearch, search_id)
    assert row.expires_at - row.created_at == timedelta(hours=1)


@pytest.mark.parametrize("path", [
    "/search/results/" + "A" * 32,  # the right shape, never issued
    "/search/results/short",
    "/search/results/" + "x" * 65,
    "/search/results/has.dots.in.it.and.is.long",
    "/search/results/%27%20OR%201%3D1--aaaaaaaaaaaa",
    "/search/results/",
])
def test_garbage_ids_are_not_found(app, officer, path):
    response = signed_in(app, officer).get(path)
    assert response.status_code == 404


def test_saving_a_search_purges_expired_ones_of_everyone(app, officer):
    other = factories.user(Role.ANALYST)
    db.session.commit()
    old = run_search(signed_in(app, other), q="precinct")
    kept = run_search(signed_in(app, other), q="shouting")
    db.session.get(SavedSearch, old).expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    run_search(signed_in(app, officer), q="precinct")
    db.session.expire_all()
    assert db.session.get(SavedSearch, old) is None
    assert db.session.get(SavedSearch, kept) is not None


def test_flask_search_purge(app, runner, officer):
    search_id = run_search(signed_in(app, officer), q="precinct")
    db.session.get(SavedSearch, search_id).expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    result = runner.invoke(args=["search", "purge"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 expired saved searches." in result.output
    db.session.expire_all()
    assert db.session.get(SavedSearch, search_id) is None


def test_the_terms_never_go_into_a_url_or_a_log_line(app, officer, caplog):
    caplog.set_level(logging.DEBUG)
    browser = signed_in(app, officer)
    response = browser.post("/search", data={"person": NAME}, follow_redirects=True)
    assert response.status_code == 200
    urls = [r.request.url for r in response.history] + [response.request.url]
    assert all("zebedee" not in url.lower() and "quartermaine" not in url.lower() for url in urls), urls
    html = soup(response)
    for link in html.select("a[href], form[action]"):
        assert "zebedee" not in (link.get("href") or link.get("action")).lower()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "zebedee" not in logged.lower() and "quartermaine" not in logged.lower()


def test_a_saved_search_that_no_longer_validates_says_why(app, officer):
    browser = signed_in(app, officer)
    beat = factories.beat(OLD_TRAFFORD)
    search_id = run_search(browser, beat=str(beat.id), q="precinct")
    row = db.session.get(SavedSearch, search_id)
    assert row.form_data["beat"] == [str(beat.id)]
    row.form_data = {**row.form_data, "beat": ["999999"]}  # as if the beat were gone
    db.session.commit()
    response = browser.get(f"/search/results/{search_id}")
    assert response.status_code == 400
    assert soup(response).select("[data-testid=error-summary] a")


def test_admin_cannot_open_results(app, officer):
    search_id = run_search(signed_in(app, officer), q="precinct")
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    assert signed_in(app, admin).get(f"/search/results/{search_id}").status_code == 403
