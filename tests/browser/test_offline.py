"""The phone with no signal: entries saved offline wait on the phone and arrive once; typed text survives
reloads, expired sessions and sign-out prompts; sign-out wipes the phone; a new service worker keeps the
offline forms working. Chromium at 390x844, offline through the context (context.set_offline)."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent, Entry, EntryKind, EntryStatus
from tests.browser.conftest import login, screenshot

WAIT_MS = 15_000
NO_SIGNAL = r"net::ERR_INTERNET_DISCONNECTED"  # what Chromium logs for each request made with no signal


@pytest.fixture(autouse=True)
def offline_is_expected(problems):
    problems.allow(NO_SIGNAL)


def ready_offline(page: Page, officer) -> None:
    """The service worker controls the page and the officer's forms are kept for use with no signal."""
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller", timeout=WAIT_MS)
    page.wait_for_function(f"""async () => {{
        if (!await caches.has('beatbook-pages-{officer.id}')) return false;
        const cache = await caches.open('beatbook-pages-{officer.id}');
        return (await cache.keys()).length >= 7; }}""", timeout=WAIT_MS)


def signed_in_offline_ready(page: Page, officer) -> None:
    login(page, officer)
    page.reload()  # the first page registers the worker; from the second it controls the page
    ready_offline(page, officer)


def entries_by(live_app, officer) -> list[tuple[str, str, str]]:
    with live_app.app_context():
        rows = db.session.execute(sa.select(Entry.kind, Entry.summary, Entry.status)
                                  .where(Entry.author_id == officer.id).order_by(Entry.id)).all()
        db.session.remove()
    return [(kind.value, summary, status.value) for kind, summary, status in rows]


def fill_asb(page: Page, summary: str) -> None:
    page.fill("#summary", summary)
    page.locator("label[for=nsir_category-1]").click()
    page.select_option("#asb_type", "noise")
    page.fill("#description", "Shouting and kicking a ball at cars")
    page.fill("#postcode", "M15 4AD")


def fill_patrol(page: Page, purpose: str) -> None:
    page.locator("label[for=mode-0]").click()
    page.fill("#purpose", purpose)
    page.fill("#postcode", "M15 4AD")


def fill_intel(page: Page, summary: str) -> None:
    page.fill("#summary", summary)
    page.fill("#sanitised_text", "A grey Ford Fiesta is seen outside the shop most evenings")
    page.locator("label[for=source_evaluation-1]").click()
    page.locator("label[for=assessment-1]").click()
    page.locator("label[for=handling_code-0]").click()
    page.fill("#postcode", "M15 4AD")


def outbox_states(page: Page) -> list[str]:
    expect(page.locator("[data-outbox-item]").first).to_be_visible()
    return page.locator("[data-outbox-item]").evaluate_all("els => els.map(e => e.dataset.state)")


def test_three_entries_logged_offline_wait_then_arrive_once(live_app, page, context, make_user, no_entries):
    officer = make_user()
    signed_in_offline_ready(page, officer)
    context.set_offline(True)

    page.goto("/asb-incidents/new")
    fill_asb(page, "Offline ASB: ball games at the tram stop")
    page.get_by_role("button", name="Submit for review").click()
    expect(page).to_have_url("/outbox", timeout=WAIT_MS)
    page.goto("/patrols/new")
    fill_patrol(page, "Offline patrol: tram stop")
    page.get_by_role("button", name="Start patrol").click()
    expect(page).to_have_url("/outbox", timeout=WAIT_MS)
    page.goto("/intelligence-reports/new")
    fill_intel(page, "Offline intel: the grey Fiesta")
    page.get_by_role("button", name="Submit for review").click()
    expect(page).to_have_url("/outbox", timeout=WAIT_MS)

    page.reload()  # still offline: the list is read from the phone
    expect(page.locator("[data-outbox-item]")).to_have_count(3)
    assert outbox_states(page) == ["queued"] * 3
    expect(page.get_by_text("Offline ASB: ball games at the tram stop")).to_be_visible()
    expect(page.locator("[data-outbox-link] [data-outbox-count]")).to_have_text("3")
    screenshot(page, "offline-outbox-waiting")
    assert entries_by(live_app, officer) == []

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("[data-state=sent]")).to_have_count(3, timeout=WAIT_MS)
    screenshot(page, "offline-outbox-sent")
    arrived = entries_by(live_app, officer)
    assert sorted(kind for kind, _, _ in arrived) == ["asb_incident", "intelligence_report", "patrol"]
    assert ("asb_incident", "Offline ASB: ball games at the tram stop", "submitted") in arrived
    assert ("patrol", "Foot patrol: Offline patrol: tram stop", "draft") in arrived

    page.get_by_role("button", name="Send now").click()  # again: nothing is sent twice
    page.reload()
    expect(page.locator("[data-state=sent]")).to_have_count(3)
    assert len(entries_by(live_app, officer)) == 3


