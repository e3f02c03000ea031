"""Faults under load: SUBMISSIONS entries through 4 gunicorn workers while workers, the master, Redis and
PostgreSQL are killed or restarted. Nothing acknowledged may be lost, nothing duplicated, no 500, nothing
half-written.

    .venv/bin/python bench/faults.py --db sqlite                                   # no faults: the baseline
    .venv/bin/python bench/faults.py --db sqlite --faults workers,master,redis
    .venv/bin/python bench/faults.py --db postgresql --faults workers,master,redis,pg-fast,pg-immediate

Everything it stops is its own (bench/fault_servers.py): a redis-server and (for --db postgresql) a PostgreSQL
cluster on free loopback ports in temp dirs, and gunicorn; the shared servers are never touched. The client
is the phone's outbox: CLIENTS threads post ASB incidents to the JSON API, each with its own Idempotency-Key,
and send the same key and body again after any failure (a 409, 429, 503, a dropped connection) until it is
acknowledged (200/201). Faults fire at fractions of the acknowledged count (FAULT_AT). At the end it reads the
database: every acknowledged key has exactly one entry, with its ASB row and its audit event; no key has two;
SQLite passes PRAGMA integrity_check and foreign_key_check. Exit 1 if any check fails. Bounded: DEADLINE_S.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.api_writes import COLLARS, MAKE_TOKENS  # noqa: E402
from bench.concurrent_writes import Browser, pct  # noqa: E402
from bench.fault_servers import ROOT, VENV_BIN, Gunicorn, private_postgres, private_redis  # noqa: E402

SUBMISSIONS = int(os.environ.get("BENCH_SUBMISSIONS", "10000"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "12"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
DEADLINE_S = int(os.environ.get("BENCH_DEADLINE_S", "1500"))
REDIS_DOWN_S = 8  # Redis stays down this long, under load
FAULT_AT = {"workers": (0.10, 0.14, 0.18), "master": (0.26,), "redis": (0.40,), "pg-fast": (0.60,),
            "pg-immediate": (0.78,)}
ACKED = (200, 201)


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.acked: dict[str, tuple[int, int]] = {}  # key -> (entry id, user index)
        self.waits: list[float] = []  # first send to acknowledgement, per submission
        self.errors_500: list[str] = []
        self.unacked: list[str] = []
        self.next = 0

    def take(self) -> int | None:
        with self.lock:
            if self.next >= SUBMISSIONS:
                return None
            self.next += 1
            return self.next - 1


def body(n: int) -> bytes:
    when = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(timespec="seconds")
    return json.dumps({"occurred_at": when, "summary": f"Fault bench entry {n}", "postcode": "M15 4AD",
                       "nsir_category": "nuisance", "asb_type": "noise", "description": "Loud music from a car."}
                      ).encode()


def send(port: int, token: str, key: str, payload: bytes) -> tuple[int | str, dict, float]:
    """One POST; the status (or "conn" for a connection error), the answer, and the Retry-After to honour."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=40)
    try:
        connection.request("POST", "/api/v1/asb-incidents?submit=true", body=payload, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": key})
        response = connection.getresponse()
        raw = response.read()
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            answer = {"raw": raw[:200].decode(errors="replace")}
        retry = float(response.getheader("Retry-After") or 0) if response.status in (409, 429, 503) else 0.0
        return response.status, answer, min(retry, 3.0)
    except (OSError, http.client.HTTPException):
        return "conn", {}, 0.3
    finally:
        connection.close()


def client(port: int, tokens: list[str], tally: Tally, deadline: float) -> None:
    while (n := tally.take()) is not None:
        user = n % len(tokens)
        key, payload, first = str(uuid.uuid4()), body(n), time.monotonic()
        while True:
            if time.monotonic() > deadline:
                with tally.lock:
                    tally.unacked.append(key)
                return
            status, answer, retry = send(port, tokens[user], key, payload)
            with tally.lock:
                tally.statuses[status] += 1
                if status == 500:
                    tally.errors_500.append(json.dumps(answer)[:300])
            if status in ACKED:
                with tally.lock:
                    tally.acked[key] = (answer["id"], user)
                    tally.waits.append(time.monotonic() - first)
                break
            if isinstance(status, int) and 400 <= status < 500 and status not in (409, 429):
                with tally.lock:  # the request itself was refused: a retry would be too (counted, not retried)
                    tally.unacked.append(key)
                break
            time.sleep(retry or 0.2)


class Faults:
    """Fires the chosen faults as the acknowledged count passes their fractions, and says what happened."""

    def __init__(self, chosen: list[str], server: Gunicorn, redis_server, pg, tally: Tally, tmp: Path, env: dict):
        self.schedule = sorted((at, name) for name in chosen for at in FAULT_AT[name])
        self.server, self.redis_server, self.pg, self.tally, self.tmp, self.env = server, redis_server, pg, tally, tmp, env
        self.notes: list[str] = []
        self.job: dict = {}
        self.pages: dict[str, dict] = {}  # GET /entries during each PostgreSQL restart: status -> count

    def note(self, text: str) -> None:
        self.notes.append(f"[{len(self.tally.acked):>5} acked] {text}")
        print(self.notes[-1], flush=True)

    def run(self, done: threading.Event) -> None:
        for at, name in self.schedule:
            while len(self.tally.acked) < at * SUBMISSIONS and not done.is_set():
                time.sleep(0.05)
            if done.is_set():
                return
            getattr(self, name.replace("-", "_"))()

    def _acked_during(self, action) -> tuple[int, float]:
        before, started = len(self.tally.acked), time.monotonic()
        action()
        return len(self.tally.acked) - before, time.monotonic() - started

    def workers(self) -> None:
        pid = self.server.kill_worker()
        self.note(f"kill -9 worker {pid}")

    def master(self) -> None:
        def outage():
            pid = self.server.kill_master()
            self.note(f"kill -9 master {pid}; its {len(self.server.orphans)} workers finish and exit")
            self.server.wait_orphans(timeout=1)  # systemd (KillMode=mixed) kills the rest
            self.server.start()
        acked, took = self._acked_during(outage)
        self.note(f"gunicorn started again on the same port after {took:.1f} s ({acked} acknowledged meanwhile)")

    def redis(self) -> None:
        self.redis_server.kill()
        self.note("kill -9 redis-server")
        before, started = len(self.tally.acked), time.monotonic()
        self.job = submit_export_job(self.server.base)
        self.note(f"while Redis is down: a list export job asked for -> HTTP {self.job.get('status')}")
        time.sleep(max(0.0, REDIS_DOWN_S - (time.monotonic() - started)))
        acked = len(self.tally.acked) - before
        self.redis_server.start()
        self.note(f"redis-server back (empty) after {time.monotonic() - started:.1f} s; {acked} entries "
                  "acknowledged while it was down")

    def _pg(self, mode: str) -> None:
        browser = Browser(self.server.base)  # a sergeant reading pages meanwhile: what does a browser see?
        browser.login("SG2001", "sergeant-demo-pass")
        pages, stop = Counter(), threading.Event()

        def read_pages():
            while not stop.is_set():
                try:
                    status, text, _ = browser.request("/entries")
                except OSError:
                    status, text = "conn", ""
                pages[f"{status} busy page" if status == 503 and "The system is busy" in text else status] += 1
                time.sleep(0.05)

        reader = threading.Thread(target=read_pages, daemon=True)
        reader.start()
        acked, took = self._acked_during(lambda: self.pg.restart(mode))
        time.sleep(2)
        stop.set()
        reader.join(timeout=40)
        self.pages[mode] = dict(pages)
        self.note(f"pg_ctl restart -m {mode}: {took:.1f} s ({acked} acknowledged meanwhile); GET /entries "
                  f"during and 2 s after: {dict(pages)}")

    def pg_fast(self) -> None:
        self._pg("fast")

    def pg_immediate(self) -> None:
        self._pg("immediate")


def submit_export_job(base: str) -> dict:
    """The sergeant signs in and asks for a list export, which runs as a job (EXPORT_JOB_ROWS=0)."""
    browser = Browser(base)
    try:
        browser.login("SG2001", "sergeant-demo-pass")
        token = browser.token("/lists/entries/export")
        status, text, _ = browser.request("/lists/entries/export", {
            "csrf_token": token, "format": "csv", "purpose": "Fault bench: an export asked for while Redis is down",
            "recipient": "Bench, Trafford"})
    except (RuntimeError, OSError) as error:
        return {"status": f"failed: {error}"}
    return {"status": status, "browser": browser, "text": text[:200]}


def job_outcome(job: dict, url: str, deadline_s: float = 90) -> str:
    """Where the job asked for during the outage is now (a worker runs from the start, restarted if it dies)."""
    if job.get("status") != 303:
        return f"not asked (HTTP {job.get('status')})"
    engine = sa.create_engine(url)
    deadline = time.monotonic() + deadline_s
    with engine.connect() as conn:
        while True:
            state = conn.execute(sa.text("SELECT state FROM job ORDER BY created_at DESC LIMIT 1")).scalar()
            conn.rollback()
            if state in ("done", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    engine.dispose()
    return str(state)


class JobWorker:
    """`flask jobs worker`, started again when it exits (as systemd's Restart=always would)."""

    def __init__(self, env: dict, log: Path):
        self.env, self.log, self.process, self.restarts, self.stopping = env, log, None, 0, False
        self.thread = threading.Thread(target=self._keep, daemon=True)

    def _keep(self) -> None:
        while not self.stopping:
            out = open(self.log, "ab")  # noqa: SIM115
            self.process = subprocess.Popen([str(VENV_BIN / "flask"), "--app", "app", "jobs", "worker"], cwd=ROOT,
                                            env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
            self.process.wait()
            if not self.stopping:
                self.restarts += 1
                time.sleep(1)

    def stop(self) -> None:
        self.stopping = True
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


def prepare(url: str, env: dict) -> list[str]:
    flask = [str(VENV_BIN / "flask"), "--app", "app"]
    subprocess.run(flask + ["db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(flask + ["seed-demo", "--entries", "0"], cwd=ROOT, env=env, check=True, capture_output=True)
    return subprocess.run([str(VENV_BIN / "python"), "-c", MAKE_TOKENS.format(collars=COLLARS)], cwd=ROOT, env=env,
                          check=True, capture_output=True, text=True).stdout.split()


def check(url: str, tally: Tally) -> dict:
    """What the database holds, against what was acknowledged."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, client_key FROM entry")).all()
        q = conn.execute
        found = {
            "entries": len(rows),
            "without ASB row": q(sa.text("SELECT count(*) FROM entry e LEFT JOIN asb_incident a ON a.id = e.id "
                                         "WHERE a.id IS NULL")).scalar(),
            "without audit event": q(sa.text(
                "SELECT count(*) FROM entry e WHERE NOT EXISTS (SELECT 1 FROM audit_event a WHERE "
                "a.object_type = 'entry' AND a.object_id = e.id)")).scalar(),
            "keys in flight left": q(sa.text("SELECT count(*) FROM idempotency_key WHERE completed_at IS NULL")
                                     ).scalar(),
        }
        if url.startswith("sqlite"):
            found["integrity_check"] = q(sa.text("PRAGMA integrity_check")).scalar()
            found["foreign_key_check"] = len(q(sa.text("PRAGMA foreign_key_check")).all())
    engine.dispose()
    by_key = Counter(key for _, key in rows)
    ids = {key: entry_id for entry_id, key in rows}
    found["lost"] = sum(1 for key in tally.acked if by_key[key] == 0)
    found["duplicated"] = sum(1 for count in by_key.values() if count > 1)
    found["acked under another id"] = sum(1 for key, (entry_id, _) in tally.acked.items()
                                          if key in ids and ids[key] != entry_id)
    found["stored, not acked"] = sum(1 for key in by_key if key not in tally.acked)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--faults", default="", help="comma-separated: " + ",".join(FAULT_AT))
    args = parser.parse_args()
    chosen = [name for name in args.faults.split(",") if name]
    if unknown := set(chosen) - set(FAULT_AT) or (args.db == "sqlite" and {"pg-fast", "pg-immediate"} & set(chosen)):
        parser.error(f"unknown or inapplicable faults: {unknown}")
    tmp = Path(tempfile.mkdtemp(prefix="beatbook-faults-"))
    try:
        with private_redis() as redis_server:
            if args.db == "postgresql":
                with private_postgres() as pg:
                    return run(args.db, chosen, pg.url, redis_server, pg, tmp)
            return run(args.db, chosen, f"sqlite:///{tmp / 'faults.sqlite'}", redis_server, None, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(db: str, chosen: list[str], url: str, redis_server, pg, tmp: Path) -> int:
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_server.url, "SECRET_KEY": "faults-" + "x" * 40,
           "TOTP_REQUIRED_ROLES": "", "RATELIMIT_LOGIN": "1000 per minute", "API_RATELIMIT": "100000 per minute",
           "EXPORT_JOB_ROWS": "0", "JOBS_DIR": str(tmp / "jobs"), "PHOTO_DIR": str(tmp / "photos"),
           "REQUEST_LOG": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    for name in ("RATELIMIT_STORAGE_URI", "JOBS_REDIS_URL", "JOBS_MODE", "DATABASE_REPLICA_URL"):
        env.pop(name, None)
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    tokens = prepare(url, env)
    server = Gunicorn(env, WORKERS, tmp / "gunicorn.log")
    server.start()
    worker = JobWorker(env, tmp / "worker.log")
    worker.thread.start()
    tally, done = Tally(), threading.Event()
    faults = Faults(chosen, server, redis_server, pg, tally, tmp, env)
    injector = threading.Thread(target=faults.run, args=(done,), daemon=True)
    deadline = time.monotonic() + DEADLINE_S
    load_before = os.getloadavg()
    started = time.perf_counter()
    clients = [threading.Thread(target=client, args=(server.port, tokens, tally, deadline)) for _ in range(CLIENTS)]
    for thread in [*clients, injector]:
        thread.start()
    for thread in clients:
        thread.join()
    elapsed = time.perf_counter() - started
    done.set()
    load_after = os.getloadavg()
    job = job_outcome(faults.job, url) if "redis" in chosen else "-"
    limiter_back = redis_server.keys() if "redis" in chosen else "-"
    server.stop()
    worker.stop()
    found = check(url, tally)
    sent = sum(tally.statuses.values())
    print(f"\n{db}, {WORKERS} gunicorn workers, {CLIENTS} clients, {SUBMISSIONS} submissions, faults: "
          f"{','.join(chosen) or 'none'}")
    print(f"acknowledged {len(tally.acked)} in {elapsed:.0f} s ({len(tally.acked) / elapsed:.0f}/s); "
          f"unacknowledged at the end {len(tally.unacked)}; requests {sent}: {dict(sorted(tally.statuses.items(), key=str))}")
    print(f"wait for an acknowledgement: p50 {pct(tally.waits, 50):.0f} ms, p99 {pct(tally.waits, 99):.0f} ms, "
          f"max {max(tally.waits, default=0) * 1000:.0f} ms")
    print(f"database: {found}")
    if "redis" in chosen:
        print(f"job asked for while Redis was down: {job}; Redis keys after (the limiter back on Redis): "
              f"{limiter_back}; job worker restarts: {worker.restarts}")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min); uptime: "
          f"{subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    if tally.errors_500:
        print("500s:", *tally.errors_500[:5], sep="\n  ")
    print("gunicorn log tail:", server.log.read_text(errors="replace")[-1500:], sep="\n") if tally.errors_500 else None
    ok = (found["lost"] == found["duplicated"] == found["acked under another id"] == 0 and not tally.errors_500
          and not tally.unacked and found["without ASB row"] == found["without audit event"] == 0
          and found.get("integrity_check", "ok") == "ok" and not found.get("foreign_key_check")
          and job in ("-", "done") and not any(500 in pages for pages in faults.pages.values()))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
