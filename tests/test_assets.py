"""What goes over the wire: hashed, compressed, long-cached static files; compressed pages; Leaflet only on
pages with a map; the web app manifest; the beat bar in a landmark; "Log another" on an entry's page."""
from __future__ import annotations

import gzip
import io
import json
import os
import re
from pathlib import Path
from urllib.parse import urljoin

import brotli
import pytest
from bs4 import BeautifulSoup
from PIL import Image

from pcso.assets import build, load_manifest
from pcso.extensions import db
from pcso.models import Role
from tests import factories
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
HASHED = re.compile(r"^/static/css/app\.[0-9a-f]{12}\.css$")
IMMUTABLE = "public, max-age=31536000, immutable"
OLD_TRAFFORD = factories.OLD_TRAFFORD


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The real static/ built into a folder of this module's own, and an app serving it."""
    out = tmp_path_factory.mktemp("build") / "static"
    build(ROOT / "static", out)
    return make_app("sqlite://", STATIC_BUILD_DIR=str(out)), out


def test_pages_name_static_files_by_content_hash(built):
    app, out = built
    page = soup(app.test_client().get("/login"))
    href = page.select_one("link[rel=stylesheet]")["href"]
    assert HASHED.match(href), href
    assert re.match(r"^/static/favicon\.[0-9a-f]{12}\.svg$", page.select_one("link[rel=icon]")["href"])
    with app.test_request_context():
        from flask import url_for  # the service worker's precache list is built the same way
        assert url_for("static", filename="css/app.css") == href
    assert (out / href.removeprefix("/static/")).read_bytes() == (ROOT / "static/css/app.css").read_bytes()


@pytest.mark.parametrize("encoding, decode", [("br", brotli.decompress), ("gzip", gzip.decompress)])
def test_hashed_files_are_sent_compressed_and_cached_for_a_year(built, encoding, decode):
    app, _ = built
    client = app.test_client()
    href = soup(client.get("/login")).select_one("link[rel=stylesheet]")["href"]
    response = client.get(href, headers={"Accept-Encoding": encoding})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == encoding
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert decode(response.get_data()) == (ROOT / "static/css/app.css").read_bytes()
    assert "Content-Encoding" not in client.get(href).headers  # nothing accepted: sent as it is


def test_stylesheets_find_the_hashed_copies_of_what_they_name(tmp_path):
    """As leaflet.css names images/layers.png: the built copy names the hashed image, which is served."""
    static = tmp_path / "static"
    (static / "vendor/maps/images").mkdir(parents=True)
    (static / "vendor/maps/images/layers.png").write_bytes(b"\x89PNG fake")
    (static / "vendor/maps/maps.css").write_text(
        ".a{background:url(images/layers.png)}.b{background:url('../maps/images/layers.png?v=1')}"
        ".c{behavior:url(#default#VML)}.d{background:url(data:image/png;base64,AAAA)}")
    names = build(static, tmp_path / "out")
    image = Path(names["vendor/maps/images/layers.png"]).name
    css = (tmp_path / "out" / names["vendor/maps/maps.css"]).read_text()
    assert f"url(images/{image})" in css and f"url('../maps/images/{image}?v=1')" in css
    assert "url(#default#VML)" in css and "url(data:image/png;base64,AAAA)" in css


def test_leaflets_images_resolve_from_its_built_stylesheet(built):
    app, out = built
    if not (ROOT / "static/vendor/leaflet/leaflet.css").exists():
        pytest.fail("static/vendor/ is missing: run `make vendor`")
    client = app.test_client()
    with app.test_request_context():
        from flask import url_for
        css_url = url_for("static", filename="vendor/leaflet/leaflet.css")
    css = client.get(css_url, headers={"Accept-Encoding": "identity"}).get_data(as_text=True)
    images = re.findall(r"url\((images/[^)]+)\)", css)
    assert images and all(re.search(r"\.[0-9a-f]{12}\.png$", image) for image in images)
    for image in images:
        response = client.get(urljoin(css_url, image))
        assert response.status_code == 200 and response.mimetype == "image/png", image


def test_without_a_build_urls_are_plain_and_still_work(tmp_path):
    app = make_app("sqlite://", STATIC_BUILD_DIR=str(tmp_path / "none"))
    client = app.test_client()
    assert soup(client.get("/login")).select_one("link[rel=stylesheet]")["href"] == "/static/css/app.css"
    assert client.get("/static/css/app.css").status_code == 200


