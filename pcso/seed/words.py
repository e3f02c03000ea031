"""The demo's word lists, read once from pcso/data/seed/ (fictional people; real Trafford streets and places).

Each list is a plain data file: `.txt` one item per line, or small JSON where an item has parts. The
constants below keep the order of the files: the seed's random choices depend on it.
"""
from __future__ import annotations

import json
from typing import Any, NamedTuple

from ..geo import DATA_DIR
from ..models import AsbType, ExploitationIndicator, NsirCategory, RiskLevel, SchoolVisitType

WORDS_DIR = DATA_DIR / "seed"


def _lines(name: str) -> tuple[str, ...]:
    text = (WORDS_DIR / name).read_text(encoding="utf-8")
    return tuple(line for line in text.splitlines() if line.strip())


def _json(name: str) -> Any:
    return json.loads((WORDS_DIR / name).read_text(encoding="utf-8"))


def _tuples(mapping: dict[str, list]) -> dict[str, tuple]:
    return {key: tuple(values) for key, values in mapping.items()}


class AsbKind(NamedTuple):
    """One kind of incident. The NSIR category follows the description: targeted at someone ->
    personal; the community at large -> nuisance; the surroundings -> environmental."""

    asb_type: AsbType
    category: NsirCategory
    description: str
    summary: str
    suspects: str  # key into SUSPECTS, or "" when nobody is seen
    actions: tuple[str, ...]


# (weight, female first names, male first names, surnames): names that go together.
NAME_GROUPS: tuple[tuple[int, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = tuple(
    (group["weight"], tuple(group["female"]), tuple(group["male"]), tuple(group["surnames"]))
    for group in _json("names.json"))

_places = _json("places.json")
STREETS: dict[str, tuple[str, ...]] = _tuples(_places["streets"])
GENERIC_STREETS: tuple[str, ...] = tuple(_places["generic_streets"])
PLACES: dict[str, tuple[str, ...]] = _tuples(_places["places"])
GENERIC_PLACES: tuple[str, ...] = tuple(_places["generic_places"])
NEAR_TEMPLATES = _lines("near_templates.txt")

PATROL_PURPOSES = _lines("patrol_purposes.txt")
PATROL_NOTES = _lines("patrol_notes.txt")

_asb = _json("asb_incidents.json")
ASB_KINDS: tuple[AsbKind, ...] = tuple(
    AsbKind(AsbType(kind["asb_type"]), NsirCategory(kind["category"]), kind["description"], kind["summary"],
            kind["suspects"], tuple(kind["actions"]))
    for kind in _asb["kinds"])
# (gender, description): the name given goes with the description.
SUSPECTS: dict[str, tuple[tuple[str, str], ...]] = {
    key: tuple((s["gender"], s["description"]) for s in suspects) for key, suspects in _asb["suspects"].items()}

VEHICLES = _lines("vehicles.txt")
_vrm = _json("vrm.json")
VRM_AREAS: tuple[str, ...] = tuple(_vrm["areas"])
VRM_AGES: tuple[str, ...] = tuple(_vrm["ages"])
VRM_LETTERS: str = _vrm["letters"]

# (topic, visit type, year groups wanted: "lower", "upper", "all", "staff", "parents")
SCHOOL_TOPICS: dict[str, tuple[tuple[str, SchoolVisitType, str], ...]] = {
    phase: tuple((t["topic"], SchoolVisitType(t["visit_type"]), t["year_groups"]) for t in topics)
    for phase, topics in _json("school_topics.json").items()}
SECONDARY_GROUPS = tuple(f"Y{n}" for n in range(7, 14))
SCHOOL_FOLLOW_UPS = _lines("school_follow_ups.txt")

_children = _json("children.json")
# The SPOC's list: fictional children. (name, age at the anchor, SPOC index, beat index, profile, base risk)
CHILDREN: tuple[tuple[str, int, int, int, str, RiskLevel], ...] = tuple(
    (c["name"], c["age"], c["spoc"], c["beat"], c["profile"], RiskLevel(c["risk"])) for c in _children["children"])
PROFILE_INDICATORS: dict[str, tuple[ExploitationIndicator, ...]] = {
    profile: tuple(ExploitationIndicator(i) for i in indicators)
    for profile, indicators in _children["indicators"].items()}
CHILD_WORDS: dict[str, tuple[str, ...]] = _tuples(_children["child_words"])
OBSERVATIONS: dict[str, tuple[str, ...]] = _tuples(_children["observations"])
OTHERS_PRESENT: tuple[str, ...] = tuple(_children["others_present"])

# Intelligence: (summary, what was seen or said, the officer's opinion kept apart). Names are the subjects',
# never the source's; the source, where recorded, is in INTEL_SOURCES (the restricted field).
_intel = _json("intelligence.json")


def _reports(kind: str) -> tuple[tuple[str, str, str], ...]:
    return tuple((r["summary"], r["fact"], r["opinion"]) for r in _intel[kind])


VEHICLE_INTEL = _reports("vehicle")
PERSON_INTEL = _reports("person")  # those naming an {associate} are used only when there is one
WELFARE_INTEL = _reports("welfare")
INTEL_SOURCES: tuple[str, ...] = tuple(_intel["sources"])
INTEL_CONDITIONS: tuple[str, ...] = tuple(_intel["conditions"])

RETURN_COMMENTS = _lines("return_comments.txt")
# (issue, action) in data.police.uk's priorities shape; {street} is a real Trafford street.
PRIORITIES: tuple[tuple[str, str], ...] = tuple((p["issue"], p["action"]) for p in _json("beat_priorities.json"))

# What a sergeant writes when reviewing a victim's risk (pcso/seed/review.py).
RISK_OUTCOMES = [
    "Visited the victim at home: no further incidents since; advice on recording any more.",
    "Spoke to the victim by phone: the group has not been back; risk lowered.",
    "Joint visit with the council's ASB officer; CCTV request made for the block.",
    "Victim reports two more incidents not called in; referred to the housing provider.",
    "Suspect given a Community Protection Warning; patrols at the address continue.",
    "Victim now has a neighbour checking in; Victim Support referral accepted.",
]