def expire_sessions(live_app, officer) -> None:
    """As if the officer had been idle longer than the session lasts."""
    from datetime import timedelta

    from pcso.models import UserSession
    from pcso.timeutil import utcnow
    with live_app.app_context():
        idle = timedelta(minutes=live_app.config["SESSION_IDLE_MINUTES"] + 1)
        db.session.execute(sa.update(UserSession).where(UserSession.user_id == officer.id)
                           .values(last_seen_at=utcnow() - idle))
        db.session.commit()
        db.session.remove()


CHILD_WORDS = "He said the older lads give him trainers and he has to carry bags for them."


def start_welfare(page: Page) -> None:
    page.goto("/welfare-checks/new")
    page.fill("#summary", "Visit to a child at risk")
    page.fill("#child_name", "Sam Child")
    page.fill("#child_words", CHILD_WORDS)
    page.wait_for_timeout(700)  # the draft is kept 400 ms after the last key


def test_an_expired_session_mid_form_loses_nothing(live_app, page, make_user, no_entries, problems):
    problems.allow(r"status of 401 .*/api/v1/csrf-token")  # how the page learns the session has ended
    officer = make_user()
    signed_in_offline_ready(page, officer)
    start_welfare(page)
    expire_sessions(live_app, officer)

    page.get_by_role("button", name="Submit for review").click()
    notice = page.locator("[data-draft-notice]")
    expect(notice).to_contain_text("Your session has ended")
    expect(page.locator("#child_words")).to_have_value(CHILD_WORDS)  # still on the form, as typed
    screenshot(page, "offline-session-ended")
    notice.get_by_role("link", name="Sign in again").click()

    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)welfare-checks(/|%2F)new$"))
    page.fill("#collar_number", officer.collar_number)
    page.fill("#password", officer.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url("/welfare-checks/new")
    expect(page.locator("[data-draft-notice]")).to_contain_text("What you typed was kept on this phone")
    expect(page.locator("#child_words")).to_have_value(CHILD_WORDS)
    expect(page.locator("#child_name")).to_have_value("Sam Child")
    assert entries_by(live_app, officer) == []  # nothing is sent without a tap


def test_a_reload_after_the_session_ended_brings_the_form_back_filled(live_app, page, make_user, no_entries):
    officer = make_user()
    signed_in_offline_ready(page, officer)
    start_welfare(page)
    expire_sessions(live_app, officer)
    page.reload()
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)welfare-checks(/|%2F)new$"))
    page.fill("#collar_number", officer.collar_number)
    page.fill("#password", officer.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#child_words")).to_have_value(CHILD_WORDS)
    page.get_by_role("button", name="Start again with an empty form").click()
    expect(page.locator("#child_words")).to_have_value("")


def wiped(page: Page) -> bool:
    left = page.evaluate("""async () => {
        const dbs = (await indexedDB.databases()).map(d => d.name).filter(n => n === 'beatbook');
        const names = (await caches.keys()).filter(n => n.startsWith('beatbook-'));
        return dbs.concat(names); }""")
    print("left on the phone:", left)
    return not left


def sign_out(page: Page) -> None:
    if not page.locator("details.menu[open]").count():
        page.locator("details.menu > summary").click()
    page.get_by_role("button", name="Sign out").click()


def test_sign_out_with_an_unsent_entry_asks_then_records_the_discard_and_wipes(live_app, page, context, make_user,
                                                                              no_entries):
    officer = make_user()
    signed_in_offline_ready(page, officer)
    context.route("**/api/v1/forms/**", lambda route: route.abort("internetdisconnected"))  # the signal drops
    context.set_offline(True)
    page.goto("/asb-incidents/new")
    fill_asb(page, "Not sent before sign-out")
    page.get_by_role("button", name="Submit for review").click()
    expect(page).to_have_url("/outbox", timeout=WAIT_MS)
    context.set_offline(False)

    sign_out(page)
    dialog = page.locator("[data-logout-dialog]")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("1 entry has not been sent yet")
    expect(dialog).to_contain_text("1 × ASB incident")
    screenshot(page, "offline-logout-asks")
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_be_hidden()
    assert not wiped(page)

    sign_out(page)
    dialog.get_by_role("button", name="Discard them and sign out").click()
    expect(page).to_have_url("/login")
    assert wiped(page)
    assert entries_by(live_app, officer) == []
    with live_app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.ERASE,
                                                               AuditEvent.object_type == "outbox",
                                                               AuditEvent.actor_id == officer.id)).one()
        assert "Not sent" not in str(event.details)
        db.session.remove()


