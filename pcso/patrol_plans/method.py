"""The method of patrol suggestions, without the database: weights, the grid, the time window, the reason.

pcso/patrol_plans/services.py reads the records (what the viewer may see) and keeps what was shown; this module
turns weighted records into suggestions. Pure and deterministic: tests and bench/patrol_plans.py feed it fixed
or generated records. The method is written up in docs/PATROL_SUGGESTIONS.md.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from ..models import IntelAssessment, NsirCategory, PatrolSuggestion, SourceEvaluation
from ..timeutil import from_london, to_london

ASB_HARM = {NsirCategory.PERSONAL: 3.0, NsirCategory.NUISANCE: 2.0, NsirCategory.ENVIRONMENTAL: 1.0}
INTEL_BASE = 2.0
SOURCE_FACTOR = {SourceEvaluation.RELIABLE: 1.0, SourceEvaluation.UNTESTED: 0.6, SourceEvaluation.NOT_RELIABLE: 0.3}
ASSESSMENT_FACTOR = {IntelAssessment.KNOWN_DIRECTLY: 1.0, IntelAssessment.CORROBORATED: 0.8,
                     IntelAssessment.KNOWN_INDIRECTLY: 0.6, IntelAssessment.NOT_KNOWN: 0.4,
                     IntelAssessment.SUSPECTED_FALSE: 0.0}
# data.police.uk crime types (their own spelling); anything else weighs 1.
CRIME_HARM = {
    "Violence and sexual offences": 3.0, "Robbery": 3.0, "Possession of weapons": 3.0, "Burglary": 2.5,
    "Criminal damage and arson": 2.0, "Drugs": 2.0, "Public order": 2.0, "Theft from the person": 2.0,
    "Vehicle crime": 2.0, "Anti-social behaviour": 1.5, "Bicycle theft": 1.0, "Shoplifting": 1.0,
    "Other theft": 1.0, "Other crime": 1.0,
}
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# The fixed projection of the grid (Trafford): metres east and north of this point.
LAT0, LON0 = 53.42, -2.33
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LAT0))
ENTRY_IDS_KEPT = 100  # the ids a stored suggestion keeps of what it was worked out from


@dataclass(frozen=True)
class PlanParams:
    days: int = 28  # how far back records count
    half_life_days: float = 7.0  # a record this old counts half
    cell_m: float = 150.0  # grid square side; a place is a 3x3 block (450 m across)
    window_hours: int = 3
    limit: int = 5  # suggestions per beat
    min_reports: int = 2  # own records (ASB + intelligence) a place needs
    street_crime_factor: float = 0.25  # a street crime weighs this much of an ASB report of equal harm
    street_crime_months: int = 3  # data.police.uk months read (the files lag by about two months)
    max_rows: int = 5000  # records read per source (most recent first): the bound on the work

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


DEFAULT = PlanParams()


@dataclass(frozen=True)
class Record:
    source: str  # "asb", "intel" or "crime"
    id: int
    beat_id: int
    lat: float
    lon: float
    weight: float
    at: datetime | None = None  # None for street crime (a month, no time)
    label: str = ""  # street crime: its month, "Oct 2026"


@dataclass
class Suggestion:
    key: str
    beat_id: int
    rank: int
    score: float
    lat: float
    lon: float
    radius_m: float
    postcode: str | None
    days: tuple[int, ...]  # ISO weekdays
    hour_from: int
    hours: int
    reason: str
    counts: dict
    entry_ids: list[int]
    next_start: datetime
    is_now: bool
    record: PatrolSuggestion | None = field(default=None, repr=False)

    @property
    def id(self) -> int | None:
        return self.record.id if self.record is not None else None

    @property
    def when(self) -> str:
        return window_label(self.days, self.hour_from, self.hours)

    @property
    def next_end(self) -> datetime:
        """When the window that next opens (or is open now) closes."""
        return self.next_start + timedelta(hours=self.hours)

    @property
    def place(self) -> str:
        return self.postcode or f"{self.lat:.4f}, {self.lon:.4f}"

    @property
    def purpose(self) -> str:
        """The patrol form's purpose when a patrol is started from it."""
        return f"Suggested patrol near {self.place}, {self.when}"[:200]


# --- the maths (no database) ----------------------------------------------------------------------

def decay(age_days: float, half_life_days: float) -> float:
    return 0.5 ** (max(age_days, 0.0) / half_life_days)


def to_metres(lat: float, lon: float) -> tuple[float, float]:
    return (lon - LON0) * M_PER_DEG_LON, (lat - LAT0) * M_PER_DEG_LAT


def cell_of(lat: float, lon: float, cell_m: float) -> tuple[int, int]:
    x, y = to_metres(lat, lon)
    return math.floor(x / cell_m), math.floor(y / cell_m)


