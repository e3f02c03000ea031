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
