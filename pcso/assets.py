"""What goes over the wire: static files with content-hashed names, precompressed and cached for a year
(WhiteNoise), and pages compressed on the fly (Flask-Compress).

`build(static_dir, out_dir)` (run by `make vendor` through scripts/build_static.py) writes a hashed copy of
every file under static/ (`css/app.css` -> `css/app.0123456789ab.css`, with .br and .gz beside it) and a
manifest. A stylesheet's relative `url(...)` references are rewritten to the hashed names first, so
leaflet.css still finds its images. `init_assets(app)` makes `url_for('static', filename=...)` return the
hashed name and serves the build with WhiteNoise; without a build, or with one older than the files it was
made from, every URL is the plain one and Flask serves static/ as before.
"""
from __future__ import annotations

import hashlib
import json
import logging
import posixpath
import re
import shutil
from pathlib import Path

from flask import Flask, g, request, url_for
from markupsafe import Markup
from flask_compress import Compress
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

ONE_YEAR = 365 * 24 * 60 * 60
MANIFEST = "manifest.json"  # beside the served folder, not in it
HASH_LENGTH = 12
HASHED_NAME = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
SKIPPED = (".map",)  # source maps keep their plain names (the scripts name them so); only DevTools asks
# Pages and JSON, never the exports: those stream (flat memory at a million rows) and are not in this list.
COMPRESSED_TYPES = ["text/html", "text/css", "text/javascript", "application/javascript", "application/json",
                    "application/manifest+json", "application/problem+json", "image/svg+xml"]

log = logging.getLogger(__name__)


# ---- the build -------------------------------------------------------------------------------

def hashed_name(relative: str, content: bytes) -> str:
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    path = Path(relative)
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


def rewrite_css(relative: str, text: str, names: dict[str, str]) -> str:
    """Point a stylesheet's relative url(...) references at the hashed copies of what they name."""
    folder = posixpath.dirname(relative)

    def swap(match: re.Match) -> str:
        quote, target = match.group(1), match.group(2).strip()
        if target.startswith(("data:", "http:", "https:", "/", "#")):
            return match.group(0)
        plain, _, rest = target.partition("?")
        key = posixpath.normpath(posixpath.join(folder, plain))
        if key not in names:
            return match.group(0)
        new = posixpath.join(posixpath.dirname(plain), posixpath.basename(names[key]))
        suffix = f"?{rest}" if rest else ""
        return f"url({quote}{new}{suffix}{quote})"

    return CSS_URL.sub(swap, text)


def build(static_dir: Path, out_dir: Path) -> dict[str, str]:
    """Write the hashed, compressed copies of static_dir's files into out_dir; return plain -> hashed."""
    sources = sorted(p for p in static_dir.rglob("*")
                     if p.is_file() and not p.name.startswith(".") and not p.name.endswith(SKIPPED))
    names: dict[str, str] = {}
    contents: dict[str, bytes] = {}
    # Stylesheets last: their references to images and fonts need those files' hashed names.
    for path in sorted(sources, key=lambda p: p.suffix == ".css"):
        relative = path.relative_to(static_dir).as_posix()
        content = path.read_bytes()
        if path.suffix == ".css":
            content = rewrite_css(relative, content.decode("utf-8"), names).encode("utf-8")
        names[relative] = hashed_name(relative, content)
        contents[relative] = content
    staging = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    compressor = Compressor(quiet=True)
    for relative, hashed in names.items():
        target = staging / hashed
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(contents[relative])
        if compressor.should_compress(target.name):
            compressor.compress(str(target))
    shutil.rmtree(out_dir, ignore_errors=True)
    staging.rename(out_dir)
    stats = {relative: [(static_dir / relative).stat().st_size, (static_dir / relative).stat().st_mtime_ns]
             for relative in names}
    manifest_path(out_dir).write_text(json.dumps({"files": names, "sources": stats}, indent=1, sort_keys=True))
    return names


def manifest_path(out_dir: Path) -> Path:
    return out_dir.parent / f"{out_dir.name}-{MANIFEST}"


