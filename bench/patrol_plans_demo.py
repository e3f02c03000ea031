"""Patrol suggestions on the demo seed: does each beat's first suggestion fall at one of the seed's hotspots?

    flask --app app seed-demo            # the default seed (2026) and 60 days
    .venv/bin/python bench/patrol_plans_demo.py [--seed 2026]

pcso/seed/builder.py picks three postcode points per beat as hotspots (35% of located entries go there). This
re-draws them with the same seed (BuilderBase only reads) and measures each suggestion's distance to the nearest;
a hit is within the suggestion's radius + 100 m. Prints every suggestion of the two demo PCSOs and the hit rate.
"""
import argparse
import math
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from pcso import create_app  # noqa: E402
from pcso.extensions import db  # noqa: E402
from pcso.models import User  # noqa: E402
from pcso.patrol_plans.method import to_metres  # noqa: E402
from pcso.patrol_plans.services import suggest_patrols  # noqa: E402
from pcso.seed.builder import BuilderBase  # noqa: E402
from pcso.seed.summary import SeedSummary  # noqa: E402
from pcso.timeutil import utcnow  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        users = {u.collar_number: u for u in db.session.scalars(sa.select(User))}
        b = BuilderBase(random.Random(args.seed), utcnow(), 60, users, SeedSummary())
        now = utcnow()
        hits = total = any_hits = any_total = 0
        for collar in ("PC1001", "PC1002"):
            u = users[collar]
            for s in suggest_patrols(u, set(u.beat_ids), now=now):
                d = min(math.dist(to_metres(s.lat, s.lon), to_metres(p.lat, p.lon)) for p in b.hotspots[s.beat_id])
                hit = d <= s.radius_m + 100
                if s.rank == 1:
                    total += 1
                    hits += hit
                any_total += 1
                any_hits += hit
                print(collar, s.beat_id, s.rank, f"{d:.0f} m", "HIT" if hit else "-", s.reason)
        print(f"first suggestion at a seeded hotspot: {hits}/{total} beats with one; all suggestions: {any_hits}/{any_total}")


if __name__ == "__main__":
    main()
