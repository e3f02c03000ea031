"""The beat dashboard at a million entries: server time for one beat and for all beats, 28 days.

Reuses bench/search_1m.py's generator and loader (the same 1,000,000 entries over three years on the
21 Trafford beats), in a database of its own so that the few dashboard extras it adds never touch the
search bench's data: each welfare check's next visit (28 days after it, as a SPOC's monthly schedule;
the search generator leaves it empty) and a share of recorded-late ASB incidents (so the ASB Case Review
rule has something to refuse). Then, signed in as a supervisor, it renders GET /dashboard through the
app's own test client (routing, the form, every query, the template, the audit event and its commit:
the whole server time of the page) BENCH_RUNS times for each shape and prints p50/p95.

    .venv/bin/python bench/dashboard_1m.py                          # SQLite, /tmp/beatbook_dashboard_1m.sqlite
    psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE beatbook_dash1m'
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/beatbook_dash1m .venv/bin/python bench/dashboard_1m.py

BENCH_REUSE=1 keeps a database already generated with the same size and only measures; BENCH_ENTRIES and
BENCH_RUNS as in search_1m.py; BENCH_BREAKDOWN=0 skips the per-figure timings. Beside wall time it prints the CPU
time of each request (this process and the PostgreSQL backends serving it): on a busy machine the wall time
includes waiting for a core, the CPU time does not. "Now" is the newest entry's time, so the 28 days always hold data.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
os.environ.setdefault("BENCH_SQLITE_PATH", str(Path(tempfile.gettempdir()) / "beatbook_dashboard_1m.sqlite"))
sys.path.insert(0, str(HERE))

import search_1m as generated  # noqa: E402  (puts the project root on sys.path too)
import sqlalchemy as sa  # noqa: E402

from pcso.extensions import db  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "30"))
WARM = 3


database = generated.database


def generate(url: str, dialect: str):
    """search_1m's generation, into this bench's own database."""
    app, _ = generated.generate(url, dialect)
    return app


def add_dashboard_extras(app, dialect: str) -> None:
    """Next visits on welfare checks (London date of the visit + 28 days); 3 % of incidents recorded 5-60 days late.
    Then each child's latest check (welfare_latest), which the app keeps on write and the loader's COPY bypasses."""
    with app.app_context():
        missing = db.session.scalar(sa.text("SELECT count(*) FROM welfare_check WHERE next_visit_on IS NULL"))
        latest = db.session.scalar(sa.text("SELECT count(*) FROM welfare_latest"))
        if not missing:
            if not latest:
                rebuild_latest(app, dialect)
            return
        started = time.perf_counter()
        if dialect == "sqlite":
            # London is UTC+0/+1: the visit's London date is its UTC date but for visits after 23:00 UTC in summer;
            # a day either way does not matter for a load test.
            db.session.execute(sa.text(
                "UPDATE welfare_check SET next_visit_on = date((SELECT occurred_at FROM entry "
                "WHERE entry.id = welfare_check.id), '+28 days')"))
            db.session.execute(sa.text(
                "UPDATE entry SET recorded_at = datetime(occurred_at, '+' || (5 + id % 56) || ' days') "
                "WHERE kind = 'asb_incident' AND id % 33 = 0"))
        else:
            db.session.execute(sa.text(
                "UPDATE welfare_check w SET next_visit_on = (e.occurred_at AT TIME ZONE 'Europe/London')::date + 28 "
                "FROM entry e WHERE e.id = w.id"))
            db.session.execute(sa.text(
                "UPDATE entry SET recorded_at = occurred_at + (5 + id % 56) * interval '1 day' "
                "WHERE kind = 'asb_incident' AND id % 33 = 0"))
        db.session.commit()
        if dialect == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE welfare_check")
                conn.exec_driver_sql("VACUUM ANALYZE entry")
        else:
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        print(f"Dashboard extras added in {time.perf_counter() - started:.0f} s", flush=True)
    rebuild_latest(app, dialect)


def rebuild_latest(app, dialect: str) -> None:
    from pcso.models.latest_check import rebuild_all

    started = time.perf_counter()
    with app.app_context():
        with db.engine.begin() as conn:
            rows = rebuild_all(conn)
        if dialect == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE welfare_latest")
    print(f"Each child's latest welfare check: {rows:,} children in {time.perf_counter() - started:.1f} s", flush=True)


def newest(app) -> datetime:
    with app.app_context():
        value = db.session.scalar(sa.text("SELECT max(occurred_at) FROM entry"))
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=value.tzinfo or timezone.utc).astimezone(timezone.utc)


def main() -> None:
    url, dialect = database()
    app = generated.make_app(url)
    have = generated.existing_entries(app)
    if generated.REUSE and have == generated.N_ENTRIES:
        print(f"Reusing {have:,} entries in {url.split('@')[-1]}", flush=True)
    else:
        print(f"Generating {generated.N_ENTRIES:,} entries into {url.split('@')[-1]} ...", flush=True)
        app = generate(url, dialect)
    add_dashboard_extras(app, dialect)
    if os.environ.get("BENCH_GENERATE_ONLY") == "1":
        return
    measure(app, dialect, newest(app))


def percentile(values: list[float], p: float) -> float:
    return generated.percentile(values, p)


def measure(app, dialect: str, now: datetime) -> None:
    """GET /dashboard through the test client, signed in, with the app's clock set to `now`."""
    import random
    import statistics
    from unittest import mock

    from pcso import create_app
    from pcso.models import Role, User

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" + "x" * 40, "TESTING": True,
                      "RATELIMIT_ENABLED": False, "TOTP_REQUIRED_ROLES": (), "WTF_CSRF_ENABLED": False})
    with app.app_context():
        supervisor = db.session.scalar(sa.select(User).where(User.role == Role.SUPERVISOR).order_by(User.id))
        pcso = db.session.scalar(sa.select(User).where(User.role == Role.PCSO).order_by(User.id))
        who = {"supervisor": (supervisor.collar_number, None),
               "pcso": (pcso.collar_number, sorted(pcso.beat_ids)[0])}
        beats = db.session.execute(sa.text("SELECT id FROM beat ORDER BY id")).scalars().all()
        db.session.remove()
    rng = random.Random(28)
    shapes = [
        ("one beat, 28 days", "supervisor", lambda: f"/dashboard?beat={rng.choice(beats)}&period=28"),
        ("all beats, 28 days", "supervisor", lambda: "/dashboard?period=28"),
        ("one beat, 90 days", "supervisor", lambda: f"/dashboard?beat={rng.choice(beats)}&period=90"),
        ("all beats, 90 days", "supervisor", lambda: "/dashboard?period=90"),
        ("a PCSO's beat, 28 days", "pcso", lambda: f"/dashboard?beat={who['pcso'][1]}&period=28"),
    ]
    print(f"\nNow is {now:%Y-%m-%d %H:%M} UTC (the newest entry). {RUNS} runs of each, after {WARM} to warm up.\n",
          flush=True)
    results = []
    with mock.patch("pcso.dashboard.views.utcnow", return_value=now):
        clients = {}
        for role, (collar, _) in who.items():
            client = app.test_client()
            response = client.post("/login", data={"collar_number": collar, "password": "bench-password-not-used"})
            assert response.status_code == 302, f"{role} could not sign in"
            clients[role] = client
        for label, role, make_url in shapes:
            times, sizes, cpus = [], [], []
            for run in range(RUNS + WARM):
                target = make_url()
                cpu = cpu_seconds(app)
                started = time.perf_counter()
                response = clients[role].get(target)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, (target, response.status_code)
                if run >= WARM:
                    times.append(elapsed)
                    cpus.append((cpu_seconds(app) - cpu) * 1000)
                    sizes.append(len(response.data))
            results.append((label, times, statistics.mean(sizes), cpus))
            print(f"  {label}: p50 {percentile(times, 50):.0f} ms", flush=True)
    print(f"\n{dialect}, {generated.N_ENTRIES:,} entries, {RUNS} runs each: server time of GET /dashboard (ms)\n")
    print("CPU: this process and the database's server processes (PostgreSQL backends), per request: what the")
    print("request costs whatever else the machine runs (10 ms ticks for the backends).\n")
    print("| dashboard | p50 | p95 | max | CPU p50 | CPU p95 | page size |")
    print("|---|---|---|---|---|---|---|")
    for label, times, size, cpus in results:
        print(f"| {label} | {percentile(times, 50):.0f} | {percentile(times, 95):.0f} | {max(times):.0f} | "
              f"{percentile(cpus, 50):.0f} | {percentile(cpus, 95):.0f} | {size / 1024:.0f} KB |")
    if os.environ.get("BENCH_BREAKDOWN", "1") != "0":
        breakdown(app, now)


