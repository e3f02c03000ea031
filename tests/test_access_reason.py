"""Reason for access on OFFICIAL-SENSITIVE entries (ACCESS_REASON off / optional / required), recorded with the view."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from pcso.config import load_config
from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, Role, SecurityMarking
from tests import factories
from tests.factories import signed_in, soup

OLD_TRAFFORD = factories.OLD_TRAFFORD
pytestmark = pytest.mark.usefixtures("memoised_hashing")


@pytest.fixture
def reason_mode(app):
    before = app.config["ACCESS_REASON"]

    def set_mode(value: str):
        app.config["ACCESS_REASON"] = value

    yield set_mode
    app.config["ACCESS_REASON"] = before


@pytest.fixture
def world(app):
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    spoc = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    supervisor = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD])
    check = factories.welfare(author, spoc=spoc, beat_code=OLD_TRAFFORD, child_name="Casey Childname")
    ordinary = factories.asb(author, OLD_TRAFFORD)
    sensitive = factories.asb(author, OLD_TRAFFORD, marking=SecurityMarking.OFFICIAL_SENSITIVE)
    db.session.commit()
    return author, spoc, supervisor, check, ordinary, sensitive


def views_of(entry, actor) -> list[dict]:
    """The views' details but the records named (checked to name this entry) and the route (pcso/audit.py)."""
    events = list(db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == AuditAction.VIEW, AuditEvent.object_id == entry.id, AuditEvent.actor_id == actor.id,
        AuditEvent.object_type == "entry").order_by(AuditEvent.id)))
    assert all(entry.id in e.details["records"]["entry"]["ids"] for e in events)
    return [{k: v for k, v in e.details.items() if k not in ("context", "records")} for e in events]


def test_the_default_is_optional_and_a_bad_setting_refuses_to_start(app, tmp_path, monkeypatch):
    assert app.config["ACCESS_REASON"] == "optional"
    monkeypatch.setenv("ACCESS_REASON", "Required ")
    assert load_config(tmp_path)["ACCESS_REASON"] == "required"
    monkeypatch.setenv("ACCESS_REASON", "sometimes")
    with pytest.raises(RuntimeError, match="ACCESS_REASON"):
        load_config(tmp_path)


def test_optional_shows_the_record_and_asks_on_it_then_remembers(app, world, reason_mode):
    reason_mode("optional")
    _, _, supervisor, check, _, _ = world
    browser = signed_in(app, supervisor)
    page = soup(browser.get(f"/entries/{check.id}"))
    assert "Casey Childname" in page.get_text()  # shown at once
    form = page.select_one("[data-testid=reason-inline] form")
    assert form["action"] == f"/entries/{check.id}/reason"
    assert {i["value"] for i in form.select("input[name=why-reason]")} >= {"supervision", "safeguarding", "other"}
    assert views_of(check, supervisor) == [{"kind": "welfare_check"}]  # the view, without a reason yet

    response = browser.post(f"/entries/{check.id}/reason", data={"why-reason": "supervision", "why-note": "Review"})
    assert response.location == f"/entries/{check.id}"
    shown = soup(browser.get(response.location))
    assert "Casey Childname" in shown.get_text() and not shown.select("[data-testid=reason-inline]")
    browser.get(f"/entries/{check.id}")  # a reload
    first, given, reload = views_of(check, supervisor)
    event_id = db.session.scalars(sa.select(AuditEvent.id).where(AuditEvent.object_id == check.id,
                                                                 AuditEvent.actor_id == supervisor.id)
                                  .order_by(AuditEvent.id)).all()[1]
    assert given == {"kind": "welfare_check", "reason": "supervision", "note": "Review"}
    assert reload == {"kind": "welfare_check", "reason": "supervision", "reason_event": event_id}  # no note again
    assert len(views_of(check, supervisor)) == 3  # the redirect did not record a second view


def test_required_shows_nothing_of_the_record_until_a_reason_is_given(app, world, reason_mode):
    reason_mode("required")
    _, _, supervisor, check, _, _ = world
    browser = signed_in(app, supervisor)
    question = browser.get(f"/entries/{check.id}")
    assert question.status_code == 200
    text = question.get_data(as_text=True)
    assert "Casey" not in text and check.summary not in text
    assert soup(question).select_one("h1").get_text(strip=True) == "Why are you opening this record?"
    assert views_of(check, supervisor) == []  # not shown: not a consultation

    for data, field in [({}, "why-reason"), ({"why-reason": "nonsense"}, "why-reason"),
                        ({"why-reason": "other"}, "why-note"),
                        ({"why-reason": "supervision", "why-note": "x" * 201}, "why-note")]:
        refused = browser.post(f"/entries/{check.id}/reason", data=data)
        assert refused.status_code == 400, data
        assert soup(refused).select_one(f"#{field}-error, [id='{field}-error']"), data
        assert "Casey" not in refused.get_data(as_text=True)
    assert views_of(check, supervisor) == []

    response = browser.post(f"/entries/{check.id}/reason",
                            data={"why-reason": "other", "why-note": "  Call   from\tchildren's services "})
    assert "Casey Childname" in browser.get(response.location).get_data(as_text=True)
    assert views_of(check, supervisor) == [{"kind": "welfare_check", "reason": "other",
                                            "note": "Call from children's services"}]
    browser.post("/logout")
    again = signed_in(app, supervisor).get(f"/entries/{check.id}")  # a new login session asks again
    assert "Casey" not in again.get_data(as_text=True)


