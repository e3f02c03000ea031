"""Unusual access, computed on request over a window of days ("nightly-style": what a nightly job would list).

Four findings, each with a link to the events behind it (the events page, filtered):
- welfare records viewed off the officer's beats: a VIEW of a welfare check on a beat the viewer is not
  assigned to, by an officer who has beats (supervisors and PCSOs), who is neither its author nor its SPOC;
- searches for a colleague: a SEARCH whose terms hold another user's display name (every word of it);
- bursts of refusals: DENY_BURST or more DENY events (a record asked for that the user may not see) by one
  officer within DENY_WINDOW;
- views at unusual hours: an officer's VIEWs in a London hour of the day in which, over the BASELINE_DAYS
  before the window, they made under USUAL_SHARE of their views (with at least BASELINE_MIN views of history);
  one finding per officer and day.

Bounded: each finding reads at most MAX_EVENTS events of its kind in the window, each kind shows at most
MAX_FINDINGS findings (those with the most events), and the page says when either stopped it.
"""
from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from ..extensions import db
from ..models import AuditAction, AuditEvent, Entry, EntryKind, User, WelfareCheck, beat_assignment
from ..timeutil import london_day_start, to_london
from .matching import unindexed, utc_hour

DENY_BURST = 5
DENY_WINDOW = timedelta(minutes=10)
BASELINE_DAYS = 28
BASELINE_MIN = 20
USUAL_SHARE = 0.05
MAX_EVENTS = 20_000
MAX_FINDINGS = 200  # per kind of finding shown
MIN_NAME_LENGTH = 3  # a display name's words shorter than this are ignored ("Jo" matches too much)


@dataclass
class Finding:
    actor: User
    title: str
    detail: str
    link: dict  # GET parameters of the events page
    count: int = 1


@dataclass
class Report:
    from_on: date
    to_on: date
    off_beat: list[Finding] = field(default_factory=list)
    colleague_searches: list[Finding] = field(default_factory=list)
    deny_bursts: list[Finding] = field(default_factory=list)
    odd_hours: list[Finding] = field(default_factory=list)
    capped: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(len(x) for x in (self.off_beat, self.colleague_searches, self.deny_bursts, self.odd_hours))


def _window(from_on: date, to_on: date):
    return london_day_start(from_on), london_day_start(to_on + timedelta(days=1))


def _users(ids) -> dict[int, User]:
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(sorted(ids))))} if ids else {}


def _day_args(collar: str, day: date, **extra) -> dict:
    return {"collar": collar, "from": day.isoformat(), "to": day.isoformat(), **extra}


def off_beat_welfare_views(report: Report, start: datetime, end: datetime) -> None:
    check = WelfareCheck.__table__
    has_beat = sa.exists().where(beat_assignment.c.user_id == AuditEvent.actor_id)
    on_beat = sa.exists().where(beat_assignment.c.user_id == AuditEvent.actor_id,
                                beat_assignment.c.beat_id == Entry.beat_id)
    rows = db.session.execute(
        sa.select(AuditEvent.actor_id, AuditEvent.object_id, sa.func.count(), sa.func.min(AuditEvent.at))
        .join(Entry, Entry.id == AuditEvent.object_id).join(check, check.c.id == Entry.id)
        .where(AuditEvent.action == AuditAction.VIEW, unindexed(AuditEvent.object_type) == "entry",
               Entry.kind == EntryKind.WELFARE_CHECK, AuditEvent.at >= start, AuditEvent.at < end,
               AuditEvent.actor_id.is_not(None), AuditEvent.actor_id != Entry.author_id,
               AuditEvent.actor_id != check.c.spoc_id, has_beat, ~on_beat)
        .group_by(AuditEvent.actor_id, AuditEvent.object_id).order_by(sa.func.min(AuditEvent.at)).limit(500)).all()
    users = _users({row[0] for row in rows})
    for actor_id, entry_id, count, first_at in rows:
        actor = users[actor_id]
        report.off_beat.append(Finding(
            actor, f"Welfare check #{entry_id}", f"viewed {count}× from {to_london(first_at):%d %b %H:%M}, "
            "not on their beats", {"collar": actor.collar_number, "type": "entry", "id": entry_id,
                                   "from": report.from_on.isoformat(), "to": report.to_on.isoformat()}, count))


def _term_text(terms) -> str:
    if isinstance(terms, dict):
        return " ".join(_term_text(v) for v in terms.values())
    if isinstance(terms, list):
        return " ".join(_term_text(v) for v in terms)
    return terms if isinstance(terms, str) else ""


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", text.casefold()) if len(w) >= MIN_NAME_LENGTH}


def colleague_searches(report: Report, start: datetime, end: datetime) -> None:
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.SEARCH, AuditEvent.at >= start,
                                    AuditEvent.at < end, AuditEvent.actor_id.is_not(None))
        .order_by(AuditEvent.id).limit(MAX_EVENTS + 1)).all()
    if len(events) > MAX_EVENTS:
        report.capped.append(f"searches: the first {MAX_EVENTS:,} only")
        events = events[:MAX_EVENTS]
    names = [(user, words) for user in db.session.scalars(sa.select(User))
             if (words := _words(user.display_name))]
    actors = _users({e.actor_id for e in events})
    found: dict[tuple[int, int], list[AuditEvent]] = defaultdict(list)
    for event in events:
        words = _words(_term_text((event.details or {}).get("terms", event.details)))
        if not words:
            continue
        for user, name_words in names:
            if user.id != event.actor_id and name_words <= words:
                found[(event.actor_id, user.id)].append(event)
    colleagues = {user.id: user for user, _ in names}
    for (actor_id, colleague_id), matched in found.items():
        actor, colleague = actors[actor_id], colleagues[colleague_id]
        day = to_london(matched[0].at).date()
        last = to_london(matched[-1].at).date()
        report.colleague_searches.append(Finding(
            actor, f"Searched for {colleague.display_name} ({colleague.collar_number})",
            f"{len(matched)} search{'es' if len(matched) > 1 else ''}, first {to_london(matched[0].at):%d %b %H:%M}",
            {"collar": actor.collar_number, "action": "search", "from": day.isoformat(), "to": last.isoformat()},
            len(matched)))


