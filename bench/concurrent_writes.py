"""Concurrent entry logging through gunicorn: are writes durable, and how fast are reads meanwhile?

Starts the real app under gunicorn (several workers) on a scratch database, seeds the demo
users, then runs WRITERS threads that each sign in and log ASB incidents through the real form
(CSRF and all), while READERS threads page through "My entries" and a beat page. At the end
it counts the rows in the database and prints throughput, latency percentiles and any losses.

First (BENCH_ROUNDS), alternating rounds against the floor (bench/write_floor.py, a bare endpoint doing one
durable insert, served by a second gunicorn with the same workers): the floor, a signed-in request of the app
that writes nothing (`noop`: the session, the user and the CSRF token, what every request pays), the ASB form
and the JSON API create; each printed as a share of the floor, with server CPU per request.

    .venv/bin/python bench/concurrent_writes.py                       # SQLite in a temp dir
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python bench/concurrent_writes.py

Only talks to 127.0.0.1. Bounded: WRITES_PER_WRITER posts per writer, a deadline of 300 s.
"""
from __future__ import annotations

import contextlib
import http.cookiejar
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.write_floor import create_sql  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
WRITERS = int(os.environ.get("BENCH_WRITERS", "8"))
READERS = int(os.environ.get("BENCH_READERS", "4"))
WRITES_PER_WRITER = int(os.environ.get("BENCH_WRITES", "150"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))  # floor / form / API comparison rounds (0: none)
PER_ROUND = int(os.environ.get("BENCH_PER_ROUND", "40"))  # writes per writer thread per round
DEADLINE_S = 300
LOGINS = [("PC1001", "pcso-demo-pass"), ("PC1002", "pcso2-demo-pass"), ("SG2001", "sergeant-demo-pass")]
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf-token" content="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """A cookie-keeping HTTP client that does not follow redirects (we want to see the 302)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), self._NoRedirect)

    def write(self, path: str, data: dict) -> tuple[int, str, float]:
        """POST a form and keep the session a browser would have: a browser follows the 302 to the entry page,
        which shows the "saved" flash and takes it out of the session. This client doesn't follow it, so it keeps
        the session cookie it had before (else the cookie grows by one flash a write, signed again each time)."""
        before = [cookie for cookie in self.jar if cookie.name == "beatbook_session"]
        answer = self.request(path, data)
        for cookie in before:
            self.jar.set_cookie(cookie)
        return answer

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, float]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        started = time.perf_counter()
        try:
            with self.opener.open(self.base + path, data=body, timeout=30) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode(errors="replace")
        return status, text, time.perf_counter() - started

    def token(self, path: str) -> str:
        status, text, _ = self.request(path)
        match = TOKEN.search(text)
        if status != 200 or not match:
            raise RuntimeError(f"no CSRF token on {path} (HTTP {status})")
        return match.group(1) or match.group(2)

    def login(self, collar: str, password: str) -> None:
        status, _, _ = self.request("/login", {"csrf_token": self.token("/login"), "collar_number": collar,
                                               "password": password})
        if status != 302:
            raise RuntimeError(f"login as {collar} failed (HTTP {status})")


def run_threads(target, count: int) -> float:
    """`count` threads running target(n), started together: the seconds until the last has finished."""
    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000 if len(values) > 1 else 0.0


def scratch_database(tmp: Path, **env_extra: str) -> tuple[str, dict]:
    """A migrated database with the demo users and no entries (SQLite in `tmp`, or BENCH_DATABASE_URL
    emptied first): its URL and the environment to serve it with."""
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite'}"
    # Every bench client signs in from 127.0.0.1 with a password only: no second factor, no address limit to meet.
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-" + "x" * 40, "TOTP_REQUIRED_ROLES": "",
           "RATELIMIT_LOGIN": "1000 per minute", **env_extra}
    flask = [str(VENV_BIN / "flask"), "--app", "app"]
    if url.startswith("postgresql"):
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    subprocess.run(flask + ["db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(flask + ["seed-demo", "--entries", "0"], cwd=ROOT, env=env, check=True, capture_output=True)
    return url, env


SERVERS: dict[str, int] = {}  # base URL -> gunicorn master pid


@contextlib.contextmanager
def gunicorn(env: dict, workers: int, app: str = "app:app"):
    """`app` under gunicorn on a free local port, until the block ends: yields its base URL."""
    port = free_port()
    server = subprocess.Popen([str(VENV_BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}", app],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    SERVERS[base] = server.pid
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="beatbook-bench-"))
    url, env = scratch_database(tmp, RATELIMIT_LOGIN="1000 per minute", API_RATELIMIT="100000 per minute")
    floor_env = {**env, "DATABASE_URL": url}
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text(create_sql(url)))
    engine.dispose()
    code = 0
    with gunicorn(env, WORKERS) as base, gunicorn(floor_env, WORKERS, app="bench.write_floor:app") as floor_base:
        if ROUNDS:
            code |= compare(base, floor_base, url, env)
        if READERS:
            code |= run(base, url, tmp)
    return code


def server_cpu(port_base: str) -> float:
    """CPU seconds (user + system) used so far by the gunicorn serving `port_base`: its master and workers."""
    master = SERVERS[port_base]
    pids = [master] + [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def form_fields(n: int, i: int, token: str) -> dict:
    return {"csrf_token": token, "client_key": str(uuid.uuid4()),
            "occurred_at": time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() - 3600)),
            "summary": f"Bench writer {n} entry {i}", "marking": "OFFICIAL", "postcode": "M15 4AD",
            "nsir_category": "nuisance", "asb_type": "noise", "description": "Loud music from a parked car.",
            "vehicles-0-vrm": "MA19 XKE", "action": "submit"}


def compare(base: str, floor_base: str, url: str, env: dict) -> int:
    """ROUNDS rounds of: the floor, a signed-in request that writes nothing (the app's own floor), the app's form,
    the app's JSON API, each WRITERS threads x PER_ROUND requests."""
    from bench.api_writes import COLLARS, MAKE_TOKENS, body, post
    tokens = subprocess.run([str(VENV_BIN / "python"), "-c", MAKE_TOKENS.format(collars=COLLARS)], cwd=ROOT,
                            env=env, check=True, capture_output=True, text=True).stdout.split()
    browsers = []
    for n in range(WRITERS):
        browser = Browser(base)
        browser.login(*LOGINS[n % len(LOGINS)])
        browsers.append((browser, browser.token("/asb-incidents/new")))
    floors = [Browser(floor_base) for _ in range(WRITERS)]
    acknowledged: dict[str, list[str]] = {"floor": [], "noop": [], "form": [], "api": []}

    def send(path: str, n: int, i: int) -> tuple[str, int, str]:
        if path == "floor":
            fields = form_fields(n, i, "")
            status, _, _ = floors[n].request("/floor", fields)
            return fields["client_key"], status, "302"
        if path == "noop":  # signed in, writes nothing: what any request of the app costs before its work
            status, _, _ = browsers[n][0].request("/api/v1/csrf-token")
            return "", status, "-"
        if path == "form":
            browser, token = browsers[n]
            fields = form_fields(n, i, token)
            status, _, _ = browser.write("/asb-incidents/new", fields)
            return fields["client_key"], status, "302"
        key = str(uuid.uuid4())
        status, _, _ = post(base, tokens[n % len(tokens)], key, body(n, i))
        return key, status, "201"

    def one_round(path: str) -> dict:
        times, outcomes, lock = [], {}, threading.Lock()
        cpu_before = server_cpu(floor_base if path == "floor" else base)

        def writer(n: int) -> None:
            for i in range(PER_ROUND):
                started = time.perf_counter()
                key, status, good = send(path, n, i)
                took = time.perf_counter() - started
                with lock:
                    times.append(took)
                    outcomes[str(status)] = outcomes.get(str(status), 0) + 1
                    if str(status) == good:
                        acknowledged[path].append(key)

        elapsed = run_threads(writer, WRITERS)
        cpu = server_cpu(floor_base if path == "floor" else base) - cpu_before
        return {"rate": len(times) / elapsed, "p50": pct(times, 50), "p99": pct(times, 99),
                "cpu_ms": cpu / max(len(times), 1) * 1000, "outcomes": outcomes}

    results: dict[str, list[dict]] = {"floor": [], "noop": [], "form": [], "api": []}
    for _ in range(ROUNDS):
        for path in results:
            results[path].append(one_round(path))
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        stored_app = set(conn.execute(sa.text("SELECT client_key FROM entry")).scalars())
        app_rows = conn.execute(sa.text("SELECT count(*) FROM entry")).scalar_one()
        floor_rows = conn.execute(sa.text("SELECT count(*) FROM floor_entry")).scalar_one()
    engine.dispose()
    print(f"backend {url.split(':', 1)[0]}, gunicorn workers {WORKERS}, writer threads {WRITERS}, "
          f"{PER_ROUND} writes per thread per round, {ROUNDS} rounds alternating")
    floor_rate = statistics.mean(r["rate"] for r in results["floor"])
    for path in results:
        rounds = results[path]
        rate = statistics.mean(r["rate"] for r in rounds)
        print(f"  {path:5}: {rate:6.0f} {'requests' if path == 'noop' else 'writes'}/s "
              f"({100 * rate / floor_rate:5.1f} % of the floor; rounds "
              f"{', '.join(str(round(r['rate'])) for r in rounds)}), "
              f"p50 {statistics.mean(r['p50'] for r in rounds):.0f} ms, p99 {max(r['p99'] for r in rounds):.0f} ms, "
              f"server CPU {statistics.mean(r['cpu_ms'] for r in rounds):.1f} ms/write, "
              f"answers {merge_counts(r['outcomes'] for r in rounds)}")
    acked_app = acknowledged["form"] + acknowledged["api"]
    lost = [key for key in acked_app if key not in stored_app]
    print(f"  stored: floor {floor_rows} rows for {len(acknowledged['floor'])} acknowledged; app {app_rows} rows for "
          f"{len(acked_app)} acknowledged, lost {len(lost)}, duplicated {app_rows - len(stored_app)}")
    bad = any(k.startswith("5") for r in results["form"] + results["api"] for k in r["outcomes"])
    return 1 if lost or app_rows != len(stored_app) or bad else 0


def merge_counts(counts) -> dict:
    total: dict[str, int] = {}
    for one in counts:
        for key, value in one.items():
            total[key] = total.get(key, 0) + value
    return total


def run(base: str, url: str, tmp: Path) -> int:
    write_times: list[float] = []
    read_times: list[float] = []
    outcomes: dict[str, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + DEADLINE_S
    stop_reading = threading.Event()

    def writer(n: int) -> None:
        browser = Browser(base)
        browser.login(*LOGINS[n % len(LOGINS)])
        token = browser.token("/asb-incidents/new")
        for i in range(WRITES_PER_WRITER):
            if time.monotonic() > deadline:
                break
            status, _, took = browser.write("/asb-incidents/new", {
                "csrf_token": token, "client_key": str(uuid.uuid4()),
                "occurred_at": time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() - 3600)),
                "summary": f"Bench writer {n} entry {i}", "marking": "OFFICIAL", "postcode": "M15 4AD",
                "nsir_category": "nuisance", "asb_type": "noise", "description": "Loud music from a parked car.",
                "vehicles-0-vrm": "MA19 XKE", "action": "submit"})
            with lock:
                write_times.append(took)
                outcomes[str(status)] = outcomes.get(str(status), 0) + 1

    def reader(n: int) -> None:
        browser = Browser(base)
        browser.login(*LOGINS[n % len(LOGINS)])
        pages = ["/entries", "/", "/beats/"]
        i = 0
        while not stop_reading.is_set() and time.monotonic() < deadline:
            status, _, took = browser.request(pages[i % len(pages)])
            i += 1
            with lock:
                read_times.append(took)
                if status != 200:
                    outcomes[f"read {status}"] = outcomes.get(f"read {status}", 0) + 1

    def entries() -> int:
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as conn:
            count = conn.execute(sa.text("SELECT count(*) FROM entry")).scalar_one()
        engine.dispose()
        return count

    before = entries()  # the floor-against-app rounds ran first on the same database
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    readers = [threading.Thread(target=reader, args=(n,)) for n in range(READERS)]
    started = time.perf_counter()
    for thread in writers + readers:
        thread.start()
    for thread in writers:
        thread.join()
    elapsed = time.perf_counter() - started
    stop_reading.set()
    for thread in readers:
        thread.join()

    stored = entries() - before
    ok = outcomes.get("302", 0)
    backend = url.split(":", 1)[0]
    print(f"backend {backend}, gunicorn workers {WORKERS}, writers {WRITERS}, readers {READERS}")
    print(f"writes: {len(write_times)} sent, {ok} answered 302, {stored} rows stored, "
          f"lost {ok - stored}, other answers {({k: v for k, v in outcomes.items() if k != '302'})}")
    print(f"write throughput {ok / elapsed:.0f}/s over {elapsed:.1f} s; "
          f"write latency p50 {pct(write_times, 50):.0f} ms, p95 {pct(write_times, 95):.0f} ms")
    print(f"reads meanwhile: {len(read_times)}, p50 {pct(read_times, 50):.0f} ms, p95 {pct(read_times, 95):.0f} ms")
    return 0 if ok == stored and ok == len(write_times) else 1


if __name__ == "__main__":
    sys.exit(main())