def window_label(days: tuple[int, ...], hour_from: int, hours: int) -> str:
    if len(days) == 7:
        day_text = "every day"
    elif len(days) == 2:
        day_text = f"{DAY_NAMES[days[0] - 1]}–{DAY_NAMES[days[1] - 1]}"
    else:
        day_text = DAY_NAMES[days[0] - 1]
    return f"{day_text} {hour_from:02d}:00–{(hour_from + hours) % 24:02d}:00"


def _in_window(at: datetime, days: tuple[int, ...], hour_from: int, hours: int) -> bool:
    local = to_london(at)
    for day in days:  # hours since the start of `day` (this week's), wrapping past Sunday into Monday
        offset = ((local.isoweekday() - day) % 7) * 24 + local.hour
        if hour_from <= offset < hour_from + hours:
            return True
    return False


def best_window(records: list[Record], hours: int) -> tuple[tuple[int, ...], int]:
    """(ISO weekdays, start hour): the window covering most weight per day it asks for (sqrt of the days), so
    a pair of days wins only when both are busy. Ties: fewer days, the window centred on the reports, then the
    earlier day and hour."""
    grid = [[0.0] * 24 for _ in range(7)]
    for r in records:
        if r.at is not None:
            local = to_london(r.at)
            grid[local.isoweekday() - 1][local.hour] += r.weight

    def covered(day0: int, start: int) -> float:  # day0: 0 = Monday
        return sum(grid[(day0 + (start + k) // 24) % 7][(start + k) % 24] for k in range(hours))

    single = {(d, h): covered(d, h) for d in range(7) for h in range(24)}
    middle = hours // 2  # ties go to the window centred on the reports: most weight in its middle hour

    def centre(day0: int, start: int) -> float:
        return grid[(day0 + (start + middle) // 24) % 7][(start + middle) % 24]

    candidates = []
    for h in range(24):
        for d in range(7):
            candidates.append((single[(d, h)], 1, centre(d, h), d, h, (d + 1,)))
            candidates.append((single[(d, h)] + single[((d + 1) % 7, h)], 2,
                               centre(d, h) + centre((d + 1) % 7, h), d, h, (d + 1, (d + 1) % 7 + 1)))
        candidates.append((sum(single[(d, h)] for d in range(7)), 7, sum(centre(d, h) for d in range(7)), 0, h,
                           tuple(range(1, 8))))
    best = min(candidates, key=lambda c: (-round(c[0] / math.sqrt(c[1]), 9), c[1], -round(c[2], 9), c[3], c[4]))
    return best[5], best[4]


def next_window_start(days: tuple[int, ...], hour_from: int, hours: int, now: datetime) -> tuple[datetime, bool]:
    """When the window next opens (London), or opened if it is open now: (start, is open now)."""
    today = to_london(now).date()
    for offset in range(-1, 8):
        day = today + timedelta(days=offset)
        if day.isoweekday() in days:
            start = from_london(datetime.combine(day, time(hour_from)))
            if start + timedelta(hours=hours) > now:
                return start, start <= now
    raise AssertionError("a weekly window opens within 8 days")


def plan_places(records: list[Record], *, now: datetime, params: PlanParams = DEFAULT,
                postcode_of=None) -> list[Suggestion]:
    """The suggestions for one beat's records (already weighted). Pure: tests feed it fixed records."""
    postcode_of = postcode_of or (lambda lat, lon: None)
    cells: dict[tuple[int, int], list[Record]] = defaultdict(list)
    for r in records:
        cells[cell_of(r.lat, r.lon, params.cell_m)].append(r)
    weight = {cell: sum(r.weight for r in rs) for cell, rs in cells.items()}
    own_n = {cell: sum(1 for r in rs if r.source != "crime") for cell, rs in cells.items()}
    around = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    suggestions: list[Suggestion] = []
    taken: set[tuple[int, int]] = set()
    for _ in range(params.limit):
        best = None
        for cell in cells:
            if cell in taken:
                continue
            near = [(cell[0] + dx, cell[1] + dy) for dx, dy in around]
            near = [c for c in near if c in cells and c not in taken]
            if sum(own_n[c] for c in near) < params.min_reports:
                continue
            candidate = (-round(sum(weight[c] for c in near), 9), cell)
            if best is None or candidate < best[0]:
                best = (candidate, near)
        if best is None:
            break
        (negative, cell), near = best
        inside = [r for c in near for r in cells[c]]
        own = [r for r in inside if r.source != "crime"]
        taken.update((cell[0] + dx, cell[1] + dy) for dx, dy in around)
        suggestions.append(_suggestion(cell, inside, own, -negative, len(suggestions) + 1, now, params, postcode_of))
    return suggestions


def _suggestion(cell, inside, own, score, rank, now, params, postcode_of) -> Suggestion:
    total = sum(r.weight for r in own) or 1.0
    lat = sum(r.lat * r.weight for r in own) / total if any(r.weight for r in own) else own[0].lat
    lon = sum(r.lon * r.weight for r in own) / total if any(r.weight for r in own) else own[0].lon
    cx, cy = to_metres(lat, lon)
    far = max(math.dist((cx, cy), to_metres(r.lat, r.lon)) for r in own)
    radius = min(max(far, 100.0), 1.5 * params.cell_m * math.sqrt(2))
    days, hour_from = best_window(own, params.window_hours)
    asb = [r for r in own if r.source == "asb"]
    intel = [r for r in own if r.source == "intel"]
    crime = [r for r in inside if r.source == "crime"]
    asb_in = [r for r in asb if _in_window(r.at, days, hour_from, params.window_hours)]
    intel_in = [r for r in intel if _in_window(r.at, days, hour_from, params.window_hours)]
    postcode = postcode_of(lat, lon)
    counts = {"asb": len(asb), "asb_in_window": len(asb_in), "intel": len(intel), "intel_in_window": len(intel_in),
              "street_crime": len(crime)}
    start, is_now = next_window_start(days, hour_from, params.window_hours, now)
    suggestion = Suggestion(
        key=f"{own[0].beat_id}:{cell[0]}:{cell[1]}:{''.join(map(str, days))}:{hour_from}", beat_id=own[0].beat_id,
        rank=rank, score=round(score, 3), lat=round(lat, 6), lon=round(lon, 6), radius_m=round(radius),
        postcode=postcode, days=days, hour_from=hour_from, hours=params.window_hours, reason="", counts=counts,
        entry_ids=sorted(r.id for r in own), next_start=start, is_now=is_now)
    suggestion.reason = reason_text(suggestion, params, crime_months=sorted({r.label for r in crime}, key=_month_key))
    return suggestion


def _month_key(label: str):
    return datetime.strptime(label, "%b %Y")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def reason_text(s: Suggestion, params: PlanParams, *, crime_months: list[str]) -> str:
    """'7 ASB reports near M32 0DH, Fri–Sat 20:00–23:00, last 28 days', then what else counted."""
    c = s.counts
    spread = c["asb"] >= 2 and 2 * c["asb_in_window"] < c["asb"]  # the window holds under half of them
    if spread:
        text = (f"{_plural(c['asb'], 'ASB report')} near {s.place}, last {params.days} days, spread over the week "
                f"(busiest {s.when}: {c['asb_in_window']})")
        extra = []
    elif c["asb_in_window"]:
        rest = c["asb"] - c["asb_in_window"]
        text = f"{_plural(c['asb_in_window'], 'ASB report')} near {s.place}, {s.when}, last {params.days} days"
        extra = [f"{rest} more at other times" if rest else None]
    elif c["intel_in_window"]:
        text = f"{_plural(c['intel_in_window'], 'intelligence report')} near {s.place}, {s.when}, last {params.days} days"
        extra = [_plural(c["asb"], "ASB report") + " at other times" if c["asb"] else None]
    else:
        text = f"{_plural(c['asb'], 'ASB report')} near {s.place}, {s.when}, last {params.days} days"
        extra = []
    if c["intel"] and (spread or c["asb_in_window"]):
        extra.append(_plural(c["intel"], "intelligence report"))
    if c["street_crime"]:
        months = crime_months[0] if len(crime_months) == 1 else f"{crime_months[0]}–{crime_months[-1]}"
        extra.append(f"{_plural(c['street_crime'], 'street crime')} (data.police.uk, {months})")
    parts = [part for part in extra if part]
    return (text + ("; " + "; ".join(parts) if parts else ""))[:300]


def _age_days(at: datetime, now: datetime) -> float:
    return (now - at).total_seconds() / 86400


def asb_record(entry_id: int, beat_id: int, lat: float, lon: float, at: datetime, category: NsirCategory, *,
               now: datetime, params: PlanParams = DEFAULT) -> Record:
    weight = ASB_HARM[category] * decay(_age_days(at, now), params.half_life_days)
    return Record("asb", entry_id, beat_id, lat, lon, weight, at)


def intel_record(entry_id: int, beat_id: int, lat: float, lon: float, at: datetime, source: SourceEvaluation,
                 assessment: IntelAssessment, *, now: datetime, params: PlanParams = DEFAULT) -> Record | None:
    """None for a report graded E (suspected false or malicious): never a reason to patrol."""
    harm = INTEL_BASE * SOURCE_FACTOR[source] * ASSESSMENT_FACTOR[assessment]
    if harm <= 0:
        return None
    return Record("intel", entry_id, beat_id, lat, lon, harm * decay(_age_days(at, now), params.half_life_days), at)
