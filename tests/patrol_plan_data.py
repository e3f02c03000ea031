"""Generated records with planted hotspots, for the suggestion tests and bench/patrol_plans.py.

Background: ASB reports spread evenly over a 3 km square, at any hour of the 28 days, of any NSIR category.
Planted: reports within ~60 m of a point, on Fridays and Saturdays 20:00-23:00 (London). Seeded: the same
seed gives the same records.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from pcso.models import NsirCategory
from pcso.patrol_plans.method import DEFAULT, PlanParams, asb_record
from pcso.timeutil import from_london, to_london

CENTRE = (53.4450, -2.3100)  # Stretford-ish
PLANTED = (53.4485, -2.3050)
DEG_PER_M_LAT = 1 / 110_574
DEG_PER_M_LON = 1 / 66_350  # at 53.4 N


def _near(point, metres, rng):
    return (point[0] + rng.uniform(-metres, metres) * DEG_PER_M_LAT,
            point[1] + rng.uniform(-metres, metres) * DEG_PER_M_LON)


def _evening(now: datetime, weeks_back: int, weekday: int, hour: int, minute: int) -> datetime:
    """A London evening `weeks_back` weeks before now's week, on ISO `weekday` at hour:minute."""
    local = to_london(now).replace(tzinfo=None)
    day = local.date() - timedelta(days=local.isoweekday() - weekday) - timedelta(weeks=weeks_back)
    return from_london(datetime(day.year, day.month, day.day, hour, minute))


def generated(now: datetime, *, seed: int = 7, background: int = 300, planted: int = 8, beat_id: int = 1,
              planted_at=PLANTED, params: PlanParams = DEFAULT) -> list:
    rng = random.Random(seed)
    records = []
    for n in range(background):
        lat, lon = _near(CENTRE, 1500, rng)
        at = now - timedelta(seconds=rng.uniform(0, params.days * 86400))
        records.append(asb_record(n + 1, beat_id, lat, lon, at, rng.choice(list(NsirCategory)), now=now, params=params))
    for n in range(planted):
        lat, lon = _near(planted_at, 60, rng)
        at = _evening(now, 1 + n % 3, 5 + n % 2, rng.choice((20, 21, 22)), rng.randrange(60))
        records.append(asb_record(100_000 + n, beat_id, lat, lon, at, NsirCategory.NUISANCE, now=now, params=params))
    return records
