"""The shift briefing: since the last shift, only what the officer may see; beat priorities; the PDF."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from pcso.briefing.pdf import briefing_pdf
from tests.job_files import download_from_job
from pcso.briefing.services import PriorityInput, build_briefing, end_shift, set_priority, start_shift
from pcso.extensions import db
from pcso.models import (
    AuditAction, AuditEvent, Beat, BeatPriority, EntryStatus, HandlingCode, Role, SecurityMarking, Shift,
)
from pcso.timeutil import to_london, utcnow
from tests import factories
from tests.factories import signed_in, soup
from tests.test_exports import disclosures_seen_while_rendering, pdf_words

OLD_TRAFFORD = factories.OLD_TRAFFORD
ALTRINCHAM = "E05015239"

pytestmark = pytest.mark.usefixtures("memoised_hashing")


def ids_in(page, testid: str) -> set[int]:
    section = page.select_one(f"[data-testid={testid}]")
    return {int(a["data-entry-id"]) for a in section.select("[data-entry-id]")}


def ago(**kwargs):
    return utcnow() - timedelta(**kwargs)


@pytest.fixture
def team(app):
    return {
        "pcso": factories.user(Role.PCSO, beats=[OLD_TRAFFORD], name="Pat Beat"),
        "colleague": factories.user(Role.PCSO, beats=[OLD_TRAFFORD, ALTRINCHAM], name="Col League"),
        "sergeant": factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD], name="Sgt Priority"),
    }


def test_a_first_briefing_covers_24_hours_then_each_counts_from_the_last_shift(app, team):
    pcso = team["pcso"]
    db.session.commit()
    first = build_briefing(pcso)
    assert abs((first.now - first.since) - timedelta(hours=24)) < timedelta(seconds=5)

    ended = Shift(user_id=pcso.id, started_at=ago(hours=20), ended_at=ago(hours=11))
    db.session.add(ended)
    db.session.commit()
    assert build_briefing(pcso).since == ended.ended_at

    browser = signed_in(app, pcso)
    assert browser.post("/shift/start").location == "/briefing"
    assert browser.post("/shift/start").location == "/briefing"  # booking on twice keeps one shift
    shifts = db.session.scalars(sa.select(Shift).where(Shift.user_id == pcso.id).order_by(Shift.started_at)).all()
    assert len(shifts) == 2
    # On the new shift, the briefing still counts from the end of the one before.
    assert build_briefing(pcso).since == ended.ended_at
    assert "On shift since" in soup(browser.get("/briefing")).select_one("[data-testid=on-shift]").text
    browser.post("/shift/end")
    db.session.expire_all()
    assert db.session.get(Shift, shifts[-1].id).ended_at is not None
    assert build_briefing(pcso).since == db.session.get(Shift, shifts[-1].id).ended_at


def test_the_briefing_shows_only_what_is_new_on_my_beats_and_mine_to_see(app, team):
    pcso, colleague = team["pcso"], team["colleague"]
    db.session.add(Shift(user_id=pcso.id, started_at=ago(hours=30), ended_at=ago(hours=20)))
    new_here = factories.asb(colleague, OLD_TRAFFORD, summary="New on my beat")
    new_here.submitted_at = ago(hours=5)
    old_here = factories.asb(colleague, OLD_TRAFFORD, summary="Before my last shift")
    old_here.submitted_at = ago(hours=25)
    elsewhere = factories.asb(colleague, ALTRINCHAM, summary="Another beat")
    sensitive = factories.asb(colleague, OLD_TRAFFORD, summary="Sensitive",
                              marking=SecurityMarking.OFFICIAL_SENSITIVE)
    draft = factories.asb(colleague, OLD_TRAFFORD, summary="Colleague's draft", status=EntryStatus.DRAFT)
    intel = factories.intel(colleague, OLD_TRAFFORD, summary="Open intel", marking=SecurityMarking.OFFICIAL)
    secret_intel = factories.intel(colleague, OLD_TRAFFORD, summary="Sensitive intel")
    mine = factories.asb(pcso, OLD_TRAFFORD, summary="My own")
    returned = factories.asb(pcso, OLD_TRAFFORD, summary="Returned to me", status=EntryStatus.RETURNED)
    db.session.commit()

    page = soup(signed_in(app, pcso).get("/briefing"))
    assert ids_in(page, "briefing-new") == {new_here.id}
    assert ids_in(page, "briefing-intelligence") == {intel.id}
    assert ids_in(page, "briefing-returned") == {returned.id}
    shown = {int(a["data-entry-id"]) for a in page.select("[data-entry-id]")}
    assert not shown & {old_here.id, elsewhere.id, sensitive.id, draft.id, secret_intel.id, mine.id}
    assert page.select_one("[data-testid=briefing-new] h2").text == "New on your beats (2)"  # the ASB + the intel
    assert page.select_one("[data-testid=marking]") is None  # nothing sensitive shown: OFFICIAL

    event = briefing_event()
    assert (event.action, event.actor_id) == (AuditAction.VIEW, pcso.id)
    assert (event.details["new"], event.details["intelligence"], event.details["returned"]) == (2, 1, 1)
    assert shown <= set(event.details["records"]["entry"]["ids"])  # every entry the page shows is named


def briefing_event():
    """The briefing's one view event (pcso/audit.py: a consultation with screen "briefing")."""
    (event,) = [e for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.VIEW))
                if e.details.get("screen") == "briefing"]
    return event