def deny_bursts(report: Report, start: datetime, end: datetime) -> None:
    rows = db.session.execute(
        sa.select(AuditEvent.actor_id, AuditEvent.at).where(
            AuditEvent.action == AuditAction.DENY, AuditEvent.at >= start, AuditEvent.at < end,
            AuditEvent.actor_id.is_not(None)).order_by(AuditEvent.actor_id, AuditEvent.at).limit(MAX_EVENTS + 1)).all()
    if len(rows) > MAX_EVENTS:
        report.capped.append(f"refusals: the first {MAX_EVENTS:,} only")
        rows = rows[:MAX_EVENTS]
    by_actor: dict[int, list[datetime]] = defaultdict(list)
    for actor_id, at in rows:
        by_actor[actor_id].append(at)
    users = _users(set(by_actor))
    for actor_id, times in by_actor.items():
        i = 0
        while i < len(times):
            j = i
            while j + 1 < len(times) and times[j + 1] - times[i] <= DENY_WINDOW:
                j += 1
            if j - i + 1 >= DENY_BURST:
                while j + 1 < len(times) and times[j + 1] - times[j] <= DENY_WINDOW:  # the burst runs on
                    j += 1
                actor, first, last = users[actor_id], to_london(times[i]), to_london(times[j])
                report.deny_bursts.append(Finding(
                    actor, f"{j - i + 1} refused requests", f"{first:%d %b %H:%M}–{last:%H:%M}",
                    _day_args(actor.collar_number, first.date(), action="deny") | {"to": last.date().isoformat()},
                    j - i + 1))
                i = j + 1
            else:
                i += 1


def _hours(start: datetime, end: datetime) -> dict[int, Counter]:
    """Views per officer per London hour of the day (grouped by UTC hour in SQL, then moved to London)."""
    bucket = utc_hour(AuditEvent.at)
    rows = db.session.execute(
        sa.select(AuditEvent.actor_id, bucket, sa.func.count()).where(
            AuditEvent.action == AuditAction.VIEW, AuditEvent.at >= start, AuditEvent.at < end,
            AuditEvent.actor_id.is_not(None)).group_by(AuditEvent.actor_id, bucket)).all()
    counts: dict[int, Counter] = defaultdict(Counter)
    for actor_id, hour, count in rows:
        counts[actor_id][_london_hour(hour)] += count
    return counts


@functools.cache
def _london_hour(utc_bucket: str) -> datetime:
    """'2026-12-03 09' (UTC) as the London hour it is (parsed by hand: strptime was most of the report's time)."""
    return to_london(datetime(int(utc_bucket[:4]), int(utc_bucket[5:7]), int(utc_bucket[8:10]),
                              int(utc_bucket[11:13]), tzinfo=timezone.utc))


def odd_hour_views(report: Report, start: datetime, end: datetime) -> None:
    baseline = _hours(start - timedelta(days=BASELINE_DAYS), start)
    window = _hours(start, end)
    usual = {}
    for actor_id, counts in baseline.items():
        by_hour = Counter()
        for moment, count in counts.items():
            by_hour[moment.hour] += count
        total = sum(by_hour.values())
        if total >= BASELINE_MIN:
            usual[actor_id] = {hour for hour, count in by_hour.items() if count >= USUAL_SHARE * total}
    users = _users(set(window) & set(usual))
    for actor_id, counts in window.items():
        if actor_id not in usual:
            continue
        by_day: dict[date, list[tuple[datetime, int]]] = defaultdict(list)  # one finding per officer and day
        for moment, count in sorted(counts.items()):
            if moment.hour not in usual[actor_id]:
                by_day[moment.date()].append((moment, count))
        for day, hours in by_day.items():
            actor, count = users[actor_id], sum(n for _, n in hours)
            report.odd_hours.append(Finding(
                actor, f"{count} view{'s' if count > 1 else ''} at " + ", ".join(f"{m:%H}:00" for m, _ in hours),
                f"on {day:%a %d %b}; usually {_hour_ranges(usual[actor_id])}",
                _day_args(actor.collar_number, day, action="view"), count))


def _hour_ranges(hours: set[int]) -> str:
    return ", ".join(f"{h:02d}:00" for h in sorted(hours)) if len(hours) <= 6 else \
        f"{min(hours):02d}:00–{max(hours):02d}:59"


def unusual_access(from_on: date, to_on: date) -> Report:
    report = Report(from_on, to_on)
    start, end = _window(from_on, to_on)
    off_beat_welfare_views(report, start, end)
    colleague_searches(report, start, end)
    deny_bursts(report, start, end)
    odd_hour_views(report, start, end)
    for name in ("off_beat", "colleague_searches", "deny_bursts", "odd_hours"):
        findings = getattr(report, name)
        if len(findings) > MAX_FINDINGS:  # the most events first, then the cap
            findings.sort(key=lambda f: f.count, reverse=True)
            report.capped.append(f"{name.replace('_', ' ')}: the {MAX_FINDINGS} with most events of "
                                 f"{len(findings):,} (narrow the dates)")
            del findings[MAX_FINDINGS:]
    return report
