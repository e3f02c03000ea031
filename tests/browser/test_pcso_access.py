"""What a second PCSO on the same beat can and cannot see, in the browser."""
from __future__ import annotations

from playwright.sync_api import expect

from pcso.extensions import db
from pcso.models import User
from tests import factories
from tests.browser.conftest import OLD_TRAFFORD, beat_id, check_page, login


def test_pcso_cannot_open_another_pcsos_welfare_check_but_sees_their_asb(live_app, new_context, problems,
                                                                          make_user, in_db):
    first = make_user(name="Pat Walker")
    second = make_user(name="Chris Other")

    def log_for_first():
        author = db.session.get(User, first.id)
        return (factories.asb(author, OLD_TRAFFORD, summary="Fireworks at the rec").id,
                factories.welfare(author, beat_code=OLD_TRAFFORD, summary="Welfare visit, Jordan").id)

    asb_id, welfare_id = in_db(log_for_first)
    beat_url = f"/beats/{beat_id(live_app)}"

    page = new_context().new_page()
    login(page, second)
    problems.allow(r"status of 404 .*/entries/%d\]" % welfare_id)
    response = page.goto(f"/entries/{welfare_id}")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.locator("main")).not_to_contain_text("Jordan")
    check_page(page, "20-welfare-404")

    page.goto(beat_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Old Trafford")
    expect(page.locator("main")).to_contain_text("Chris Other")  # assigned to this beat
    expect(page.locator(f'[data-entry-id="{asb_id}"]')).to_be_visible()
    expect(page.locator(f'[data-entry-id="{welfare_id}"]')).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("Welfare visit, Jordan")
    check_page(page, "21-beat-as-second-pcso")

    # The author (the child's SPOC) does see both there: the welfare check is hidden, not missing.
    author_page = new_context().new_page()
    login(author_page, first)
    author_page.goto(beat_url)
    expect(author_page.locator(f'[data-entry-id="{asb_id}"]')).to_be_visible()
    expect(author_page.locator(f'[data-entry-id="{welfare_id}"]')).to_be_visible()