_BACKENDS: list[int] = []


def cpu_seconds(app) -> float:
    """CPU time so far of this process and of the PostgreSQL backends serving this database (from /proc)."""
    total = time.process_time()
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        if not _BACKENDS:
            with app.app_context():
                _BACKENDS.extend(db.session.scalars(sa.text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")))
                db.session.remove()
        ticks = os.sysconf("SC_CLK_TCK")
        for pid in _BACKENDS:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def breakdown(app, now: datetime) -> None:
    """Each figure's query alone, as the supervisor, one beat and all beats, 28 days (ms, median of 5)."""
    import statistics

    from pcso.dashboard import counts, hotspots, victims, welfare
    from pcso.dashboard.scope import Scope
    from pcso.models import Role, User
    from pcso.timeutil import to_london

    today = to_london(now).date()
    with app.test_request_context():
        user = db.session.scalar(sa.select(User).where(User.role == Role.SUPERVISOR).order_by(User.id))
        beat = db.session.scalar(sa.text("SELECT min(id) FROM beat"))
        print("\n| figure | one beat | all beats |\n|---|---|---|")
        for label, fn in (
            ("entries by kind", lambda s: counts.entries_by_kind(user, s)),
            ("ASB by category and type", lambda s: counts.asb_breakdown(user, s)),
            ("patrol hours", lambda s: counts.patrol_hours(user, s)),
            ("hotspots 7 + 28 days", lambda s: [hotspots.hotspots(user, s.beat_ids, now=s.now, days=d) for d in (7, 28)]),
            ("welfare due (25 listed, as the page)", lambda s: welfare.welfare_due(user, s.beat_ids, today=today, limit=25)),
            ("victims (3 figures)", lambda s: victims.victim_figures(user, s)),
            ("review backlog", lambda s: counts.review_backlog(user, s)),
            ("street crime layer", lambda s: hotspots.street_crime_map(s.beat_ids, s)),
        ):
            cells = []
            for beats in (frozenset({beat}), None):
                scope = Scope(beats, today - timedelta(days=27), today, today, now)
                times = []
                for _ in range(6):
                    started = time.perf_counter()
                    fn(scope)
                    times.append((time.perf_counter() - started) * 1000)
                    db.session.rollback()
                cells.append(f"{statistics.median(times[1:]):.0f}")
            print(f"| {label} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