def test_a_build_older_than_its_sources_is_not_used(tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    (static / "a.js").write_text("one")
    build(static, tmp_path / "out")
    assert load_manifest(static, tmp_path / "out") == {"a.js": names_of(tmp_path)["a.js"]}
    (static / "a.js").write_text("two, longer")
    os.utime(static / "a.js", ns=(1, 1))
    assert load_manifest(static, tmp_path / "out") == {}


def names_of(tmp_path: Path) -> dict[str, str]:
    return json.loads((tmp_path / "out-manifest.json").read_text())["files"]


@pytest.mark.parametrize("encoding, decode", [("br", brotli.decompress), ("gzip", gzip.decompress)])
def test_pages_are_sent_compressed(built, encoding, decode):
    app, _ = built
    response = app.test_client().get("/login", headers={"Accept-Encoding": f"{encoding}", "Sec-Fetch-Site": "none"})
    assert response.headers["Content-Encoding"] == encoding
    assert response.headers["Cache-Control"] == "no-store"
    page = BeautifulSoup(decode(response.get_data()), "html.parser")
    assert page.select_one("h1").get_text(strip=True) == "Sign in"


def test_a_page_another_site_asked_for_is_not_compressed(built):
    """BREACH: no length oracle for a response another site's page made the browser request."""
    app, _ = built
    response = app.test_client().get("/login", headers={"Accept-Encoding": "br, gzip", "Sec-Fetch-Site": "cross-site"})
    assert "Content-Encoding" not in response.headers
    assert "Sec-Fetch-Site" in response.headers["Vary"]
    assert soup(response).select_one("h1").get_text(strip=True) == "Sign in"


def test_the_web_app_manifest_makes_beatbook_installable(built):
    app, _ = built
    client = app.test_client()
    page = soup(client.get("/login"))
    manifest_url = page.select_one("link[rel=manifest]")["href"]
    response = client.get(manifest_url)
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == ("/", "/", "standalone")
    assert manifest["short_name"] == "Beatbook" and manifest["theme_color"] and manifest["background_color"]
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"] + [{"src": page.select_one("link[rel=apple-touch-icon]")["href"], "sizes": "180x180"}]:
        image = client.get(icon["src"])
        assert image.status_code == 200 and image.mimetype == "image/png", icon["src"]
        width = int(icon["sizes"].split("x")[0])
        assert Image.open(io.BytesIO(image.get_data())).size == (width, width), icon["src"]


# ---- pages, signed in ------------------------------------------------------------------------

@pytest.fixture
def pcso_client(client):
    officer = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    client.entry_id = factories.asb(officer, OLD_TRAFFORD).id
    db.session.commit()
    assert factories.login(client, officer).location == "/"
    return client


def leaflet(page: BeautifulSoup) -> tuple[int, int]:
    return (len(page.select("script[src*='vendor/leaflet/leaflet.']")),
            len(page.select("head link[rel=stylesheet][href*='vendor/leaflet/leaflet.']")))


def test_leaflet_only_loads_on_pages_with_a_map(pcso_client):
    assert leaflet(soup(pcso_client.get("/"))) == (0, 0)
    assert leaflet(soup(pcso_client.get("/entries"))) == (0, 0)
    for url in ("/beats/", "/asb-incidents/new", f"/entries/{pcso_client.entry_id}"):
        page = soup(pcso_client.get(url))
        assert page.select("[data-map]"), url
        assert leaflet(page) == (1, 1), url
        scripts = [s["src"] for s in page.select("script[src]")]
        assert scripts.index(page.select_one("script[src*='vendor/leaflet/']")["src"]) < \
            scripts.index(page.select_one("script[src*='js/app.']")["src"]), "Leaflet must run before app.js"
        css = [link["href"] for link in page.select("head link[rel=stylesheet]")]
        assert "leaflet" in css[0] and "css/app." in css[-1], "app.css overrides Leaflet's styles: it comes last"


def test_every_template_with_a_map_loads_leaflets_stylesheet():
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        if path.name.startswith("_") or "extends" not in text:
            continue
        has_map = re.search(r"\{\{\s*map\(|data-dash-map|include \"_partials/location_fields|include \"places/_address_fields", text)
        assert bool(has_map) == ("{% set uses_map = true %}" in text), path.relative_to(ROOT)


def test_the_beat_bar_is_inside_a_landmark(pcso_client):
    bar = soup(pcso_client.get("/")).select_one("[data-testid=current-beat]")
    landmark = bar.find_parent(lambda tag: tag.name in ("header", "nav", "main", "aside", "footer")
                               or (tag.get("role") == "region" and tag.get("aria-label")))
    assert landmark is not None and landmark.get("aria-label") == "Your beat"


def test_an_authors_entry_page_offers_to_log_another(pcso_client):
    links = soup(pcso_client.get(f"/entries/{pcso_client.entry_id}")).select("[data-testid=log-another] a")
    assert [(a.get_text(strip=True), a["href"]) for a in links] == [
        ("Log another ASB incident", "/asb-incidents/new"), ("Log something else", "/entries/new")]


def test_use_my_location_is_at_the_top_of_every_entry_form(pcso_client):
    for url in ("/patrols/new", "/asb-incidents/new", "/school-visits/new", "/welfare-checks/new",
                "/intelligence-reports/new"):
        form = soup(pcso_client.get(url)).select_one("form[data-entry-form]")
        assert form.has_attr("data-location-widget"), url
        first_field = form.select_one("input:not([type=hidden]), select, textarea")
        button = form.select_one("[data-use-location]")
        order = [el for el in form.descendants if el in (button, first_field)]
        assert order[0] is button, f"{url}: 'Use my location' comes after the first field"
