"""Putting the dashboard together: every figure for one scope, and the chart and map data for the page."""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for

from .. import audit
from ..database import read_only_from_here
from ..extensions import db
from ..entries.registry import KINDS
from ..models import AsbType, EntryKind, NsirCategory, PatrolMode, User
from .counts import AsbBreakdown, Backlog, KindSeries, PatrolHours, asb_breakdown, entries_by_kind, patrol_hours, review_backlog
from .hotspots import Hotspot, hotspots, street_crime_map
from .scope import Scope, list_url
from .victims import VictimFigure, victim_figures
from .welfare import WelfareDue, welfare_summary

NSIR_COLOURS = {NsirCategory.PERSONAL: "#d4351c", NsirCategory.NUISANCE: "#f47738",
                NsirCategory.ENVIRONMENTAL: "#00703c"}
MODE_COLOURS = {PatrolMode.FOOT: "#00703c", PatrolMode.CYCLE: "#1d70b8", PatrolMode.VEHICLE: "#6f777b"}
HOTSPOT_WINDOWS = (7, 28)
LISTED = 25  # names listed under a figure; the figure's link opens them all


@dataclass
class Dashboard:
    scope: Scope
    beats: list  # the beats shown (Beat objects)
    kinds: KindSeries
    asb: AsbBreakdown
    patrols: PatrolHours
    hotspots: dict[int, list[Hotspot]]
    street_crime: list[dict]
    street_crime_total: int
    welfare: list[WelfareDue]  # the first LISTED, soonest first
    welfare_counts: tuple[int, int]  # overdue, due this week
    welfare_urls: dict[str, str]
    victims: dict[str, VictimFigure]
    backlog: Backlog

    @property
    def welfare_total(self) -> int:
        return sum(self.welfare_counts)

    # --- data for dashboard.js (plain JSON in data-* attributes: no inline script) ---

    def kinds_chart(self) -> dict:
        kinds = [k for k in EntryKind if self.kinds.totals[k]] or list(EntryKind)
        return {
            "type": "bar", "stacked": True,
            "labels": [b.label for b in self.kinds.buckets],
            "datasets": [{"label": k.label, "colour": KINDS[k].colour,
                          "data": [b.counts.get(k, 0) for b in self.kinds.buckets],
                          "urls": [b.urls.get(k) for b in self.kinds.buckets]} for k in kinds],
        }

    def asb_chart(self) -> dict:
        types = [t for t, _, _ in self.asb.by_type]
        return {
            "type": "bar", "stacked": True, "horizontal": True,
            "labels": [t.label for t in types],
            "datasets": [{"label": c.label, "colour": NSIR_COLOURS[c],
                          "data": [self.asb.by_pair.get((c, t), 0) for t in types],
                          "urls": [self._asb_url(c, t) for t in types]}
                         for c in NsirCategory if self.asb.by_category[c]],
        }

    def _asb_url(self, category: NsirCategory, asb_type: AsbType) -> str:
        return list_url(**self.scope.beat_args(), kind=EntryKind.ASB_INCIDENT.slug,
                                **self.scope.period_args(), nsir=category.value, asb_type=asb_type.value)

    def patrol_chart(self) -> dict:
        rows = self.patrols.beats
        return {
            "type": "bar", "stacked": True, "horizontal": True, "unit": "h",
            "labels": [beat.name for beat, *_ in rows],
            "datasets": [{"label": m.label, "colour": MODE_COLOURS[m],
                          "data": [round(by_mode[m].hours, 1) if m in by_mode else 0 for _, by_mode, *_ in rows],
                          "urls": [by_mode[m].url if m in by_mode else None for _, by_mode, *_ in rows]}
                         for m in PatrolMode if self.patrols.mode_totals[m].patrols],
        }

    def map_data(self) -> dict:
        def spot(h: Hotspot) -> dict:
            return {"lat": h.lat, "lon": h.lon, "count": h.count, "before": h.before, "trend": h.trend,
                    "url": h.url, "label": f"{h.count} ASB incident{'s' if h.count != 1 else ''} in {h.days} days "
                                           f"({h.before} in the 28 days before): {h.trend}"}

        return {
            "beats": [b.id for b in self.beats] if self.scope.beat_ids is not None else [],
            "hotspots": {str(days): [spot(h) for h in spots] for days, spots in self.hotspots.items()},
            "streetCrime": self.street_crime,
            "outlinesUrl": url_for("beats.outlines"),
        }


def build_dashboard(user: User, scope: Scope, beats: list) -> Dashboard:
    """Every figure for `scope`, as `user` may see it. `beats` are the beats the user may choose from."""
    shown = [b for b in beats if scope.beat_ids is None or b.id in scope.beat_ids]
    now = scope.now
    welfare_common = scope.beat_args()
    street, street_total = street_crime_map(scope.beat_ids, scope)
    welfare, welfare_counts = welfare_summary(user, scope.beat_ids, today=scope.today, limit=LISTED)
    return Dashboard(
        scope=scope,
        beats=shown,
        kinds=entries_by_kind(user, scope),
        asb=asb_breakdown(user, scope),
        patrols=patrol_hours(user, scope),
        hotspots={days: hotspots(user, scope.beat_ids, now=now, days=days) for days in HOTSPOT_WINDOWS},
        street_crime=street,
        street_crime_total=street_total,
        welfare=welfare,
        welfare_counts=welfare_counts,
        welfare_urls={"overdue": list_url(**welfare_common, set="welfare-overdue"),
                      "week": list_url(**welfare_common, set="welfare-due-week")},
        victims=victim_figures(user, scope, listed=LISTED),
        backlog=review_backlog(user, scope),
    )



def record_dashboard_view(scope: Scope, *, actor: User, dashboard: Dashboard | None = None) -> None:
    """A dashboard is an audited read: which beats (None: every beat the viewer may see) over which period, and
    the records it names (welfare checks and their children, victims and their latest incident), in the
    request's one view event."""
    named = [] if dashboard is None else [
        victim for figure in dashboard.victims.values() for victim in figure.victims if victim.person is not None]
    checks = [] if dashboard is None else [item.check for item in dashboard.welfare]
    audit.consulted([*checks, *(victim.incidents[-1].entry_id for victim in named if victim.incidents)],
                    actor=actor, object_type="entry", screen="dashboard",
                    beat_ids=sorted(scope.beat_ids) if scope.beat_ids is not None else None,
                    period=[scope.date_from.isoformat(), scope.date_to.isoformat()])
    audit.consulted([*(item.child for item in (dashboard.welfare if dashboard else [])),
                     *(victim.person for victim in named)], actor=actor, object_type="person")


def commit_view(scope: Scope, *, actor: User, dashboard: Dashboard) -> None:
    """Record the view and commit it, keeping what the figures loaded: the page is rendered after the commit
    (so the write lock is not held while it renders), and with the default expire-on-commit every record the
    template then touched was read again, one query each: ~50 round trips, ~40 % of the server time of a
    one-beat page at a million entries. What is rendered is what the figures were computed from."""
    record_dashboard_view(scope, actor=actor, dashboard=dashboard)
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
    read_only_from_here()  # anything the template still loads reads, without the write lock
