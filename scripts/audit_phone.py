#!/usr/bin/env python3
"""`make audit-phone`: Lighthouse (mobile), axe-core and installability on the phone pages, against a live server.

Seeds a throwaway SQLite database with the demo data (`flask seed-demo`), serves it with gunicorn on a free
local port, signs in as the demo users with `requests`, then:
  1. Lighthouse 12.2.3 (node_modules, mobile preset, simulated throttling) on home, the five entry forms and
     the dashboard as the demo PCSO, the session cookie passed with --extra-headers; the median of
     AUDIT_RUNS runs (3) per page. Targets: performance >= 95 (home, forms), >= 90 (dashboard),
     accessibility 100, best practices 100; home <= 60 KB transferred on a first visit (no map tiles).
  2. axe-core injected by Playwright into every page each demo role can open, at 390x844: 0 violations.
  3. Installability: Chromium's own verdict (CDP Page.getInstallabilityErrors) on the home page.
Prints a table, writes test-artifacts/audit-phone.json, exits 1 when any target is missed.
Environment: CHROME_PATH (default /usr/bin/chromium), AUDIT_RUNS, AUDIT_ONLY=lighthouse,axe,install.
"""
from __future__ import annotations

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
RUNS = int(os.environ.get("AUDIT_RUNS", "3"))
ONLY = set(filter(None, os.environ.get("AUDIT_ONLY", "lighthouse,axe,install").split(",")))

PCSO = ("PC1001", "pcso-demo-pass")
LOGINS = {"pcso": PCSO, "supervisor": ("SG2001", "sergeant-demo-pass"), "analyst": ("AN3001", "analyst-demo-pass"),
          "safeguarding": ("SL4001", "safeguarding-demo-pass"), "admin": ("AD5001", "admin-demo-pass"),
          "auditor": ("PS6001", "auditor-demo-pass")}
FORMS = {"patrol form": "/patrols/new", "ASB form": "/asb-incidents/new", "school visit form": "/school-visits/new",
         "welfare form": "/welfare-checks/new", "intelligence form": "/intelligence-reports/new"}
LIGHTHOUSE_PAGES = {"home": "/", **FORMS, "dashboard": "/dashboard"}
if os.environ.get("AUDIT_PAGES"):  # e.g. AUDIT_PAGES=home,dashboard for a quick look
    LIGHTHOUSE_PAGES = {k: v for k, v in LIGHTHOUSE_PAGES.items() if k in os.environ["AUDIT_PAGES"].split(",")}
TARGETS = {"performance": 95, "accessibility": 100, "best-practices": 100}
DASHBOARD_PERFORMANCE = 90
HOME_MAX_BYTES = 60 * 1024


# ---- the server ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVER_ENV: dict[str, str] = {}  # the server's environment, for the commands run beside it


