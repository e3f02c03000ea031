"""Schools from the DfE Get Information About Schools (GIAS) extract."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import sqlalchemy as sa

from .. import audit
from ..beats.services import beat_index
from ..extensions import db
from ..postcodes import normalise_postcode
from ..models import AuditAction, School, User
from ..upsert import assign_changed

REQUIRED = {"name", "unique_reference_number", "lon", "lat"}


class SchoolImportError(ValueError):
    pass


@dataclass
class SchoolImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    outside_beats: int = 0
    problems: list[str] = field(default_factory=list)


def _float(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def import_schools(text: str, *, actor: User | None = None) -> SchoolImportSummary:
    reader = csv.DictReader(io.StringIO(text))
    missing = REQUIRED - set(reader.fieldnames or [])
    if missing:
        raise SchoolImportError(f"Not a GIAS schools extract: missing columns {', '.join(sorted(missing))}")
    summary = SchoolImportSummary()
    existing = {s.urn: s for s in db.session.scalars(sa.select(School))}
    index = beat_index()
    for line, row in enumerate(reader, start=2):
        try:
            urn = int(row["unique_reference_number"])
        except (TypeError, ValueError):
            summary.problems.append(f"line {line}: URN is not a number")
            continue
        name = (row.get("name") or "").strip()
        if not name:
            summary.problems.append(f"line {line}: no name")
            continue
        lat, lon = _float(row.get("lat")), _float(row.get("lon"))
        beat_id = index.locate(lat, lon) if lat is not None and lon is not None else None
        if beat_id is None:
            summary.outside_beats += 1
        low, high = row.get("lowest_admission_age"), row.get("highest_admission_age")
        values = {
            "name": name[:200], "school_type": (row.get("type") or None),
            "age_range": f"{low}-{high}" if low and high and low != "NA" else None,
            "postcode": normalise_postcode(row.get("postcode") or ""), "lat": lat, "lon": lon, "beat_id": beat_id,
        }
        school = existing.get(urn)
        if school is None:
            school = School(urn=urn, **values)
            db.session.add(school)
            existing[urn] = school
            summary.created += 1
        elif assign_changed(school, values):
            summary.updated += 1
        else:
            summary.unchanged += 1
    db.session.flush()
    audit.record(AuditAction.IMPORT, actor=actor, object_type="school", created=summary.created,
                 updated=summary.updated, unchanged=summary.unchanged)
    return summary
