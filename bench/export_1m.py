"""Exports at a million entries: stream CSV and GeoJSON of every entry through the app and watch memory.

Uses bench/search_1m.py's generator and loader (same data, same environment variables): BENCH_REUSE=1
reuses a database already generated with BENCH_ENTRIES entries, else it generates one (minutes; the
PostgreSQL database named in BENCH_DATABASE_URL is emptied first). Others may be measuring on the
shared bench databases: when you must generate, give your own BENCH_SQLITE_PATH or database name.

Then, signed in as a bench supervisor (who sees every submitted entry) through Flask's test client, it
POSTs the export form with no filters and reads the streamed body chunk by chunk, as a browser would,
noting at 10k, 100k and 1M rows: the process's resident memory (VmRSS, and its peak VmHWM) and the
rows per second so far. With BENCH_TRACEMALLOC=1 it runs the CSV once more under tracemalloc and
reports the peak of Python allocations at the same points (slower: tracemalloc costs 2-3x).

    BENCH_SQLITE_PATH=/tmp/beatbook_export_1m.sqlite .venv/bin/python bench/export_1m.py
    BENCH_REUSE=1 BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/beatbook_export1m .venv/bin/python bench/export_1m.py
"""
from __future__ import annotations

import gc
import os
import sys
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import search_1m  # noqa: E402  (reads the BENCH_* environment at import)
import sqlalchemy as sa  # noqa: E402

from pcso import create_app  # noqa: E402
from pcso.config import normalise_database_url  # noqa: E402
from pcso.extensions import db  # noqa: E402
from pcso.models import AuditAction, AuditEvent, Beat  # noqa: E402

CHECKPOINTS = (10_000, 100_000, 500_000)  # and at the end (the million less drafts)
TRACE = os.environ.get("BENCH_TRACEMALLOC") == "1"


def status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def rss_mb() -> float:
    return status_kb("VmRSS") / 1024


def hwm_mb() -> float:
    return status_kb("VmHWM") / 1024


def bench_app(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" + "x" * 40, "TESTING": True,
                       "RATELIMIT_ENABLED": False, "TOTP_REQUIRED_ROLES": (), "WTF_CSRF_ENABLED": False})


def ensure_data(url: str, dialect: str) -> None:
    app = search_1m.make_app(url)
    have = search_1m.existing_entries(app)
    if search_1m.REUSE and have == search_1m.N_ENTRIES:
        print(f"Reusing {have:,} entries in {url.split('@')[-1]}")
        return
    print(f"Generating {search_1m.N_ENTRIES:,} entries into {url.split('@')[-1]} (search_1m's generator) ...",
          flush=True)
    search_1m.generate(url, dialect)


def run_export(app, fmt: str, *, trace: bool = False) -> list[str]:
    client = app.test_client()
    response = client.post("/login", data={"collar_number": "SB000", "password": "bench-password-not-used"})
    assert response.status_code == 302, "bench supervisor SB000 could not sign in"
    gc.collect()
    if trace:
        tracemalloc.start()
    base_rss = rss_mb()
    started = time.perf_counter()
    response = client.post("/lists/entries/export", buffered=False,
                           data={"format": fmt, "purpose": "Benchmark of streaming exports at scale",
                                 "recipient": "The bench script itself"})
    assert response.status_code == 200, response.status_code
    first_byte = time.perf_counter() - started
    lines: list[str] = []
    rows, size, next_mark = 0, 0, 0
    header_lines = 10 if fmt == "csv" else 1  # metadata and header rows, or the opening line
    for chunk in response.response:
        size += len(chunk)
        rows += chunk.count(b"\n")
        while next_mark < len(CHECKPOINTS) and rows - header_lines >= CHECKPOINTS[next_mark]:
            elapsed = time.perf_counter() - started
            done = CHECKPOINTS[next_mark]
            traced = f"  tracemalloc peak {tracemalloc.get_traced_memory()[1] / 2**20:6.1f} MB" if trace else ""
            lines.append(f"  {fmt:8} {done:>9,} rows  {elapsed:6.1f} s  {done / elapsed:>8,.0f} rows/s  "
                         f"RSS {rss_mb():6.1f} MB (+{rss_mb() - base_rss:5.1f})  peak {hwm_mb():6.1f} MB{traced}")
            print(lines[-1], flush=True)
            next_mark += 1
    end_rss = rss_mb()
    peak_traced = tracemalloc.get_traced_memory()[1] if trace else 0
    response.close()
    total = time.perf_counter() - started
    with app.app_context():
        data_rows = db.session.scalar(sa.select(AuditEvent.details).where(AuditEvent.action == AuditAction.DISCLOSE)
                                      .order_by(AuditEvent.id.desc()).limit(1))["count"]
    if trace:
        tracemalloc.stop()
    traced = f"  tracemalloc peak {peak_traced / 2**20:6.1f} MB" if trace else ""
    lines.append(f"  {fmt:8} {data_rows:>9,} rows  {total:6.1f} s  {data_rows / total:>8,.0f} rows/s  "
                 f"RSS {end_rss:6.1f} MB (+{end_rss - base_rss:5.1f})  peak {hwm_mb():6.1f} MB{traced}  (all; "
                 f"{size / 1e6:,.0f} MB, first byte after {first_byte * 1000:.0f} ms: count, marking, audit commit)")
    print(lines[-1], flush=True)
    return lines


def time_lists(app) -> None:
    """The list page itself (count + first page) at this size, as the same supervisor: median of 5."""
    client = app.test_client()
    client.post("/login", data={"collar_number": "SB000", "password": "bench-password-not-used"})
    with app.app_context():
        beat_id = db.session.scalar(sa.select(Beat.id).order_by(Beat.id).limit(1))
    for label, query in (("no filters", ""), ("ASB, one beat, one month", f"kind=asb-incidents&beat={beat_id}"
                                                                          "&from=2025-06-01&to=2025-06-30"),
                         ("high risk, any kind", "risk=high")):
        times = []
        for _ in range(5):
            started = time.perf_counter()
            response = client.get(f"/lists/entries?{query}")
            assert response.status_code == 200, response.status_code
            times.append(time.perf_counter() - started)
        times.sort()
        print(f"  list page, {label:28} median {times[2] * 1000:7.0f} ms", flush=True)


def main() -> None:
    if search_1m.PG_URL:
        url, dialect = normalise_database_url(search_1m.PG_URL), "postgresql"
    else:
        url, dialect = f"sqlite:///{search_1m.SQLITE_PATH}", "sqlite"
    ensure_data(url, dialect)
    app = bench_app(url)
    print(f"Exports on {dialect}, {search_1m.N_ENTRIES:,} entries; process RSS before: {rss_mb():.1f} MB")
    time_lists(app)  # each request pushes its own contexts, as under a server
    for fmt in ("csv", "geojson"):
        run_export(app, fmt)
    if TRACE:
        print("Under tracemalloc (slower):")
        run_export(app, "csv", trace=True)


if __name__ == "__main__":
    main()