def test_the_author_and_spoc_are_not_asked_nor_is_anyone_for_official_records(app, world, reason_mode):
    reason_mode("required")
    author, spoc, supervisor, check, ordinary, sensitive = world
    for person in (author, spoc):
        page = soup(signed_in(app, person).get(f"/entries/{check.id}"))
        assert "Casey Childname" in page.get_text() and not page.select("[data-testid=reason-form]")
    sup = signed_in(app, supervisor)
    assert not soup(sup.get(f"/entries/{ordinary.id}")).select("[data-testid=reason-form]")
    assert soup(sup.get(f"/entries/{sensitive.id}")).select("[data-testid=reason-form]")  # sensitive ASB: asked
    assert sup.post(f"/entries/{ordinary.id}/reason", data={"why-reason": "supervision"}).location == \
        f"/entries/{ordinary.id}"
    assert views_of(ordinary, supervisor) == [{"kind": "asb_incident"}]  # the POST recorded nothing


def test_off_never_asks(app, world, reason_mode):
    reason_mode("off")
    _, _, supervisor, check, _, _ = world
    page = soup(signed_in(app, supervisor).get(f"/entries/{check.id}"))
    assert "Casey Childname" in page.get_text() and not page.select("[data-testid=reason-form]")
    assert views_of(check, supervisor) == [{"kind": "welfare_check"}]


def test_a_reason_for_a_record_one_may_not_see_is_a_404(app, world, reason_mode):
    reason_mode("required")
    _, _, _, check, _, _ = world
    colleague = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    browser = signed_in(app, colleague)
    assert browser.post(f"/entries/{check.id}/reason", data={"why-reason": "assigned"}).status_code == 404
    assert browser.post("/entries/999999/reason", data={"why-reason": "assigned"}).status_code == 404
    assert views_of(check, colleague) == []


# --- the API (GET /api/v1/entries/<id>) and photos: the same rule, the reason in headers or the login session ---

def api_read(app, user, entry, **headers):
    from tests.api.helpers import bearer, token
    return app.test_client().get(f"/api/v1/entries/{entry.id}", headers=bearer(token(user), **headers))


def api_views(entry, actor) -> list[dict]:
    return [{k: v for k, v in view.items() if k != "via"} for view in views_of(entry, actor) if view.get("via") == "api"]


def test_api_required_answers_428_naming_the_header_until_a_reason_is_given(app, world, reason_mode):
    from tests.api.helpers import problem
    reason_mode("required")
    _, _, supervisor, check, _, _ = world
    refused = api_read(app, supervisor, check)
    assert refused.status_code == 428
    body = problem(refused)
    assert body["type"].endswith("access-reason-required") and "X-Access-Reason" in body["detail"]
    assert "supervision" in body["detail"] and "Casey" not in refused.get_data(as_text=True)
    assert api_views(check, supervisor) == []  # not shown: not a consultation

    for headers, field in [({"X-Access-Reason": "nonsense"}, "X-Access-Reason"),
                           ({"X-Access-Reason-Note": "just a note"}, "X-Access-Reason"),
                           ({"X-Access-Reason": "other"}, "X-Access-Reason-Note"),
                           ({"X-Access-Reason": "supervision", "X-Access-Reason-Note": "x" * 201}, "X-Access-Reason-Note"),
                           ({"X-Access-Reason": "supervision", "X-Access-Reason-Note": "%ff%fe"}, "X-Access-Reason-Note")]:
        bad = api_read(app, supervisor, check, **headers)
        assert bad.status_code == 422, headers
        assert field in problem(bad)["errors"] and "Casey" not in bad.get_data(as_text=True), headers
    assert api_views(check, supervisor) == []

    shown = api_read(app, supervisor, check, **{"X-Access-Reason": "safeguarding",
                                                "X-Access-Reason-Note": "Strategy%20meeting%20%E2%80%94%20ref%2042"})
    assert shown.status_code == 200 and shown.get_json()["id"] == check.id
    assert api_views(check, supervisor) == [{"kind": "welfare_check", "reason": "safeguarding",
                                             "note": "Strategy meeting \u2014 ref 42"}]
    again = api_read(app, supervisor, check)  # a token remembers nothing: asked each time
    assert again.status_code == 428


