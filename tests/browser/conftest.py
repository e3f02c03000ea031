"""Browser fixtures: the real app on a live local server, driven by Debian's chromium at phone size.

CSRF is on (the browser sends real tokens). Every test fails if the page logs a console error or
throws: a CSP violation shows up as a console error, and the app allows no inline script.
Nothing is skipped: without /usr/bin/chromium these tests fail.
"""
from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Error as PlaywrightError, Page, expect, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from pcso.extensions import db
from pcso.models import Beat, BeatPriority, Entry, PatrolSuggestion, Role, School, Shift
from tests import factories
from tests.conftest import migrated_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
OLD_TRAFFORD = "E05015253"
M15_4AD = {"latitude": 53.464903, "longitude": -2.260757, "accuracy": 12}  # a good fix in Old Trafford ward
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 8_000


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


# ---- the app on a live server ------------------------------------------------------------

@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    app = migrated_app(tmp / "browser.sqlite", WTF_CSRF_ENABLED=True)
    yield app
    with app.app_context():
        db.engine.dispose()


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # one line per static file drowns failures
        pass


@pytest.fixture(scope="session")
def live_server(live_app) -> str:
    server = make_server("127.0.0.1", 0, live_app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="beatbook-live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


# ---- data helpers (the live app's own database) --------------------------------------------

class Officer:
    """What a test needs to know about a user it made: plain values, no detached ORM objects."""

    def __init__(self, person, app=None):
        self.id = person.id
        self.collar_number = person.collar_number
        self.display_name = person.display_name
        self.password = factories.PASSWORD
        self.app = app  # to answer the code step of two-step sign-in (factories.TOTP_SECRET)

    def code(self) -> str:
        """A code the app will accept now (the step last used forgotten: see factories.fresh_code)."""
        with self.app.app_context():
            code = factories.fresh_code(self.id)
            db.session.remove()
        return code


@pytest.fixture
def make_user(live_app):
    def make(role: Role = Role.PCSO, beats=(OLD_TRAFFORD,), **kwargs) -> Officer:
        with live_app.app_context():
            person = factories.user(role, beats=list(beats), **kwargs)
            db.session.commit()
            officer = Officer(person, live_app)
            db.session.remove()
        return officer
    return make


@pytest.fixture
def in_db(live_app):
    """Run fn() inside the live app's context and commit: in_db(lambda: factories.asb(...).id)."""
    def run(fn):
        with live_app.app_context():
            result = fn()
            db.session.commit()
            db.session.remove()
        return result
    return run


@pytest.fixture
def no_entries(live_app):
    """Start from a database with no entries, priorities or shifts.

    The live app's database lives for the whole session, so entries other tests made would otherwise count
    in a review queue, a dashboard or a briefing that a test reads as a whole. Deleting an entry takes its
    kind's row, links, revisions, reviews and search document with it (ON DELETE CASCADE).
    """
    with live_app.app_context():
        for model in (Entry, BeatPriority, Shift, PatrolSuggestion):  # suggestions kept as shown count on dashboards
            db.session.execute(sa.delete(model))
        db.session.commit()
        db.session.remove()


def beat_id(live_app, code: str = OLD_TRAFFORD) -> int:
    with live_app.app_context():
        return db.session.scalar(sa.select(Beat.id).where(Beat.code == code))


def school_in_beat(live_app, code: str = OLD_TRAFFORD) -> tuple[int, str]:
    with live_app.app_context():
        school = db.session.scalars(sa.select(School).join(Beat, School.beat_id == Beat.id)
                                    .where(Beat.code == code).order_by(School.name)).first()
        return school.id, school.name


# ---- the browser ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def playwright_driver():
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (never `playwright install`)")
    chromium = playwright_driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


class Problems:
    """Console errors and uncaught page errors from every page of a context."""

    def __init__(self):
        self.messages: list[str] = []
        # Chromium asks for /favicon.ico on its own; the app has none (reported), and that is not a page fault.
        self.allowed: list[re.Pattern] = [re.compile(r"status of 404 .*\[\S*/favicon\.ico\]")]

    def allow(self, pattern: str) -> None:
        """Expect a console error matching pattern (e.g. the 404 a test asks for)."""
        self.allowed.append(re.compile(pattern))

    def console(self, message) -> None:
        if message.type == "error":
            location = message.location or {}
            self.messages.append(f"console: {message.text} [{location.get('url', '')}]")

    def page_error(self, error) -> None:
        self.messages.append(f"pageerror: {error}")

    def unexpected(self) -> list[str]:
        return [m for m in self.messages if not any(p.search(m) for p in self.allowed)]


@pytest.fixture
def problems():
    return Problems()


@pytest.fixture
def new_context(browser, live_server, problems):
    """Open a phone-sized context; keyword arguments override the defaults (e.g. geolocation)."""
    opened = []

    def open_context(**overrides):
        options = dict(viewport=PHONE, base_url=live_server, geolocation=M15_4AD, permissions=["geolocation"],
                       locale="en-GB", timezone_id="Europe/London", is_mobile=True, has_touch=True,
                       device_scale_factor=1)
        options.update(overrides)
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        context.on("console", problems.console)
        context.on("weberror", lambda web_error: problems.page_error(web_error.error))
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()
    unexpected = problems.unexpected()
    if unexpected:
        pytest.fail("The browser reported errors:\n" + "\n".join(unexpected), pytrace=False)


@pytest.fixture
def context(new_context):
    return new_context()


@pytest.fixture
def page(context) -> Page:
    return context.new_page()


# ---- page helpers --------------------------------------------------------------------------

def login(page: Page, officer: Officer) -> None:
    page.goto("/login")
    page.fill("#collar_number", officer.collar_number)
    page.fill("#password", officer.password)
    page.get_by_role("button", name="Sign in").click()
    code = page.locator("input#code")
    expect(page.get_by_test_id("whoami").or_(code)).to_be_visible()
    if code.count():  # two-step sign-in (the roles in TOTP_REQUIRED_ROLES)
        code.fill(officer.code())
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("whoami")).to_contain_text(officer.collar_number)


