"""Where a submission's time goes: statements, transactions and CPU of one ASB form POST and one API POST.

In process (Flask's test client, no HTTP), on a scratch SQLite database (or BENCH_DATABASE_URL) with the demo
users: signs in, sends BENCH_SUBMISSIONS forms and API creates, and prints per submission the SQL statements
by kind, the transactions begun (and how many took the write lock), the time from the first statement to the
commit (how long SQLite's write lock is held), and the top functions by CPU (cProfile), by package.

    .venv/bin/python bench/profile_write.py
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python bench/profile_write.py
"""
from __future__ import annotations

import collections
import cProfile
import logging
import os
import pstats
import re
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.concurrent_writes import scratch_database  # noqa: E402

N = int(os.environ.get("BENCH_SUBMISSIONS", "200"))
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class Counter:
    """Counts statements by their first word and commits; on SQLite, how long the write lock is held (from
    BEGIN IMMEDIATE to the COMMIT, seen by SQLite's trace callback, which sees the app's own BEGINs too)."""

    def __init__(self, engine):
        self.kinds: collections.Counter = collections.Counter()
        self.commits = 0
        self.show = False
        self.held = 0.0
        self.locked_at: float | None = None
        event.listen(engine, "before_cursor_execute", self.statement)
        event.listen(engine, "commit", self.commit)
        if engine.dialect.name == "sqlite":
            engine.dispose()
            event.listen(engine, "connect", lambda dbapi, _record: dbapi.set_trace_callback(self.trace))

    def trace(self, sql: str) -> None:
        if sql.startswith("BEGIN IMMEDIATE"):
            self.locked_at = time.perf_counter()
        elif sql.startswith(("COMMIT", "ROLLBACK")) and self.locked_at is not None:
            self.held += time.perf_counter() - self.locked_at
            self.locked_at = None

    def statement(self, _conn, _cursor, sql, *_args):
        word = sql.lstrip().split(None, 1)[0].upper()
        self.kinds[word] += 1
        if os.environ.get("BENCH_SHOW_SQL") and self.show:
            print("   SQL", " ".join(sql.split())[:160])

    def commit(self, _conn):
        self.commits += 1

    def reset(self):
        self.kinds.clear()
        self.commits = 0
        self.held = 0.0


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="beatbook-profile-"))
    url, env = scratch_database(tmp, API_RATELIMIT="100000 per minute")
    os.environ.update({k: v for k, v in env.items() if k in {"DATABASE_URL", "SECRET_KEY", "TOTP_REQUIRED_ROLES",
                                                              "RATELIMIT_LOGIN", "API_RATELIMIT"}})
    logging.getLogger("beatbook.request").setLevel(logging.WARNING)  # one JSON line per request otherwise
    from pcso import create_app
    from pcso.api.tokens import create_token
    from pcso.extensions import db
    from pcso.models import TokenScope, User
    app = create_app()
    logging.getLogger("beatbook.request").setLevel(logging.WARNING)  # create_app set it up
    client = app.test_client()
    with app.app_context():
        counter = Counter(db.engine)
        user = db.session.scalar(sa.select(User).where(User.collar_number == "PC1001"))
        bearer = create_token(user, name="profile", scope=TokenScope.WRITE, days=7, actor=user)[1]
        db.session.commit()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"csrf_token": TOKEN.search(page).group(1), "collar_number": "PC1001",
                                "password": "pcso-demo-pass"})
    token = TOKEN.search(client.get("/asb-incidents/new").get_data(as_text=True)).group(1)

    signed_in = client.get_cookie("beatbook_session")

    def form(i: int):
        # A browser follows the 302 to the entry page, which shows the "saved" flash and takes it out of the
        # session; this client doesn't, so it sends the cookie as it was before (else one more flash a write)
        client.set_cookie(signed_in.key, signed_in.value)
        answer = client.post("/asb-incidents/new", data={
            "csrf_token": token, "client_key": str(uuid.uuid4()),
            "occurred_at": time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() - 3600)),
            "summary": f"Profile entry {i}", "marking": "OFFICIAL", "postcode": "M15 4AD",
            "nsir_category": "nuisance", "asb_type": "noise", "description": "Loud music from a parked car.",
            "vehicles-0-vrm": "MA19 XKE", "action": "submit"})
        assert answer.status_code == 302, answer.status_code

    def api(i: int):
        when = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(timespec="seconds")
        answer = client.post("/api/v1/asb-incidents", headers={
            "Authorization": f"Bearer {bearer}", "Idempotency-Key": f'"{uuid.uuid4()}"'}, json={
            "occurred_at": when, "summary": f"Profile entry {i}", "postcode": "M15 4AD", "nsir_category": "nuisance",
            "asb_type": "noise", "description": "Loud music from a car.", "vehicles": [{"vrm": "MA19 XKE"}]})
        assert answer.status_code == 201, (answer.status_code, answer.get_data(as_text=True)[:300])

    def no_op(_i: int):  # a signed-in request that does nothing: the session, the user, the CSRF token
        answer = client.get("/api/v1/csrf-token")
        assert answer.status_code == 200, answer.status_code

    for _ in range(20):
        no_op(0)
    cpu = time.process_time()
    for i in range(N):
        no_op(i)
    print(f"\n== a signed-in request doing nothing (GET /api/v1/csrf-token): "
          f"{(time.process_time() - cpu) / N * 1000:.1f} ms CPU (both sides of the test client)")

    for name, send in (("form", form), ("api", api)):
        send(-1)  # warm: first-request caches
        counter.show = True  # BENCH_SHOW_SQL=1: the statements of one submission
        send(-2)
        counter.show = False
        counter.reset()
        started, cpu = time.perf_counter(), time.process_time()
        for i in range(N):
            send(i)
        took, cpu = ((time.perf_counter() - started) / N * 1000, (time.process_time() - cpu) / N * 1000)
        held = counter.held / N * 1000
        profile = cProfile.Profile()
        profile.enable()
        for i in range(N):
            send(N + i)
        profile.disable()
        print(f"\n== {name}: {took:.1f} ms per submission in process, {cpu:.1f} ms CPU (both sides of the test "
              f"client; {url.split(':', 1)[0]}); per submission: "
              f"{sum(counter.kinds.values()) / N / 2:.1f} statements "
              f"({', '.join(f'{k} {v / N / 2:.1f}' for k, v in counter.kinds.most_common())}), "
              f"{counter.commits / N / 2:.1f} commits"
              + (f"; SQLite write lock held {held:.1f} ms ({100 * held / took:.0f} % of the request)" if held else ""))
        stats = pstats.Stats(profile)
        by_package: collections.Counter = collections.Counter()
        for (filename, _line, _func), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
            by_package[package_of(filename)] += tottime
        total = sum(by_package.values())
        print("   CPU by package: " + ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in by_package.most_common(10)))
        stats.sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
            os.environ.get("BENCH_FILTER", ""), int(os.environ.get("BENCH_TOP", "0")) or 0)
    return 0


def package_of(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if "/pcso/" in filename:
        return "pcso"
    return "python" if filename.startswith(("/", "<")) else filename


if __name__ == "__main__":
    sys.exit(main())
