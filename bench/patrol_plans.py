"""Patrol suggestions on generated data with a planted hotspot: where the planted place ranks, and how long it takes.

    .venv/bin/python bench/patrol_plans.py [--background 300 3000 20000] [--seeds 20]

Pure maths (pcso/patrol_plans/services.py plan_places) on tests/patrol_plan_data.py's records: no database.
Prints, per size, how often the planted hotspot ranks first over the seeds and the median time.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pcso.patrol_plans.method import plan_places, to_metres  # noqa: E402
from tests.patrol_plan_data import PLANTED, generated  # noqa: E402

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--background", type=int, nargs="+", default=[300, 3000, 20000])
    parser.add_argument("--planted-share", type=float, default=0.03,
                        help="planted reports as a share of the background (at least 8)")
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    px, py = to_metres(*PLANTED)
    for size in args.background:
        firsts, times, windows = 0, [], 0
        planted = max(8, round(size * args.planted_share))
        for seed in range(args.seeds):
            records = generated(NOW, seed=seed, background=size, planted=planted)
            start = time.perf_counter()
            suggestions = plan_places(records, now=NOW)
            times.append(time.perf_counter() - start)
            top = suggestions[0]
            if math.dist(to_metres(top.lat, top.lon), (px, py)) < 250:
                firsts += 1
                windows += top.days == (5, 6) and top.hour_from in (19, 20, 21)
        print(f"background {size:>6} + planted {planted:>4}: planted first {firsts}/{args.seeds}, "
              f"its window Fri-Sat evening {windows}/{firsts or 1}, median {statistics.median(times) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
