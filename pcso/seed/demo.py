"""seed_demo(): write the demo data (beats, schools, users, entries, reviews, priorities, shifts)."""
from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from .. import audit
from ..beats.services import import_beats
from ..boundaries import parse_boundaries
from ..extensions import db
from ..geo import DATA_DIR
from ..models import (
    AsbIncident, AuditAction, BeatPriority, CaseReview, Entry, EntryKind, EntryStatus, IntelligenceReport, Link,
    Person, School, Shift, Vehicle,
)
from ..schools.services import import_schools
from ..search.index import index_entries
from .case_reviews import CaseReviews
from .entries import StreetEntries
from .people import upsert_users
from .review import Review
from .safeguarding import Safeguarding
from .summary import KIND_SHARE, SeedSummary

WARDS_PATH = DATA_DIR / "trafford_ward_2023_generalised.geojson"
SCHOOLS_PATH = DATA_DIR / "trafford_schools_and_colleges.csv"
DISTRICT = "Trafford"
ANCHOR_HOUR_UTC = 6


def demo_anchor(now: datetime) -> datetime:
    """The latest 06:00 UTC not after `now`: runs on the same demo day give the same data."""
    anchor = now.astimezone(timezone.utc).replace(hour=ANCHOR_HOUR_UTC, minute=0, second=0, microsecond=0)
    return anchor if anchor <= now else anchor - timedelta(days=1)


def seed_demo(*, n_entries: int, days: int, seed: int, anchor: datetime, demo_only: bool = True) -> SeedSummary:
    """Write the demo data. Flushes and audits; the caller commits once."""
    summary = SeedSummary()
    shapes = parse_boundaries(WARDS_PATH.read_text(encoding="utf-8"), code_property="area_code",
                              name_property="area_name")
    import_beats(shapes, district=DISTRICT)
    summary.beats = len(shapes)
    import_schools(SCHOOLS_PATH.read_text(encoding="utf-8-sig"))
    summary.schools = db.session.scalar(sa.select(sa.func.count(School.id)))

    users = upsert_users({shape.name: shape.code for shape in shapes}, wards_file=WARDS_PATH.name)
    summary.users = len(users)
    demo_ids = [u.id for u in users.values()]
    # The demo's case reviews first: they name demo victims, who go with the demo entries below.
    db.session.execute(sa.delete(CaseReview).where(CaseReview.recorded_by_id.in_(demo_ids))
                       .execution_options(synchronize_session=False))
    demo_entries = sa.select(Entry.id).where(Entry.author_id.in_(demo_ids)).scalar_subquery()
    # Reports raised from a demo entry lose that link first (PostgreSQL checks the key before it cascades).
    db.session.execute(sa.update(IntelligenceReport).where(IntelligenceReport.raised_from_id.in_(demo_entries))
                       .values(raised_from_id=None).execution_options(synchronize_session=False))
    summary.replaced = db.session.execute(
        sa.delete(Entry).where(Entry.author_id.in_(demo_ids)).execution_options(synchronize_session=False)
    ).rowcount or 0
    if summary.replaced:
        audit.record(AuditAction.ERASE, actor=None, object_type="entry", source="seed-demo", count=summary.replaced)
    if demo_only:  # the demo's people and vehicles went with its entries: clear the records left unlinked
        for model, column in ((Person, Link.person_id), (Vehicle, Link.vehicle_id)):
            db.session.execute(sa.delete(model).where(~sa.exists().where(column == model.id))
                               .execution_options(synchronize_session=False))

    db.session.execute(sa.delete(BeatPriority).where(BeatPriority.set_by_id.in_(demo_ids)))
    db.session.execute(sa.delete(Shift).where(Shift.user_id.in_(demo_ids)))
    builder = Builder(random.Random(seed), anchor, days, users, summary)
    entries = builder.build(n_entries)
    builder.priorities_and_shifts()
    summary.kinds = Counter(e.kind for e in entries)
    summary.drafts = sum(e.status == EntryStatus.DRAFT for e in entries)
    db.session.flush()
    index_entries(entries)
    audit.record(AuditAction.IMPORT, actor=None, object_type="entry", source="seed-demo", seed=seed, days=days,
                 **{kind.value: summary.kinds[kind] for kind in EntryKind})
    return summary


class Builder(StreetEntries, Safeguarding, Review, CaseReviews):
    """All the demo's entries, in a fixed order of random choices."""

    def build(self, n: int) -> list[Entry]:
        welfare = self._welfare_checks(round(n * KIND_SHARE[EntryKind.WELFARE_CHECK]))
        n_intel = min(round(n * KIND_SHARE[EntryKind.INTELLIGENCE_REPORT]), n - len(welfare))
        rest = n - len(welfare) - n_intel
        others = sum(KIND_SHARE[k] for k in (EntryKind.PATROL, EntryKind.ASB_INCIDENT, EntryKind.SCHOOL_VISIT))
        n_patrols = round(rest * KIND_SHARE[EntryKind.PATROL] / others)
        n_schools = round(rest * KIND_SHARE[EntryKind.SCHOOL_VISIT] / others)
        n_asb = rest - n_patrols - n_schools
        patrols = [self._patrol() for _ in range(n_patrols)]
        db.session.add_all(patrols)
        db.session.flush()  # patrol ids, for incidents logged during a patrol
        incidents = self._asb_incidents(n_asb)
        entries = patrols + incidents + [self._school_visit() for _ in range(n_schools)] + welfare
        db.session.add_all(entries)
        db.session.flush()  # ids, for intelligence raised from incidents and checks
        entries += self._intelligence_reports(n_intel, incidents, welfare)
        self._finish(entries)
        self._case_reviews([e for e in entries if isinstance(e, AsbIncident)])
        return entries
