"""Sealing and verifying the tamper-evident audit log at N events (pcso/auditlog/).

Makes a scratch database (SQLite in a temp dir, or the PostgreSQL database named in BENCH_DATABASE_URL, whose public
schema is DROPPED first: give it a database of its own), migrates it, writes BENCH_EVENTS audit events (default
100,000) shaped like the app's (views naming up to 50 records, searches with terms, updates with field names), then
times: the first seal of all of them, verify, a seal of 1,000 events more on top (the cron case), and verify again.
Keys go in a temp folder. Prints events per second for each.

    .venv/bin/python bench/audit_seal.py
    BENCH_EVENTS=1000000 .venv/bin/python bench/audit_seal.py
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bb_bench_audit .venv/bin/python bench/audit_seal.py
"""
from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from pcso import create_app  # noqa: E402
from pcso.auditlog import keys  # noqa: E402
from pcso.auditlog.events import EVENTS  # noqa: E402
from pcso.auditlog.sealing import seal  # noqa: E402
from pcso.auditlog.verify import verify  # noqa: E402
from pcso.config import normalise_database_url  # noqa: E402
from pcso.extensions import db  # noqa: E402
from pcso.timeutil import utcnow  # noqa: E402

N = int(os.environ.get("BENCH_EVENTS", "100000"))
MORE = 1000
WRITE_BATCH = 5000


def scratch_url(folder: Path) -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        return f"sqlite:///{folder / 'audit_bench.sqlite'}"
    url = normalise_database_url(url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    return url


def fake_events(count: int, start: int, rng: random.Random) -> list[dict]:
    base = utcnow() - timedelta(days=30)
    rows = []
    for n in range(start, start + count):
        kind = rng.random()
        if kind < 0.7:
            action, details = "view", {"shown": sorted(rng.sample(range(1, 1_000_000), rng.randint(1, 50))),
                                       "page": "lists.entries"}
        elif kind < 0.85:
            action, details = "search", {"terms": f"blue corsa {n % 97}", "filters": {"beat": "E05015247"},
                                         "count": rng.randint(0, 200)}
        else:
            action, details = "update", {"fields": ["summary", "occurred_at"], "revision": rng.randint(1, 9)}
        rows.append({"at": base + timedelta(seconds=n * 2), "actor_id": None, "action": action,
                     "object_type": "entry", "object_id": rng.randint(1, 1_000_000), "details": details})
    return rows


def write(count: int, start: int, rng: random.Random) -> None:
    for offset in range(0, count, WRITE_BATCH):
        with db.engine.begin() as conn:
            conn.execute(EVENTS.insert(), fake_events(min(WRITE_BATCH, count - offset), start + offset, rng))


def timed(label: str, count: int, work):
    """Wall time and this process's CPU time (the machine is shared: CPU time is the steadier of the two; the
    database's own work, in the PostgreSQL server, is in the wall time only)."""
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"{label:<34} {count:>9,} events {elapsed:7.2f} s wall {count / elapsed:>9,.0f}/s   {cpu:7.2f} s CPU "
          f"{count / cpu:>9,.0f}/s", flush=True)
    return result


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="beatbook-audit-bench-"))
    url = scratch_url(folder)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" + "x" * 40, "TESTING": True,
                      "AUDIT_SIGNING_KEY_DIR": str(folder / "keys"), "AUDIT_SEAL_LAG_SECONDS": 0})
    rng = random.Random(62)
    with app.app_context():
        upgrade()
        keys.make_key(folder / "keys", stamp="20261203T000000000000Z")
        print(f"{db.engine.dialect.name}: {N:,} audit events; load average {os.getloadavg()[0]:.1f} on "
              f"{os.cpu_count()} cores", flush=True)
        timed("write (bench setup, not sealing)", N, lambda: write(N, 0, rng))
        first = timed("seal (first, from nothing)", N, seal)
        report = timed("verify", N, verify)
        assert report.clean and report.tree_size == N, report.findings[:5]
        write(MORE, N, rng)
        more = timed(f"seal ({MORE:,} more on top)", MORE, seal)
        report = timed("verify (again)", N + MORE, verify)
        assert report.clean and report.tree_size == N + MORE
        print(f"checkpoints: {len(first.checkpoints)} + {len(more.checkpoints)}; "
              f"root {report.checkpoints[-1].root_hash.hex()}; load average {os.getloadavg()[0]:.1f}")
        db.engine.dispose()


if __name__ == "__main__":
    main()
