"""Patrol suggestions: where and when to patrol in the coming shift, and why (docs/PATROL_SUGGESTIONS.md).

What feeds them, all of it through `visible_entries(viewer)` (nothing the viewer may not open is counted):
- ASB incidents (submitted, located, OFFICIAL) of the last `days` days, weighted by NSIR category;
- intelligence reports (the same), weighted by their 3x5x2 grading (E, suspected false: not at all);
- data.police.uk street crime on the beat (public context, by month, no time of day): it raises a place's
  score a little but never makes a place, nor a time, by itself.
Welfare checks are never read: a child's home is not a place to patrol. Patrols are not read either (the
measure of what patrols did is pcso/patrol_plans/measure.py, apart from what is suggested).

Each record weighs harm x 0.5 ** (age / half-life). Records go on a metric grid (`cell_m` squares on a fixed
projection); a place is the best-scoring 3x3 block of cells, its records then taken out, `limit` times. Its
time is the window of `window_hours` on one day, two adjacent days or every day that covers most weight
(per day counted, so one busy day beats a thin week). Everything is ordered by score, then by grid key:
the same data and the same `now` give the same suggestions.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from .. import audit
from ..access import visible_entries
from ..dashboard.hotspots import nearest_postcode
from ..extensions import db
from ..models import (
    AsbIncident, AuditAction, Entry, EntryKind, EntryStatus, IntelAssessment, IntelligenceReport,
    NsirCategory, PatrolSuggestion, SecurityMarking, SourceEvaluation, StreetCrime, User,
)
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
    a pair of days wins only when both are busy. Ties: fewer days, then the earlier day and hour."""
    grid = [[0.0] * 24 for _ in range(7)]
    for r in records:
        if r.at is not None:
            local = to_london(r.at)
            grid[local.isoweekday() - 1][local.hour] += r.weight

    def covered(day0: int, start: int) -> float:  # day0: 0 = Monday
        return sum(grid[(day0 + (start + k) // 24) % 7][(start + k) % 24] for k in range(hours))

    single = {(d, h): covered(d, h) for d in range(7) for h in range(24)}
    candidates = []
    for h in range(24):
        for d in range(7):
            candidates.append((single[(d, h)], 1, d, h, (d + 1,)))
            candidates.append((single[(d, h)] + single[((d + 1) % 7, h)], 2, d, h, (d + 1, (d + 1) % 7 + 1)))
        candidates.append((sum(single[(d, h)] for d in range(7)), 7, 0, h, tuple(range(1, 8))))
    best = min(candidates, key=lambda c: (-round(c[0] / math.sqrt(c[1]), 9), c[1], c[2], c[3]))
    return best[4], best[3]


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
    if c["asb_in_window"]:
        lead = _plural(c["asb_in_window"], "ASB report")
        rest = c["asb"] - c["asb_in_window"]
        extra = [f"{rest} more at other times" if rest else None]
    elif c["intel_in_window"]:
        lead, extra = _plural(c["intel_in_window"], "intelligence report"), [
            _plural(c["asb"], "ASB report") + " at other times" if c["asb"] else None]
    else:
        lead, extra = _plural(c["asb"], "ASB report"), [None]
    text = f"{lead} near {s.place}, {s.when}, last {params.days} days"
    if c["intel"] and c["asb_in_window"]:
        extra.append(_plural(c["intel"], "intelligence report"))
    if c["street_crime"]:
        months = crime_months[0] if len(crime_months) == 1 else f"{crime_months[0]}–{crime_months[-1]}"
        extra.append(f"{_plural(c['street_crime'], 'street crime')} (data.police.uk, {months})")
    parts = [part for part in extra if part]
    return (text + ("; " + "; ".join(parts) if parts else ""))[:300]


# --- reading the records ------------------------------------------------------------------------------

ASB_T, INTEL_T = AsbIncident.__table__, IntelligenceReport.__table__


def own_records(viewer: User, beat_ids: set[int], *, now: datetime, params: PlanParams = DEFAULT) -> list[Record]:
    """ASB incidents and intelligence reports the viewer may open, weighted; never welfare checks."""
    since = now - timedelta(days=params.days)
    rows = db.session.execute(
        sa.select(Entry.id, Entry.kind, Entry.beat_id, Entry.lat, Entry.lon, Entry.occurred_at,
                  ASB_T.c.nsir_category, INTEL_T.c.source_evaluation, INTEL_T.c.assessment)
        .select_from(Entry.__table__)
        .outerjoin(ASB_T, ASB_T.c.id == Entry.id).outerjoin(INTEL_T, INTEL_T.c.id == Entry.id)
        .where(visible_entries(viewer), Entry.status != EntryStatus.DRAFT,
               Entry.kind.in_([EntryKind.ASB_INCIDENT, EntryKind.INTELLIGENCE_REPORT]),
               Entry.marking == SecurityMarking.OFFICIAL, Entry.beat_id.in_(sorted(beat_ids)),
               Entry.lat.is_not(None), Entry.lon.is_not(None), Entry.occurred_at >= since, Entry.occurred_at <= now)
        .order_by(Entry.occurred_at.desc(), Entry.id.desc()).limit(params.max_rows)).all()
    records = []
    for entry_id, kind, beat_id, lat, lon, at, category, source, assessment in rows:
        at = at if at.tzinfo else at.replace(tzinfo=now.tzinfo)
        if EntryKind(kind) == EntryKind.ASB_INCIDENT:
            record = asb_record(entry_id, beat_id, lat, lon, at, NsirCategory(category), now=now, params=params)
        else:
            record = intel_record(entry_id, beat_id, lat, lon, at, SourceEvaluation(source),
                                  IntelAssessment(assessment), now=now, params=params)
        if record is not None:
            records.append(record)
    return records


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


def street_crime_records(beat_ids: set[int], *, now: datetime, params: PlanParams = DEFAULT) -> list[Record]:
    """data.police.uk rows on the beats for the last `street_crime_months` months up to now, weighted."""
    first = to_london(now).date().replace(day=1)
    for _ in range(params.street_crime_months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    rows = db.session.execute(
        sa.select(StreetCrime.id, StreetCrime.beat_id, StreetCrime.lat, StreetCrime.lon, StreetCrime.month,
                  StreetCrime.crime_type)
        .where(StreetCrime.beat_id.in_(sorted(beat_ids)), StreetCrime.month >= first,
               StreetCrime.month <= to_london(now).date())
        .order_by(StreetCrime.month.desc(), StreetCrime.id.desc()).limit(params.max_rows)).all()
    records = []
    for row_id, beat_id, lat, lon, month, crime_type in rows:
        middle = from_london(datetime.combine(month + timedelta(days=14), time()))
        age = (now - middle).total_seconds() / 86400
        weight = params.street_crime_factor * CRIME_HARM.get(crime_type, 1.0) * decay(age, params.half_life_days * 4)
        records.append(Record("crime", row_id, beat_id, lat, lon, weight, None, month.strftime("%b %Y")))
    return records


def suggest_patrols(viewer: User, beat_ids, *, now: datetime, params: PlanParams = DEFAULT) -> list[Suggestion]:
    """Suggested patrols on each of `beat_ids` for `viewer`, best first within each beat (beats in id order)."""
    beat_ids = set(beat_ids)
    if not beat_ids:
        return []
    by_beat: dict[int, list[Record]] = defaultdict(list)
    for r in [*own_records(viewer, beat_ids, now=now, params=params),
              *street_crime_records(beat_ids, now=now, params=params)]:
        by_beat[r.beat_id].append(r)
    suggestions = []
    for beat_id in sorted(by_beat):
        suggestions.extend(plan_places(by_beat[beat_id], now=now, params=params, postcode_of=nearest_postcode))
    return suggestions


# --- keeping what was shown ----------------------------------------------------------------------------

def record_suggestions(viewer: User, suggestions: list[Suggestion], *, now: datetime,
                       params: PlanParams = DEFAULT) -> None:
    """Keep each suggestion shown (once per viewer, London day and key) and link it to its row; flush, audit."""
    if not suggestions:
        return
    today = to_london(now).date()
    keys = [s.key for s in suggestions]
    existing = {row.key: row for row in db.session.scalars(sa.select(PatrolSuggestion).where(
        PatrolSuggestion.user_id == viewer.id, PatrolSuggestion.suggested_on == today,
        PatrolSuggestion.key.in_(keys)))}
    created = []
    for s in suggestions:
        row = existing.get(s.key)
        if row is None:
            row = PatrolSuggestion(
                user_id=viewer.id, beat_id=s.beat_id, suggested_on=today, created_at=now, key=s.key, rank=s.rank,
                score=s.score, lat=s.lat, lon=s.lon, radius_m=s.radius_m, postcode=s.postcode,
                days=",".join(map(str, s.days)), hour_from=s.hour_from, hours=s.hours, reason=s.reason,
                basis={"counts": s.counts, "params": params.as_dict(), "entry_ids": s.entry_ids[:ENTRY_IDS_KEPT],
                       "entry_count": len(s.entry_ids)})
            db.session.add(row)
            created.append(row)
        s.record = row
    if created:
        db.session.flush()
        audit.record(AuditAction.CREATE, actor=viewer, object_type="patrol_suggestion",
                     ids=[row.id for row in created], beat_ids=sorted({row.beat_id for row in created}))


def get_suggestion(viewer: User, suggestion_id: int) -> PatrolSuggestion | None:
    """A suggestion shown to the viewer; anyone else's is None (a 404)."""
    row = db.session.get(PatrolSuggestion, suggestion_id)
    return row if row is not None and row.user_id == viewer.id else None


def suggestion_for_patrol(author_id: int, suggestion_id: int) -> int | None:
    """The suggestion a new patrol records: only one shown to its author (another's id is dropped)."""
    row = db.session.get(PatrolSuggestion, suggestion_id)
    return row.id if row is not None and row.user_id == author_id else None


def shown_from(row: PatrolSuggestion, now: datetime) -> Suggestion:
    """A stored suggestion as the pages show it (its next window from `now`)."""
    days = row.weekdays
    start, is_now = next_window_start(days, row.hour_from, row.hours, now)
    return Suggestion(key=row.key, beat_id=row.beat_id, rank=row.rank, score=row.score, lat=row.lat, lon=row.lon,
                      radius_m=row.radius_m, postcode=row.postcode, days=days, hour_from=row.hour_from,
                      hours=row.hours, reason=row.reason, counts=dict(row.basis.get("counts", {})),
                      entry_ids=list(row.basis.get("entry_ids", [])), next_start=start, is_now=is_now, record=row)


def params_from(config) -> PlanParams:
    """The force's settings (PATROL_PLAN_HALF_LIFE_DAYS, PATROL_PLAN_DAYS), the defaults otherwise."""
    return replace(DEFAULT, half_life_days=float(config.get("PATROL_PLAN_HALF_LIFE_DAYS", DEFAULT.half_life_days)),
                   days=int(config.get("PATROL_PLAN_DAYS", DEFAULT.days)))


def london_date(now: datetime) -> date:
    return to_london(now).date()
