"""Associates networks at a million entries: build_network() and GET /networks/people/<id>.json timed.

Reuses bench/search_1m.py's generator and loader (1,000,000 entries over three years on the 21 Trafford beats,
with people, vehicles and links; it makes no Location records), in a database of its own. Then, through the
app's own code in process, it times for three kinds of root record (a hub: the most-linked people; a typical
person with a few links; a vehicle) BENCH_RUNS networks each, as an analyst (every non-welfare entry) and as a
PCSO (their beats only), and the JSON endpoint through the test client (routing, access, the audit event and
its commit). It prints p50/p95 and how big the networks were.

    .venv/bin/python bench/network_1m.py                       # SQLite, /tmp/beatbook_network_1m.sqlite
    psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE beatbook_net1m'
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/beatbook_net1m .venv/bin/python bench/network_1m.py

BENCH_REUSE=1 keeps a database already generated with the same size; BENCH_ENTRIES and BENCH_RUNS as in
search_1m.py; BENCH_SQLITE_PATH to measure another bench's SQLite file (e.g. the search bench's).
"""
from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
os.environ.setdefault("BENCH_SQLITE_PATH", str(Path(tempfile.gettempdir()) / "beatbook_network_1m.sqlite"))
sys.path.insert(0, str(HERE))

import search_1m as generated  # noqa: E402  (puts the project root on sys.path too)
import sqlalchemy as sa  # noqa: E402

from pcso import create_app  # noqa: E402
from pcso.access import visible_entries  # noqa: E402
from pcso.extensions import db  # noqa: E402
from pcso.models import Entry, Link, Person, Role, User, Vehicle  # noqa: E402
from pcso.pole.network import NetworkFilter, build_network  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "30"))
WARM = 2


def samples(rng: random.Random, viewer: User) -> dict[str, list]:
    """Root records the viewer may see (linked to an entry visible to them, as access.can_view_record asks):
    the 30 most-linked people, 30 people with 3-6 links, 30 vehicles with 2+ links. Counted over the viewer's
    visible links in one query per kind."""
    def counted(column):
        return (sa.select(column.label("record_id"), sa.func.count().label("n"))
                .join(Entry, Entry.id == Link.entry_id).where(column.is_not(None), visible_entries(viewer))
                .group_by(column).subquery())

    people, cars = counted(Link.person_id), counted(Link.vehicle_id)
    hubs = db.session.scalars(sa.select(people.c.record_id).order_by(people.c.n.desc()).limit(30)).all()
    typical = db.session.scalars(sa.select(people.c.record_id).where(people.c.n.between(3, 6)).limit(5000)).all()
    vehicles = db.session.scalars(sa.select(cars.c.record_id).where(cars.c.n >= 2).limit(5000)).all()
    return {"hub person (most linked)": [(Person, i) for i in hubs],
            "typical person (3-6 links)": [(Person, i) for i in rng.sample(typical, min(30, len(typical)))],
            "vehicle (2+ links)": [(Vehicle, i) for i in rng.sample(vehicles, min(30, len(vehicles)))]}


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def measure(url: str, dialect: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" + "x" * 40, "TESTING": True,
                      "RATELIMIT_ENABLED": False, "TOTP_REQUIRED_ROLES": (), "WTF_CSRF_ENABLED": False})
    rng = random.Random(12)
    rows = []
    with app.test_request_context():
        analyst = db.session.scalar(sa.select(User).where(User.role == Role.ANALYST).order_by(User.id))
        pcso = db.session.scalar(sa.select(User).where(User.role == Role.PCSO).order_by(User.id))
        collar = analyst.collar_number
        by_viewer = {viewer.id: samples(rng, viewer) for viewer in (analyst, pcso)}
        roots = by_viewer[analyst.id]
        for label in roots:
            for viewer in (analyst, pcso):
                records = by_viewer[viewer.id][label]
                times, nodes, edges, capped = [], [], [], 0
                for run, (model, record_id) in enumerate((records * ((RUNS + WARM) // len(records) + 1))[:RUNS + WARM]):
                    record = db.session.get(model, record_id)
                    found = []
                    elapsed = timed(lambda: found.append(build_network(viewer, record, NetworkFilter())))
                    db.session.rollback()
                    if run >= WARM:
                        times.append(elapsed)
                        nodes.append(len(found[0].nodes))
                        edges.append(len(found[0].edges))
                        capped += found[0].is_capped
                rows.append((label, viewer.role.value, "build_network()", times, nodes, edges, capped))
                print(f"  {label}, {viewer.role.value}: p50 {generated.percentile(times, 50):.0f} ms", flush=True)
        db.session.remove()
    client = app.test_client()
    response = client.post("/login", data={"collar_number": collar,
                                           "password": "bench-password-not-used"})
    assert response.status_code == 302, "the analyst could not sign in"
    for label in ("hub person (most linked)", "typical person (3-6 links)"):
        times = []
        for run in range(RUNS + WARM):
            _, record_id = roots[label][run % len(roots[label])]
            started = time.perf_counter()
            answer = client.get(f"/networks/people/{record_id}.json")
            elapsed = (time.perf_counter() - started) * 1000
            assert answer.status_code == 200, answer.status_code
            if run >= WARM:
                times.append(elapsed)
        rows.append((label, "analyst", "GET .../network.json", times, [], [], 0))
        print(f"  JSON {label}: p50 {generated.percentile(times, 50):.0f} ms", flush=True)
    print(f"\n{dialect}, {generated.N_ENTRIES:,} entries, {RUNS} runs each (ms)\n")
    print("| root | viewer | what | p50 | p95 | max | nodes (median) | edges (median) | capped |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, role, what, times, nodes, edges, capped in rows:
        size = (f"{statistics.median(nodes):.0f} | {statistics.median(edges):.0f} | {capped}/{len(times)}"
                if nodes else "| |")
        print(f"| {label} | {role} | {what} | {generated.percentile(times, 50):.0f} | "
              f"{generated.percentile(times, 95):.0f} | {max(times):.0f} | {size} |")


def main() -> None:
    url, dialect = generated.database()
    app = generated.make_app(url)
    have = generated.existing_entries(app)
    if generated.REUSE and have == generated.N_ENTRIES:
        print(f"Reusing {have:,} entries in {url.split('@')[-1]}", flush=True)
    else:
        print(f"Generating {generated.N_ENTRIES:,} entries into {url.split('@')[-1]} ...", flush=True)
        generated.generate(url, dialect)
    if os.environ.get("BENCH_GENERATE_ONLY") == "1":
        return
    measure(url, dialect)


if __name__ == "__main__":
    main()