def load_manifest(static_dir: Path, out_dir: Path) -> dict[str, str]:
    """plain -> hashed name, or {} when there is no build or a source changed since it was made."""
    try:
        data = json.loads(manifest_path(out_dir).read_text())
    except (OSError, ValueError):
        return {}
    for relative, (size, mtime_ns) in data.get("sources", {}).items():
        try:
            stat = (static_dir / relative).stat()
        except OSError:
            stat = None
        if stat is None or (stat.st_size, stat.st_mtime_ns) != (size, mtime_ns):
            log.warning("static build is older than static/%s: serving plain file names (run `make vendor`)",
                        relative)
            return {}
    return dict(data.get("files", {}))


# ---- serving -------------------------------------------------------------------------------

class StaticFiles(WhiteNoise):
    """WhiteNoise with a year (not ten) as the life of a hashed file."""

    FOREVER = ONE_YEAR

    def add_cache_headers(self, headers, path, url):
        if self.immutable_file_test(path, url):
            headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
        else:
            super().add_cache_headers(headers, path, url)


def _static_headers(headers, path, url) -> None:
    headers["X-Content-Type-Options"] = "nosniff"


class PageCompress(Compress):
    """Flask-Compress, except for responses to requests another site started (BREACH: see below)."""

    def after_request(self, response):
        vary = response.headers.get("Vary")
        response.headers["Vary"] = f"{vary}, Sec-Fetch-Site" if vary else "Sec-Fetch-Site"
        if request.headers.get("Sec-Fetch-Site") == "cross-site":
            # A page that another site made the browser fetch could reflect what that site chose beside
            # what this user may see; compressed, its length would leak both. Sent as it is instead.
            return response
        return super().after_request(response)


def leaflet_script() -> Markup:
    """Leaflet's script, the first time a page asks (the map macro does): only pages with a map load its
    40 KB (compressed). Deferred, so it still runs before app.js. Its stylesheet goes in the page's head,
    before app.css, on pages that set `uses_map` (tests/test_assets.py checks every map page does)."""
    if g.get("has_leaflet"):
        return Markup("")
    g.has_leaflet = True
    return Markup('<script src="{}" defer></script>').format(url_for("static", filename="vendor/leaflet/leaflet.js"))


def web_app_manifest(name: str) -> dict:
    """The web app manifest (/manifest.webmanifest): installable, opening on the home page."""
    def icon(filename: str, size: int, purpose: str) -> dict:
        return {"src": url_for("static", filename=f"icons/{filename}"), "sizes": f"{size}x{size}",
                "type": "image/png", "purpose": purpose}

    return {
        "id": "/", "name": name, "short_name": "Beatbook",
        "description": "Log patrols, ASB, school visits, welfare checks and intelligence on your beat.",
        "start_url": "/", "scope": "/", "display": "standalone", "orientation": "portrait",
        "theme_color": "#0b2545", "background_color": "#f3f2f1", "lang": "en-GB",
        "icons": [icon("icon-192.png", 192, "any"), icon("icon-512.png", 512, "any"),
                  icon("icon-maskable-512.png", 512, "maskable")],
    }


def init_assets(app: Flask) -> None:
    static_dir = Path(app.static_folder)
    out_dir = Path(app.config.get("STATIC_BUILD_DIR") or static_dir.parent / "build" / "static")
    manifest = load_manifest(static_dir, out_dir)
    app.extensions["static_manifest"] = manifest

    @app.url_defaults
    def hashed_static_names(endpoint, values):
        if endpoint == "static" and values.get("filename") in manifest:
            values["filename"] = manifest[values["filename"]]

    app.jinja_env.globals["leaflet_script"] = leaflet_script

    if manifest:
        app.wsgi_app = StaticFiles(app.wsgi_app, root=str(out_dir), prefix=app.static_url_path.strip("/"),
                                   immutable_file_test=lambda path, url: bool(HASHED_NAME.search(url)),
                                   add_headers_function=_static_headers, allow_all_origins=False)

    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_STREAMS", False)
    PageCompress(app)
