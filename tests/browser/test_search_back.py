"""Search on a phone survives Back and reload: the form posts, then the results are a GET page of their own."""
from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, Role
from pcso.search.index import reindex_entries
from tests import factories
from tests.browser.conftest import OLD_TRAFFORD, check_page, login, open_menu_link

RESULTS = re.compile(r"/search/results/[A-Za-z0-9_-]{32}$")


def test_back_from_a_result_shows_the_results_without_resubmitting(page, make_user, in_db, live_app, problems):
    pcso = make_user()

    def entries():
        author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
        made = [factories.asb(author, beat_code=OLD_TRAFFORD, summary=f"Quadbike on the Kellbrook field {n}")
                for n in range(2)]
        reindex_entries([entry.id for entry in made])
        return made[0].id

    in_db(entries)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)

    def searches() -> int:
        with live_app.app_context():
            count = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
                AuditEvent.action == AuditAction.SEARCH, AuditEvent.actor_id == pcso.id))
            db.session.remove()
            return count

    login(page, pcso)
    open_menu_link(page, "Search")
    page.get_by_label("Words").fill("kellbrook quadbike")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(RESULTS)
    results_url = page.url
    assert "kellbrook" not in results_url.lower()
    expect(page.get_by_test_id("result-count")).to_have_text("2 entries")
    expect(page.get_by_label("Words")).to_have_value("kellbrook quadbike")  # the form, filled in
    check_page(page, "62-search-results-page")
    assert searches() == 1
    posts_after_search = len(posts)

    page.get_by_test_id("search-results").get_by_role("link", name=re.compile("Quadbike on the Kellbrook field")).first.click()
    expect(page).to_have_url(re.compile(r"/entries/\d+$"))

    page.go_back()
    expect(page).to_have_url(results_url)
    expect(page.get_by_test_id("result-count")).to_have_text("2 entries")
    expect(page.get_by_label("Words")).to_have_value("kellbrook quadbike")
    page.reload()
    expect(page).to_have_url(results_url)
    expect(page.get_by_test_id("result-count")).to_have_text("2 entries")
    check_page(page, "63-search-results-after-back-and-reload")

    assert dialogs == [], dialogs  # no "Confirm Form Resubmission"
    assert len(posts) == posts_after_search, posts[posts_after_search:]  # Back and reload posted nothing
    assert searches() == 3  # each view of the results is recorded as a consultation

    # A bookmark of it opened by someone else is not found.
    other = make_user()
    page.context.clear_cookies()
    login(page, other)
    problems.allow(r"status of 404 .*/search/results/")  # the answer this step asks for
    response = page.goto(results_url)
    assert response.status == 404
    expect(page.get_by_test_id("search-gone")).to_contain_text("Search not found")
    expect(page.locator("main")).not_to_contain_text("Kellbrook")
