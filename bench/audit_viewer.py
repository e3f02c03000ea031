"""The audit viewer's queries over a large log: by record (all time, this month), by officer, by action, the
audit home's recent sensitive records and the unusual-access report (7 days).

Fills a scratch database with N synthetic view events (a third of them list events naming 25 entries in
details.ids) spread 30 s apart, then times each query once warm.

    .venv/bin/python bench/audit_viewer.py                                   # SQLite in a temp dir, N=300000
    N=1000000 BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python bench/audit_viewer.py

BENCH_DATABASE_URL's database is emptied (its public schema dropped). Figures: docs/PERFORMANCE.md.
"""
from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade
from werkzeug.datastructures import MultiDict

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pcso.audit_viewer.queries import AuditQuery, event_page, recent_sensitive_records  # noqa: E402
from pcso.audit_viewer.unusual import unusual_access  # noqa: E402
from pcso.config import normalise_database_url  # noqa: E402
from pcso.extensions import db  # noqa: E402
from pcso.models import AuditEvent, Role, User  # noqa: E402
from pcso.timeutil import london_today, utcnow  # noqa: E402
from tests.conftest import make_app, reset_postgres  # noqa: E402

N = int(os.environ.get("N", "300000"))


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        url = normalise_database_url(url)
        reset_postgres(url)
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-audit-')) / 'bench.sqlite'}"
    app = make_app(url)
    with app.app_context():
        upgrade()
        fill()
        with app.test_request_context():
            timings()


def fill() -> None:
    users = [User(collar_number=f"PC{i:04d}", display_name=f"Officer {i}", role=Role.PCSO, password_hash="-")
             for i in range(50)]
    db.session.add_all(users)
    db.session.commit()
    rng, now, rows = random.Random(1), utcnow(), []
    for n in range(N):
        listing = n % 3 == 0
        rows.append({"at": now - timedelta(seconds=(N - n) * 30), "actor_id": rng.choice(users).id, "action": "view",
                     "object_type": "entry", "object_id": None if listing else rng.randint(1, 50_000),
                     "details": {"ids": rng.sample(range(1, 50_000), 25), "count": 25, "context": "lists.entries"}
                     if listing else {"kind": "asb_incident"}})
        if len(rows) == 20_000:
            db.session.execute(sa.insert(AuditEvent), rows)
            rows = []
    if rows:
        db.session.execute(sa.insert(AuditEvent), rows)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE audit_event"))
        db.session.commit()


def timed(label: str, work) -> None:
    work()  # warm
    start = time.perf_counter()
    result = work()
    print(f"{label:32s} {(time.perf_counter() - start) * 1000:9.1f} ms  {result}")


def timings() -> None:
    month = london_today().replace(day=1).isoformat()
    print(f"{db.engine.dialect.name}, {N:,} events")
    for label, args, default_month in [("by record, all time", {"id": "1234"}, False),
                                       ("by record, this month", {"id": "1234", "from": month}, False),
                                       ("by officer, this month", {"collar": "PC0007"}, True),
                                       ("by action, this month", {"action": "view"}, True)]:
        query = AuditQuery.from_args(MultiDict(args), default_month=default_month)
        timed(label, lambda q=query: f"{len(event_page(q).rows)} rows")
    timed("recent sensitive records", lambda: f"{len(recent_sensitive_records())} records")
    timed("unusual access, 7 days", lambda: f"{unusual_access(london_today() - timedelta(days=7), london_today()).total}"
          " findings")


if __name__ == "__main__":
    main()
