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

from collections import defaultdict
from dataclasses import replace
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..access import visible_entries
from ..dashboard.hotspots import nearest_postcode
from ..extensions import db
from ..models import (
    AsbIncident, AuditAction, Entry, EntryKind, EntryStatus, IntelAssessment, IntelligenceReport,
    NsirCategory, PatrolSuggestion, SecurityMarking, SourceEvaluation, StreetCrime, User,
)
from ..timeutil import from_london, to_london
from .method import (
    CRIME_HARM, DEFAULT, ENTRY_IDS_KEPT, PlanParams, Record, Suggestion, asb_record, decay, intel_record,
    next_window_start, plan_places,
)


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
                       params: PlanParams = DEFAULT, retry: bool = True) -> None:
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
        try:
            with db.session.begin_nested():
                db.session.flush()
        except IntegrityError:  # the officer's other tab kept them a moment ago (PostgreSQL): use those
            if not retry:
                raise
            return record_suggestions(viewer, suggestions, now=now, params=params, retry=False)
        audit.record(AuditAction.CREATE, actor=viewer, object_type="patrol_suggestion",
                     ids=[row.id for row in created], beat_ids=sorted({row.beat_id for row in created}))


def get_suggestion(viewer: User, suggestion_id: int) -> PatrolSuggestion | None:
    """A suggestion shown to the viewer; anyone else's is None (a 404)."""
    row = db.session.get(PatrolSuggestion, suggestion_id)
    return row if row is not None and row.user_id == viewer.id else None


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