def open_menu_link(page: Page, name: str) -> None:
    page.locator("details.menu > summary").click()
    page.locator("details.menu nav").get_by_role("link", name=name, exact=True).click()


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        culprits = page.evaluate("""(limit) => Array.from(document.querySelectorAll('body *'))
            .filter(el => el.getBoundingClientRect().right > limit + 0.5
                          || getComputedStyle(el).overflowX === 'visible' && el.scrollWidth > el.clientWidth + 1)
            .slice(0, 5)
            .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                       + (typeof el.className === 'string' && el.className ? '.' + el.className.trim() : ''))""",
                                 PHONE["width"])
        raise AssertionError(f"{page.url} scrolls sideways: scrollWidth {width} > {PHONE['width']}; "
                             f"wide elements: {culprits}")


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    try:
        page.screenshot(path=str(path), full_page=True)
    except PlaywrightError:  # headless chromium now and then cannot capture mid-repaint: one retry
        page.wait_for_timeout(250)
        page.screenshot(path=str(path), full_page=True)
    return path


def wait_for_map(page: Page) -> None:
    """The Leaflet map has drawn the beat outlines (fetched from /beats/outlines.geojson)."""
    expect(page.locator("[data-map] path.leaflet-interactive").first).to_be_attached()


def settle_maps(page: Page) -> None:
    """Wait for any map to draw its outlines and finish Leaflet's zoom animation (else shots catch it mid-zoom)."""
    if page.locator("[data-map]").count():
        wait_for_map(page)
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        page.wait_for_function("() => !document.querySelector('.leaflet-zoom-anim, .leaflet-pan-anim')")


def check_page(page: Page, name: str) -> Path:
    """Screenshot the whole page into test-artifacts/ and check it does not scroll sideways."""
    settle_maps(page)
    path = screenshot(page, name)
    no_horizontal_scroll(page)
    return path


def use_my_location(page: Page, *, expect_beat: str | None = "Old Trafford") -> None:
    """Tap "Use my location" and wait for the accuracy, then the beat, in the status line."""
    page.get_by_role("button", name="Use my location").click()
    status = page.locator("[data-location-status]")
    expect(status).to_contain_text("±")
    if expect_beat:
        expect(status).to_contain_text(f"Beat: {expect_beat}")


def flash(page: Page):
    return page.locator(".flash")


def entry_id_from_url(page: Page) -> int:
    match = re.search(r"/entries/(\d+)$", page.url)
    assert match, f"not on an entry page: {page.url}"
    return int(match.group(1))


def summary_row(page: Page, label: str):
    """The <dd> of the summary-list row whose <dt> is exactly label."""
    return page.locator(".summary-list > div").filter(
        has=page.locator("dt", has_text=re.compile(rf"^{re.escape(label)}$"))).locator("dd")