def start_server(workdir: Path) -> tuple[subprocess.Popen, str]:
    env = os.environ | {"DATABASE_URL": f"sqlite:///{workdir / 'audit.sqlite'}", "FLASK_APP": "app",
                        "SECRET_KEY": "audit-phone-secret-key-0123456789abcdef",
                        "SEAL_KEY_DIR": str(workdir / "seal_keys"),
                        "RATELIMIT_LOGIN": "100 per minute"}  # six sign-ins and four codes from 127.0.0.1 at once
    SERVER_ENV.update(env)
    flask = str(VENV_BIN / "flask")
    for args in (["db", "upgrade"], ["seed-demo", "--if-empty"], ["seal-key", "init"]):  # as `make run` does
        subprocess.run([flask, "--app", "app", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    log = open(workdir / "gunicorn.log", "w")  # noqa: SIM115 (lives as long as the server)
    server = subprocess.Popen([str(VENV_BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "app:app"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(f"{base}/healthz", timeout=1).ok:
                return server, base
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.terminate()
    sys.exit(f"audit-phone: the server did not start; see {workdir / 'gunicorn.log'}")


def csrf_token(page: str) -> str:
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf-token" content="([^"]+)"', page)
    return token.group(1)


def totp_code(collar: str) -> str:
    """The demo login's current two-step code, as a person trying the demo gets it (`flask users totp-code`)."""
    result = subprocess.run([str(VENV_BIN / "flask"), "--app", "app", "users", "totp-code", collar], cwd=ROOT,
                            env=SERVER_ENV, check=True, capture_output=True, text=True)
    return result.stdout.strip()


def sign_in(base: str, collar: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login").text
    response = session.post(f"{base}/login", data={"collar_number": collar, "password": password,
                                                   "csrf_token": csrf_token(page)},
                            headers={"Referer": f"{base}/login"})
    if response.url.endswith("/login/code"):  # the roles that sign in with a second factor
        response = session.post(response.url, data={"code": totp_code(collar), "csrf_token": csrf_token(response.text)},
                                headers={"Referer": response.url})
    if "whoami" not in response.text:
        sys.exit(f"audit-phone: could not sign in as {collar}")
    return session


def first(session: requests.Session, base: str, url: str, pattern: str) -> str | None:
    match = re.search(pattern, session.get(base + url).text)
    return match.group(1) if match else None


def pages_of(role: str, session: requests.Session, base: str) -> dict[str, str]:
    """Every page a role can open, as tests/browser/test_every_page.py lists them, with demo ids."""
    pages = {"home": "/", "tokens": "/account/tokens", "api-reference": "/api/v1/reference",
             "sign-in-security": "/account/security", "password": "/account/password"}
    if role == "auditor":  # the audit pages only (pcso/audit_viewer/)
        record = first(session, base, "/audit/", r'href="(/audit/records\?type=entry&amp;id=\d+)"')
        pages |= {"audit": "/audit/", "audit-record": record and record.replace("&amp;", "&"),
                  "audit-officer": "/audit/people?collar=PC1001", "audit-events": "/audit/events",
                  "audit-unusual": "/audit/unusual", "audit-export": "/audit/export?action=view"}
        return {name: url for name, url in pages.items() if url}
    pages |= {"data-sources": "/data-sources", "beats": "/beats/"}
    beat = first(session, base, "/beats/", r'href="(/beats/\d+)"')
    entry = first(session, base, "/lists/entries", r'href="(/entries/\d+)"') if role != "admin" else None
    if role != "admin":
        pages |= {"beat": beat, "search": "/search", "entries-list": "/lists/entries",
                  "export-form": "/lists/entries/export?kind=asb-incidents"}
    if role in ("pcso", "supervisor"):
        pages |= {"my-entries": "/entries", "choose": "/entries/new", **{k: v for k, v in FORMS.items()},
                  "briefing": "/briefing", "dashboard": "/dashboard", "suggested-patrols": "/patrols/suggested",
                  "new-place": "/locations/new", "new-organisation": "/organisations/new"}
    if role in ("pcso", "supervisor", "analyst"):  # ASB Case Review applications; background jobs
        pages |= {"case-reviews": "/case-reviews", "case-review-victims": "/case-reviews/new", "jobs": "/jobs"}
        raised = first(session, base, "/lists/entries?kind=asb-incidents", r'href="/entries/(\d+)"')
        if raised:
            pages["raise-intel-form"] = f"/intelligence-reports/new?from={raised}"
    if role in ("pcso", "supervisor", "analyst") and entry:
        pages |= {"entry": entry, "entry-pdf-form": f"{entry}/pdf"}
    if role == "supervisor":
        pages |= {"review-queue": "/review", "priority-form": f"{beat}/priorities/new"}
    if role in ("supervisor", "analyst"):
        intel = first(session, base, "/lists/entries?kind=intelligence-reports", r'href="(/entries/\d+)"')
        if intel:
            pages["intel"] = intel
    if role == "admin":
        user = first(session, base, "/admin/users", r'href="(/admin/users/\d+)"')
        pages |= {"users": "/admin/users", "user": user, "user-tokens": f"{user}/tokens"}
    return {name: url for name, url in pages.items() if url}


# ---- Lighthouse ------------------------------------------------------------------------------

def lighthouse(url: str, cookie: str, workdir: Path) -> dict:
    out = workdir / "lighthouse.json"
    command = [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
               "--only-categories=performance,accessibility,best-practices",
               f"--chrome-flags={' '.join(CHROME_FLAGS)}", "--extra-headers", json.dumps({"Cookie": cookie})]
    subprocess.run(command, check=True, env=os.environ | {"CHROME_PATH": CHROME}, stdout=subprocess.DEVNULL)
    report = json.loads(out.read_text())
    audits = report["audits"]
    failed = sorted(f"{category}: {ref['id']}" for category in ("accessibility", "best-practices")
                    for ref in report["categories"][category]["auditRefs"]
                    if ref["weight"] and (audits[ref["id"]].get("score") is not None) and audits[ref["id"]]["score"] < 1)
    return {"scores": {c: round(report["categories"][c]["score"] * 100) for c in TARGETS},
            "bytes": int(audits["total-byte-weight"]["numericValue"]),
            "lcp_ms": int(audits["largest-contentful-paint"]["numericValue"]),
            "tbt_ms": int(audits["total-blocking-time"]["numericValue"]),
            "failed": failed,
            "requests": [(re.sub(r"^https?://[^/]+", "", item["url"]), item.get("transferSize", 0))
                         for item in audits["network-requests"]["details"]["items"]]}


def median_run(runs: list[dict]) -> dict:
    by_performance = sorted(runs, key=lambda r: r["scores"]["performance"])
    middle = by_performance[len(runs) // 2]
    return middle | {"runs": [r["scores"]["performance"] for r in runs],
                     "failed": sorted({f for r in runs for f in r["failed"]})}


def audit_lighthouse(base: str, session: requests.Session, workdir: Path) -> tuple[dict, list[str]]:
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    results, misses = {}, []
    for name, path in LIGHTHOUSE_PAGES.items():
        result = median_run([lighthouse(base + path, cookie, workdir) for _ in range(RUNS)])
        results[name] = result | {"url": path}
        wanted = TARGETS | ({"performance": DASHBOARD_PERFORMANCE} if name == "dashboard" else {})
        misses += [f"Lighthouse {name}: {c} {result['scores'][c]} < {wanted[c]}"
                   for c in wanted if result["scores"][c] < wanted[c]]
        misses += [f"Lighthouse {name}: {f}" for f in result["failed"]]
        if name == "home":
            print("    home, first visit: " + ", ".join(f"{url.split('?')[0]} {size / 1024:.1f} KB"
                                                       for url, size in result["requests"]), flush=True)
        if name == "home" and result["bytes"] > HOME_MAX_BYTES:
            misses.append(f"home transfers {result['bytes'] / 1024:.1f} KB > {HOME_MAX_BYTES // 1024} KB")
        print(f"  {name:<18} perf {result['scores']['performance']:>3} (runs {result['runs']})  "
              f"a11y {result['scores']['accessibility']:>3}  bp {result['scores']['best-practices']:>3}  "
              f"{result['bytes'] / 1024:6.1f} KB  LCP {result['lcp_ms']} ms  TBT {result['tbt_ms']} ms", flush=True)
    return results, misses


# ---- Playwright: axe-core and installability ------------------------------------------------

def browser_context(playwright, base: str, session: requests.Session):
    browser = playwright.chromium.launch(executable_path=CHROME, headless=True, args=CHROME_FLAGS)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  base_url=base, locale="en-GB", timezone_id="Europe/London")
    context.add_cookies([{"name": c.name, "value": c.value, "url": base} for c in session.cookies])
    return browser, context


def audit_axe(playwright, base: str, sessions: dict[str, requests.Session]) -> tuple[dict, list[str]]:
    from playwright.sync_api import Error as PlaywrightError
    source = AXE.read_text()
    results, misses = {}, []
    for role, session in sessions.items():
        browser, context = browser_context(playwright, base, session)
        page = context.new_page()
        pages = pages_of(role, session, base)
        for name, url in pages.items():
            page.goto(url)
            try:  # settle; a page whose background work (offline copies) keeps the network busy is checked anyway
                page.wait_for_load_state("networkidle", timeout=10_000)
            except PlaywrightError:
                pass
            page.evaluate(source)  # the CSP forbids injected <script> tags; CDP's evaluate is not a page script
            violations = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']}))"
                                       ".violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,"
                                       " target: v.nodes[0].target.join(' ')}))")
            results[f"{role} {name}"] = violations
            misses += [f"axe {role} {name} {url}: {v['id']} ({v['impact']}, {v['nodes']}x, e.g. {v['target']})"
                       for v in violations]
        print(f"  {role:<13} {len(pages):>2} pages, "
              f"{sum(len(v) for k, v in results.items() if k.startswith(role + ' '))} violations", flush=True)
        browser.close()
    return results, misses


def audit_installable(playwright, base: str, session: requests.Session, workdir: Path) -> tuple[list, list[str]]:
    # A persistent profile: Chromium never offers to install from an incognito (throwaway) context.
    context = playwright.chromium.launch_persistent_context(
        str(workdir / "profile"), executable_path=CHROME, headless=True, args=CHROME_FLAGS,
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, base_url=base)
    context.add_cookies([{"name": c.name, "value": c.value, "url": base} for c in session.cookies])
    page = context.new_page()
    page.goto("/")
    page.wait_for_load_state("networkidle")
    cdp = context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    errors = []
    for _ in range(10):  # a service worker takes a moment to register and activate
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        if not errors:
            break
        page.wait_for_timeout(500)
    context.close()
    problems = [f"manifest: {e['message']}" for e in manifest.get("errors", [])]
    problems += [f"not installable: {e['errorId']} {e.get('errorArguments') or ''}".rstrip() for e in errors]
    print("  installable" if not problems else "  " + "\n  ".join(problems), flush=True)
    return errors, problems


def main() -> int:
    for needed in ((LIGHTHOUSE, AXE) if ONLY & {"lighthouse", "axe"} else ()):
        if not needed.exists():
            sys.exit(f"audit-phone: {needed.relative_to(ROOT)} missing: run `make vendor` (npm ci)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    report, misses = {}, []
    with tempfile.TemporaryDirectory(prefix="beatbook-audit-") as tmp:
        workdir = Path(tmp)
        server, base = start_server(workdir)
        try:
            sessions = {role: sign_in(base, *login) for role, login in LOGINS.items()}
            if "lighthouse" in ONLY:
                print(f"Lighthouse 12.2.3, mobile, median of {RUNS} runs (demo PCSO {PCSO[0]}):", flush=True)
                report["lighthouse"], found = audit_lighthouse(base, sign_in(base, *PCSO), workdir)
                misses += found
            with sync_playwright() as playwright:
                if "axe" in ONLY:
                    print("axe-core at 390x844, every page of each demo role:", flush=True)
                    report["axe"], found = audit_axe(playwright, base, sessions)
                    misses += found
                if "install" in ONLY:
                    print("Installability (Chromium, Page.getInstallabilityErrors):", flush=True)
                    report["installability"], found = audit_installable(playwright, base, sessions["pcso"], workdir)
                    misses += found
        finally:
            server.terminate()
            server.wait(timeout=10)
    (ARTIFACTS / "audit-phone.json").write_text(json.dumps(report | {"misses": misses}, indent=1))
    if misses:
        print(f"\naudit-phone: {len(misses)} target(s) missed:\n  " + "\n  ".join(misses))
        return 1
    print("\naudit-phone: every target met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
