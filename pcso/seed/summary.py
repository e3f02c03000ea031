"""What the seed made (printed by the command), and the shares of the entries by kind."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..models import EntryKind

# Share of the entries by kind; welfare checks follow the SPOC schedule and take up to their share.
KIND_SHARE = {EntryKind.PATROL: 0.28, EntryKind.ASB_INCIDENT: 0.32, EntryKind.SCHOOL_VISIT: 0.17,
              EntryKind.WELFARE_CHECK: 0.15, EntryKind.INTELLIGENCE_REPORT: 0.08}
# Of the intelligence reports, the share raised from an ASB incident and from a welfare check.
RAISED_SHARE = {EntryKind.ASB_INCIDENT: 0.3, EntryKind.WELFARE_CHECK: 0.2}


@dataclass
class SeedSummary:
    beats: int = 0
    schools: int = 0
    users: int = 0
    replaced: int = 0
    kinds: Counter = field(default_factory=Counter)
    drafts: int = 0
    asb_people: int = 0
    asb_vehicles: int = 0
    repeat_victims: int = 0
    children: int = 0
    intel_raised: int = 0
    reviewed: Counter = field(default_factory=Counter)
    risk_assessments: int = 0  # initial, one per victim of an incident with a victim risk
    risk_reviews: int = 0
    case_reviews: int = 0  # ASB Case Review applications
    priorities: int = 0