def test_another_officer_on_the_same_phone_sees_nothing_of_the_last(live_app, page, context, make_user, no_entries):
    first, second = make_user(), make_user()
    signed_in_offline_ready(page, first)
    start_welfare(page)  # a draft, kept on the phone
    sign_out(page)
    expect(page).to_have_url("/login")
    assert wiped(page)

    login(page, second)
    page.goto("/welfare-checks/new")
    expect(page.locator("#child_words")).to_have_value("")
    expect(page.locator("[data-draft-notice]")).to_have_count(0)
    page.goto("/outbox")
    expect(page.locator("[data-outbox-item]")).to_have_count(0)


def test_a_new_service_worker_keeps_the_offline_form_working(live_app, page, context, make_user, no_entries):
    officer = make_user()
    signed_in_offline_ready(page, officer)
    first = page.evaluate("document.body.dataset.appVersion")
    live_app.config["OFFLINE_VERSION"] = "next"
    try:
        page.goto("/outbox")
        second = page.evaluate("document.body.dataset.appVersion")
        assert second != first
        page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
        # The new worker is in charge: installed (its whole shell kept), activated, and answering this page.
        page.wait_for_function(f"""() => new Promise(async resolve => {{
            const reg = await navigator.serviceWorker.getRegistration();
            const worker = navigator.serviceWorker.controller;
            if (!reg || reg.installing || reg.waiting || !reg.active || reg.active.state !== 'activated'
                || worker !== reg.active) return resolve(false);
            const channel = new MessageChannel();
            channel.port1.onmessage = e => resolve(e.data === '{second}');
            worker.postMessage({{type: 'version'}}, [channel.port2]);
            setTimeout(() => resolve(false), 500); }})""", timeout=WAIT_MS)
        page.wait_for_function(f"""async () => {{
            const kept = await BeatbookVault.getMeta('pages-kept');
            return kept && kept.version === '{second}'; }}""", timeout=WAIT_MS)
        context.set_offline(True)
        # The worker just took over: on a loaded machine it may be started afresh for this navigation and wait
        # out its network try (NETWORK_WAIT_MS) before the kept copy, so this load gets the longer wait.
        page.goto("/asb-incidents/new", timeout=WAIT_MS)
        fill_asb(page, "Logged after the app updated")
        page.get_by_role("button", name="Submit for review").click()
        expect(page).to_have_url("/outbox", timeout=WAIT_MS)
        expect(page.get_by_text("Logged after the app updated")).to_be_visible()
    finally:
        live_app.config.pop("OFFLINE_VERSION", None)