def test_api_optional_takes_a_reason_and_needs_none_off_ignores_it(app, world, reason_mode):
    _, _, supervisor, check, ordinary, _ = world
    reason_mode("optional")
    assert api_read(app, supervisor, check).status_code == 200
    assert api_read(app, supervisor, check, **{"X-Access-Reason": "briefing"}).status_code == 200
    assert api_read(app, supervisor, check, **{"X-Access-Reason": "nonsense"}).status_code == 422  # checked if given
    assert api_views(check, supervisor) == [{"kind": "welfare_check"}, {"kind": "welfare_check", "reason": "briefing"}]
    reason_mode("off")
    assert api_read(app, supervisor, check, **{"X-Access-Reason": "nonsense"}).status_code == 200
    reason_mode("required")
    assert api_read(app, supervisor, ordinary).status_code == 200  # OFFICIAL: never asked
    assert api_views(check, supervisor)[-1] == {"kind": "welfare_check"}
    assert api_views(ordinary, supervisor) == [{"kind": "asb_incident"}]


def test_api_required_spares_the_author_and_spoc_and_404s_before_asking(app, world, reason_mode):
    reason_mode("required")
    author, spoc, _, check, _, _ = world
    for person in (author, spoc):
        assert api_read(app, person, check).status_code == 200
    colleague = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    assert api_read(app, colleague, check).status_code == 404  # not theirs to see: no hint that a reason would do


def test_api_in_the_browser_session_uses_the_reason_the_page_was_given(app, world, reason_mode):
    reason_mode("required")
    _, _, supervisor, check, _, _ = world
    browser = signed_in(app, supervisor)
    assert browser.get(f"/api/v1/entries/{check.id}").status_code == 428
    browser.post(f"/entries/{check.id}/reason", data={"why-reason": "supervision"})
    assert browser.get(f"/api/v1/entries/{check.id}").status_code == 200
    assert api_views(check, supervisor)[-1]["reason"] == "supervision"


@pytest.fixture
def photographed(app, world):
    _, _, _, check, ordinary, _ = world
    shown, plain = factories.photo(check), factories.photo(ordinary)
    db.session.commit()
    return shown, plain


def photo_views(photo, actor) -> list[dict]:
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == AuditAction.VIEW, AuditEvent.object_type == "photo", AuditEvent.object_id == photo.id,
        AuditEvent.actor_id == actor.id).order_by(AuditEvent.id))
    return [{k: v for k, v in e.details.items() if k in ("size", "reason", "reason_event")} for e in events]


def test_photos_required_needs_the_reason_the_entry_was_given_in_this_session(app, world, photographed, reason_mode):
    reason_mode("required")
    _, _, supervisor, check, _, _ = world
    photo, plain = photographed
    browser = signed_in(app, supervisor)
    for path in (f"/photos/{photo.id}", f"/photos/{photo.id}/thumbnail"):
        refused = browser.get(path)
        assert refused.status_code == 403 and refused.mimetype == "text/html", path
        assert soup(refused).select_one(f"form[action='/entries/{check.id}/reason']"), path  # the question
        assert "Casey" not in refused.get_data(as_text=True)
    assert photo_views(photo, supervisor) == []
    assert browser.get(f"/photos/{plain.id}/thumbnail").status_code == 200  # an OFFICIAL entry's: never asked

    browser.post(f"/entries/{check.id}/reason", data={"why-reason": "safeguarding", "why-note": "Meeting"})
    page = soup(browser.get(f"/entries/{check.id}"))
    thumbnail = page.select_one("[data-testid=photos] img")["src"]
    assert thumbnail == f"/photos/{photo.id}/thumbnail"
    loaded = browser.get(thumbnail)
    assert loaded.status_code == 200 and loaded.mimetype == "image/jpeg"
    assert browser.get(f"/photos/{photo.id}").status_code == 200
    [(size_1, reason_1, event_1), (size_2, reason_2, event_2)] = [
        (v["size"], v.get("reason"), v.get("reason_event")) for v in photo_views(photo, supervisor)]
    assert (size_1, size_2, reason_1, reason_2) == ("thumbnail", "full", "safeguarding", "safeguarding")
    assert event_1 == event_2 and event_1 is not None
    assert db.session.get(AuditEvent, event_1).details["note"] == "Meeting"  # the view with the reason given

    browser.post("/logout")
    assert signed_in(app, supervisor).get(f"/photos/{photo.id}").status_code == 403  # a new session: asked again


def test_photos_optional_and_off_are_shown_without_a_reason(app, world, photographed, reason_mode):
    _, spoc, supervisor, _, _, _ = world
    photo, _ = photographed
    for value in ("optional", "off"):
        reason_mode(value)
        assert signed_in(app, supervisor).get(f"/photos/{photo.id}/thumbnail").status_code == 200, value
    reason_mode("required")
    assert signed_in(app, spoc).get(f"/photos/{photo.id}").status_code == 200  # their own record: never asked
    assert photo_views(photo, supervisor) == [{"size": "thumbnail"}, {"size": "thumbnail"}]