def test_welfare_visits_due_and_hotspots_appear_for_the_spoc(app, team):
    pcso, colleague = team["pcso"], team["colleague"]
    today = to_london(utcnow()).date()
    mine = factories.welfare(colleague, spoc=pcso, beat_code=OLD_TRAFFORD, child_name="Riley Mine",
                             next_visit_on=today + timedelta(days=2))
    not_mine = factories.welfare(colleague, spoc=colleague, beat_code=OLD_TRAFFORD, child_name="Casey Notmine",
                                 next_visit_on=today - timedelta(days=1))
    for hours in (3, 30, 50):
        factories.asb(colleague, OLD_TRAFFORD, occurred_at=ago(hours=hours), summary="Cluster")
    db.session.commit()

    with app.test_request_context():  # hotspots carry the url of their list
        briefing = build_briefing(pcso)
    assert [item.check.id for item in briefing.welfare_due] == [mine.id]
    assert briefing.marking == SecurityMarking.OFFICIAL_SENSITIVE  # it names a child
    page = soup(signed_in(app, pcso).get("/briefing"))
    welfare = page.select_one("[data-testid=briefing-welfare]")
    assert mine.child.full_name in welfare.text and not_mine.child.full_name not in welfare.text
    assert page.select_one("[data-testid=marking]").text == "OFFICIAL-SENSITIVE"
    [spot] = page.select("[data-testid=hotspot]")
    assert spot.select_one("strong").text == "3 ASB incidents"  # the factory places all three at one point
    assert "/lists/entries?" in spot["href"] and "kind=asb-incidents" in spot["href"]


def test_supervisors_set_priorities_that_officers_see(app, team):
    beat_id = factories.beat(OLD_TRAFFORD).id
    db.session.commit()
    sergeant = signed_in(app, team["sergeant"])
    bad = sergeant.post(f"/beats/{beat_id}/priorities/new", data={
        "issue": "Car crime on Shrewsbury Street", "issue_date": "2026-11-01", "action": "",
        "action_date": "2026-11-10"})
    assert bad.status_code == 400
    assert "Describe the action this date is for" in soup(bad).select_one("[data-testid=error-summary]").text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BeatPriority)) == 0

    response = sergeant.post(f"/beats/{beat_id}/priorities/new", data={
        "issue": "Car crime on Shrewsbury Street", "issue_date": "2026-11-01",
        "action": "Evening foot patrols, crime prevention leaflets", "action_date": "2026-11-10"})
    assert response.status_code == 302
    priority = db.session.scalar(sa.select(BeatPriority))
    assert (priority.issue_date, priority.action_date, priority.set_by_id) == (
        date(2026, 11, 1), date(2026, 11, 10), team["sergeant"].id)
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.object_type == "beat_priority")).action == "create"

    officer = signed_in(app, team["pcso"])
    section = soup(officer.get("/briefing")).select_one("[data-testid=briefing-priorities]")
    assert "Car crime on Shrewsbury Street" in section.text and "Evening foot patrols" in section.text
    assert officer.post(f"/beats/{beat_id}/priorities/new", data={"issue": "x"}).status_code == 403

    assert sergeant.post(f"/priorities/{priority.id}/edit", data={
        "issue": "Car crime on Shrewsbury Street and Ayres Road", "issue_date": "2026-11-01"}).status_code == 302
    assert sergeant.post(f"/priorities/{priority.id}/close").status_code == 302
    db.session.expire_all()
    closed = db.session.get(BeatPriority, priority.id)
    assert closed.closed_at is not None and closed.issue.endswith("Ayres Road")  # kept on record
    assert "Ayres Road" not in soup(officer.get("/briefing")).select_one("[data-testid=briefing-priorities]").text
    assert sergeant.get(f"/priorities/{priority.id}/edit").status_code == 409


PURPOSE = "Briefing the late turn PCSO team"


def briefing_disclosures() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.object_type == "briefing",
                                                               AuditEvent.action == AuditAction.DISCLOSE)))
RECIPIENT = "Old Trafford PCSO team"


