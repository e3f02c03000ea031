"""`flask import police-uk`: how long the real file and a synthetic 100,000-row file take.

A scratch database migrated by the app's own migrations gets the two test beats over part of the City
of London (tests/data/city_of_london_beats.geojson), then the command runs in process (the CLI runner,
check pass and progress bar included) on:

- the real file (tests/data/2025-10-city-of-london-street.csv, 781 rows);
- BENCH_ROWS (default 100,000) rows drawn from the real file, so its snap points, blanks and ASB rows
  recur: new Crime IDs, identical ASB rows (keyed by occurrence), ~9 % without coordinates;
- the same synthetic file again (every row already present).

    .venv/bin/python bench/police_uk_import.py                                # SQLite in a temp dir
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/puk_bench .venv/bin/python bench/police_uk_import.py

The PostgreSQL database is emptied first (DROP SCHEMA public CASCADE).
"""
from __future__ import annotations

import csv
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pcso import create_app  # noqa: E402
from pcso.config import normalise_database_url  # noqa: E402
from pcso.extensions import db  # noqa: E402
from pcso.models import StreetCrime  # noqa: E402

REAL = ROOT / "tests" / "data" / "2025-10-city-of-london-street.csv"
BEATS = ROOT / "tests" / "data" / "city_of_london_beats.geojson"
ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
PG_URL = os.environ.get("BENCH_DATABASE_URL")


def synthetic(path: Path, rows: int) -> None:
    rng = random.Random(2025)
    with open(REAL, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        source = list(reader)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for _ in range(rows):
            row = list(rng.choice(source))
            if row[0]:
                row[0] = f"{rng.getrandbits(256):064x}"
            writer.writerow(row)


def timed(app, path: Path) -> tuple[float, str]:
    started = time.perf_counter()
    result = app.test_cli_runner().invoke(args=["import", "police-uk", str(path)])
    elapsed = time.perf_counter() - started
    if result.exit_code != 0:
        raise SystemExit(result.output)
    summary = re.search(r"\d+ rows read: .*", result.stdout).group(0)
    return elapsed, summary


def main() -> None:
    from flask_migrate import upgrade

    tmp = Path(tempfile.mkdtemp(prefix="puk_bench_"))
    if PG_URL:
        url = normalise_database_url(PG_URL)
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp / 'bench.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" + "x" * 40, "TESTING": True})
    big = tmp / f"synthetic-{ROWS}.csv"
    synthetic(big, ROWS)
    with app.app_context():
        upgrade()
        result = app.test_cli_runner().invoke(args=["beats", "import", str(BEATS)])
        assert result.exit_code == 0, result.output
        print(f"database: {db.engine.dialect.name}; beats: 2 test beats over part of the City of London")
        for label, path in (("real file (781 rows)", REAL), (f"synthetic {ROWS:,} rows", big),
                            (f"synthetic {ROWS:,} rows again", big)):
            elapsed, summary = timed(app, path)
            rate = sum(1 for _ in open(path, encoding="utf-8")) / elapsed
            print(f"{label:<32} {elapsed:7.2f} s  ({rate:,.0f} rows/s)  {summary}")
        print(f"stored: {db.session.scalar(sa.select(sa.func.count(StreetCrime.id))):,} rows")


if __name__ == "__main__":
    main()
