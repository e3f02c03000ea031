"""Concurrent entry logging through the JSON API under gunicorn: tokens, Idempotency-Key, retries.

Starts the real app under gunicorn (several workers) on a scratch database with the demo users, makes a
write token for each PCSO and the sergeant, then runs WRITERS threads that each POST ASB incidents to
/api/v1/asb-incidents, every one with a fresh Idempotency-Key, and re-send RETRY_EVERY-th request with the
same key and body (a phone that lost the answer). At the end it counts the rows: there must be exactly one
per key, and every retry must have replayed the first answer's entry.

    .venv/bin/python bench/api_writes.py                       # SQLite in a temp dir
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python bench/api_writes.py

Only talks to 127.0.0.1. Bounded: WRITES_PER_WRITER posts per writer, a deadline of 300 s.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.concurrent_writes import ROOT, VENV_BIN, gunicorn, pct, run_threads, scratch_database  # noqa: E402

WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
WRITERS = int(os.environ.get("BENCH_WRITERS", "8"))
WRITES_PER_WRITER = int(os.environ.get("BENCH_WRITES", "150"))
RETRY_EVERY = 10
DEADLINE_S = 300
COLLARS = ("PC1001", "PC1002", "SG2001")
MAKE_TOKENS = """
import sqlalchemy as sa
from pcso import create_app
from pcso.api.tokens import create_token
from pcso.extensions import db
from pcso.models import TokenScope, User
app = create_app()
with app.app_context():
    for collar in {collars!r}:
        user = db.session.scalar(sa.select(User).where(User.collar_number == collar))
        print(create_token(user, name="bench", scope=TokenScope.WRITE, days=7, actor=user)[1])
    db.session.commit()
"""


def post(base: str, token: str, key: str, body: bytes) -> tuple[int, dict, float]:
    request = urllib.request.Request(base + "/api/v1/asb-incidents", data=body, method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": f'"{key}"'})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, answer = response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        status, answer = error.code, json.loads(error.read() or b"{}")
    return status, answer, time.perf_counter() - started


def body(n: int, i: int) -> bytes:
    when = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(timespec="seconds")
    return json.dumps({"occurred_at": when, "summary": f"Bench writer {n} entry {i}", "postcode": "M15 4AD",
                       "nsir_category": "nuisance", "asb_type": "noise", "description": "Loud music from a car.",
                       "vehicles": [{"vrm": "MA19 XKE"}]}).encode()


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="beatbook-bench-"))
    url, env = scratch_database(tmp, API_RATELIMIT="100000 per minute")
    tokens = subprocess.run([str(VENV_BIN / "python"), "-c", MAKE_TOKENS.format(collars=COLLARS)], cwd=ROOT,
                            env=env, check=True, capture_output=True, text=True).stdout.split()
    with gunicorn(env, WORKERS) as base:
        return run(base, url, tokens)


def run(base: str, url: str, tokens: list[str]) -> int:
    times: list[float] = []
    outcomes: dict[str, int] = {}
    mismatched = []
    lock = threading.Lock()
    deadline = time.monotonic() + DEADLINE_S

    def writer(n: int) -> None:
        token = tokens[n % len(tokens)]
        for i in range(WRITES_PER_WRITER):
            if time.monotonic() > deadline:
                break
            key, payload = str(uuid.uuid4()), body(n, i)
            status, answer, took = post(base, token, key, payload)
            sends = [(status, took)]
            if i % RETRY_EVERY == 0 and status == 201:
                again, replay, took_again = post(base, token, key, payload)
                sends.append((f"{again} retry", took_again))
                if replay.get("id") != answer.get("id"):
                    with lock:
                        mismatched.append(key)
            with lock:
                for outcome, seconds in sends:
                    times.append(seconds)
                    outcomes[str(outcome)] = outcomes.get(str(outcome), 0) + 1

    elapsed = run_threads(writer, WRITERS)

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM entry")).scalar_one()
        keys = conn.execute(sa.text("SELECT count(DISTINCT client_key) FROM entry")).scalar_one()
    engine.dispose()
    created = outcomes.get("201", 0)
    print(f"backend {url.split(':', 1)[0]}, gunicorn workers {WORKERS}, writers {WRITERS}")
    print(f"requests: {len(times)} ({created} creates answered 201, {outcomes.get('201 retry', 0)} retries replayed); "
          f"answers {outcomes}")
    print(f"rows stored {stored}, distinct keys {keys}, duplicates {stored - keys}, lost {created - stored}, "
          f"replays naming another entry {len(mismatched)}")
    print(f"throughput {len(times) / elapsed:.0f} requests/s over {elapsed:.1f} s; "
          f"latency p50 {pct(times, 50):.0f} ms, p95 {pct(times, 95):.0f} ms")
    return 0 if stored == keys == created and not mismatched else 1


if __name__ == "__main__":
    sys.exit(main())