def test_the_printable_briefing_is_a_disclosure_with_purpose_and_recipient(app, team):
    """Issue 10, item 6: one click used to download an OFFICIAL-SENSITIVE file, recorded only as a view."""
    entry = factories.asb(team["colleague"], OLD_TRAFFORD,
                          summary="Shouting \u2014 \u201cquotes\u201d and Zo\u00eb \u0141\u00f3d\u017a")
    db.session.commit()
    browser = signed_in(app, team["pcso"])
    assert soup(browser.get("/briefing")).select_one("[data-testid=briefing-pdf]")["href"] == "/briefing.pdf"
    form = browser.get("/briefing.pdf")  # a form now, not the file
    assert form.status_code == 200 and form.mimetype == "text/html"
    assert soup(form).select_one("[data-testid=briefing-pdf-form]")["method"] == "post"
    assert briefing_disclosures() == []
    refused = browser.post("/briefing.pdf", data={"purpose": PURPOSE})
    assert refused.status_code == 400 and refused.mimetype == "text/html"
    assert "Say who will receive it" in soup(refused).select_one("[data-testid=error-summary]").text
    assert briefing_disclosures() == []

    response = download_from_job(browser, browser.post("/briefing.pdf", data={"purpose": PURPOSE,
                                                                            "recipient": RECIPIENT}))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF") and len(response.data) > 1000
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    (event,) = briefing_disclosures()
    assert event.actor_id == team["pcso"].id
    assert event.details["format"] == "pdf" and event.details["new"] == 1
    assert (event.details["purpose"], event.details["recipient"]) == (PURPOSE, RECIPIENT)
    assert event.details["marking"] == "OFFICIAL" and event.details["records"]["entry"]["ids"] == [entry.id]


def test_the_briefing_pdf_renders_after_the_disclosure_is_committed_and_holds_no_write_lock(app, team, monkeypatch):
    """Issue 10, item 6: a shift started while a PDF rendered waited 0.73 s for SQLite's write lock."""
    factories.welfare(team["colleague"], spoc=team["pcso"], beat_code=OLD_TRAFFORD, child_name="Riley Child")
    db.session.commit()
    seen = disclosures_seen_while_rendering(monkeypatch)  # fails with "database is locked" under the lock
    browser = signed_in(app, team["pcso"])
    response = download_from_job(browser, browser.post("/briefing.pdf", data={"purpose": PURPOSE,
                                                                            "recipient": RECIPIENT}))
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert seen["disclosures"] == 1  # already committed when the rendering began


def test_intelligence_with_handling_code_c_carries_its_conditions_into_the_briefing(app, team):
    report = factories.intel(team["colleague"], OLD_TRAFFORD, handling_code=HandlingCode.CONDITIONS,
                             handling_conditions="Only to the council ASB team")
    plain = factories.intel(team["colleague"], OLD_TRAFFORD, summary="Graded P")
    db.session.commit()
    sergeant = team["sergeant"]
    page = soup(signed_in(app, sergeant).get("/briefing"))
    (notice,) = page.select("[data-testid=handling-conditions]")  # the C report only
    assert "Only to the council ASB team" in notice.text
    briefing = build_briefing(sergeant)
    assert {entry.id for entry in briefing.intelligence} == {report.id, plain.id}
    text = pdf_words(briefing_pdf(briefing, purpose=PURPOSE, recipient=RECIPIENT, unicode_font=False))
    assert "Handling code C - share only on these conditions: Only to the council ASB team" in text
    assert text.count("share only on these conditions") == 1
    assert f"Purpose {PURPOSE}" in text and RECIPIENT in text


def test_shifts_and_priorities_can_be_backdated_for_the_demo_history(app, team):
    pcso, sergeant = team["pcso"], team["sergeant"]
    started = ago(hours=30)

    shift, created = start_shift(pcso, at=started)
    assert created and shift.started_at == started
    assert end_shift(pcso) is None  # that shift was over long ago: nothing open now
    ended = end_shift(pcso, at=started + timedelta(hours=8))
    assert ended is shift and shift.ended_at == started + timedelta(hours=8)

    beat = db.session.scalar(sa.select(Beat).where(Beat.code == OLD_TRAFFORD))
    set_at = ago(days=3)
    priority = set_priority(BeatPriority(beat_id=beat.id), PriorityInput(" Bikes on the pavement ", date(2026, 1, 5),
                            "Patrols", date(2026, 2, 1)), actor=sergeant, at=set_at)
    assert (priority.issue, priority.set_by_id) == ("Bikes on the pavement", sergeant.id)
    assert priority.created_at == priority.updated_at == set_at
    events = db.session.scalars(sa.select(AuditEvent.object_type).where(AuditEvent.action == AuditAction.CREATE))
    assert {"shift", "beat_priority"} <= set(events)