def test_an_entry_the_server_refuses_needs_attention_then_is_fixed_and_sent(live_app, page, context, make_user,
                                                                           no_entries, problems):
    problems.allow(r"status of 422 .*/api/v1/forms/asb-incidents")  # the refusal the test is about
    officer = make_user()
    signed_in_offline_ready(page, officer)
    context.set_offline(True)
    page.goto("/asb-incidents/new")
    fill_asb(page, "Sent with a postcode the server does not know")
    page.fill("#postcode", "ZZ99 9ZZ")  # well formed: only the server's postcode file can say it is unknown
    page.get_by_role("button", name="Submit for review").click()
    expect(page).to_have_url("/outbox", timeout=WAIT_MS)
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")

    item = page.locator("[data-state=attention]")
    expect(item).to_contain_text("Postcode not found", timeout=WAIT_MS)
    screenshot(page, "offline-needs-attention")
    item.get_by_role("button", name="Fix and send again").click()
    expect(page).to_have_url("/asb-incidents/new")
    expect(page.locator("#summary")).to_have_value("Sent with a postcode the server does not know")
    expect(page.locator(".form-group--error")).to_contain_text("Postcode not found")
    page.fill("#postcode", "M15 4AD")
    page.get_by_role("button", name="Submit for review").click()
    expect(page).to_have_url("/outbox", timeout=WAIT_MS)
    expect(page.locator("[data-state=sent]")).to_have_count(1, timeout=WAIT_MS)
    expect(page.locator("[data-outbox-item]")).to_have_count(1)
    assert entries_by(live_app, officer) == [("asb_incident", "Sent with a postcode the server does not know",
                                              "submitted")]


def test_offline_the_app_answers_with_its_forms_and_the_queue(live_app, page, context, make_user, no_entries):
    officer = make_user()
    signed_in_offline_ready(page, officer)
    context.set_offline(True)
    page.goto("/")  # not kept: the queue page answers, saying so
    expect(page.locator("h1")).to_have_text("Waiting to send")
    expect(page.locator("[data-offline-note]")).to_be_visible()
    page.goto("/entries/new")
    page.get_by_role("link", name="ASB incident").first.click()
    expect(page).to_have_url("/asb-incidents/new")
    page.get_by_role("button", name="Add another person").click()  # no round trip to the server: a row here
    expect(page.locator("#people-1-name")).to_be_visible()
    page.fill("#people-1-name", "Second Person")
    page.select_option("#people-1-role", "suspect")
    page.wait_for_timeout(700)
    page.reload()
    expect(page.locator("#people-1-name")).to_have_value("Second Person")  # the added row came back too
    screenshot(page, "offline-form-restored")


def test_a_photo_taken_offline_waits_with_its_entry_and_arrives_once(live_app, page, context, make_user, no_entries):
    from pcso.models import Photo
    from tests.factories import image_bytes
    officer = make_user()
    signed_in_offline_ready(page, officer)
    context.set_offline(True)
    page.goto("/asb-incidents/new")
    fill_asb(page, "Fly-tipping, photographed with no signal")
    page.locator("input[type=file][name=photos]").set_input_files(
        [{"name": "IMG_1.jpg", "mimeType": "image/jpeg", "buffer": image_bytes(2400, 1800, gps=(53.4571, -2.2901))}])
    expect(page.locator("[data-photos-status]")).to_contain_text("1 photo ready to save.")
    page.get_by_role("button", name="Submit for review").click()
    expect(page).to_have_url("/outbox", timeout=WAIT_MS)
    expect(page.locator("[data-outbox-item]")).to_contain_text("1 photo with it")
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("[data-state=sent]")).to_have_count(1, timeout=WAIT_MS)
    page.get_by_role("button", name="Send now").click()  # again: the photo is not stored twice
    page.wait_for_timeout(1000)
    with live_app.app_context():
        photos = db.session.scalars(sa.select(Photo).join(Entry, Photo.entry_id == Entry.id)
                                    .where(Entry.author_id == officer.id)).all()
        assert len(photos) == 1 and max(photos[0].width, photos[0].height) <= 1600
        db.session.remove()
