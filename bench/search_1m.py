"""Search at a million entries: generate a force's worth of entries, then time typical searches.

Generates BENCH_ENTRIES (default 1,000,000) realistic entries over three years on the 21 Trafford
beats: ASB incidents, patrols, intelligence reports, school visits and welfare checks, with people,
vehicles and links, located at real postcodes (pcso/data/trafford_postcodes.csv). Rows are written
with bulk inserts (executemany on SQLite, COPY on PostgreSQL) into a scratch database migrated by
the app's own migrations; the full-text index is built once after the load.

Then, as an analyst through the app's own search service (in process, app context), it times
BENCH_RUNS runs of each typical query, and the bare full-text query on the same data for the
2x comparison, and prints p50/p95 in a table.

    .venv/bin/python bench/search_1m.py                                  # SQLite, /tmp/beatbook_search_1m.sqlite
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/beatbook_bench1m .venv/bin/python bench/search_1m.py

BENCH_ENTRIES=100000 for a quicker run; BENCH_REUSE=1 keeps a database already generated with the
same size and only measures. The PostgreSQL database is emptied first (DROP SCHEMA public CASCADE).
"""
from __future__ import annotations

import csv
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
import zlib
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pcso import create_app  # noqa: E402
from pcso.config import normalise_database_url  # noqa: E402
from pcso.extensions import db  # noqa: E402
from pcso.models import AsbType, EntryKind, NsirCategory, Role, SecurityMarking, User  # noqa: E402
from pcso.retention.rules import add_years, load_rules  # noqa: E402
from pcso.search.query import SearchQuery  # noqa: E402
from pcso.search.services import search  # noqa: E402
from pcso.search.statements import explain  # noqa: E402
from pcso.seed.words import (  # noqa: E402
    ASB_KINDS, CHILD_WORDS, NAME_GROUPS, NEAR_TEMPLATES, OBSERVATIONS, PATROL_NOTES, PATROL_PURPOSES, PLACES,
    SCHOOL_FOLLOW_UPS, SCHOOL_TOPICS, STREETS, SUSPECTS, VEHICLES, VRM_AGES, VRM_AREAS, VRM_LETTERS,
)
from pcso.timeutil import to_london  # noqa: E402

N_ENTRIES = int(os.environ.get("BENCH_ENTRIES", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "200"))
PG_URL = os.environ.get("BENCH_DATABASE_URL")
SQLITE_PATH = Path(os.environ.get("BENCH_SQLITE_PATH", Path(tempfile.gettempdir()) / "beatbook_search_1m.sqlite"))
REUSE = os.environ.get("BENCH_REUSE") == "1"
SEED = 1_000_000
YEARS = 3
CHUNK = 20_000
DATA = ROOT / "pcso" / "data"
SHARE = {"asb_incident": 0.40, "patrol": 0.30, "intelligence_report": 0.12, "school_visit": 0.10,
         "welfare_check": 0.08}

# --- words beyond the demo's: more streets, surnames and details, so the vocabulary is a force's ---------

STREET_ROOTS = (
    "Oak", "Elm", "Ash", "Beech", "Birch", "Church", "Mill", "Park", "Chester", "Manor", "Victoria", "Albert", "Queens",
    "Kings", "Grange", "Derby", "Lancaster", "Carrington", "Flixton", "Davyhulme", "Ashton", "Brook", "Warwick",
    "Moorside", "Woodsend", "Bowfell", "Cherry", "Hawthorn", "Larch", "Rowan", "Willow", "Cedar", "Meadow",
    "Orchard", "Primrose", "Bridge", "Canal", "Station", "School", "Chapel", "Green", "Cross", "Moss", "Marsh",
    "Heath", "Lime", "Poplar", "Sycamore", "Holly", "Ivy", "Laurel", "Maple", "Thorn", "Hollins", "Irlam",
    "Bowden", "Hale", "Ashley", "Sale", "Brooklands", "Woodhouse", "Urmston", "Partington", "Warburton", "Dunham",
    "Ridgeway", "Westbourne", "Eastway", "Northenden", "Southway", "Hamilton", "Nelson", "Wellington", "Trafalgar",
    "Cromwell", "Stanley", "Grosvenor", "Claremont", "Beaumont", "Clarendon", "Fairfield", "Highfield", "Springfield",
)
STREET_KINDS = ("Road", "Street", "Avenue", "Lane", "Close", "Drive", "Grove", "Crescent", "Way", "Place")
SURNAME_HEADS = ("Ash", "Brad", "Black", "Hol", "Whit", "Crom", "Har", "Ken", "Mar", "Stan", "Wal", "Wood", "Fair",
                 "Hamp", "Brook", "Clay", "Cold", "Dun", "Ever", "Fern", "Green", "Hart", "Lang", "Nor", "Pen", "Rad",
                 "Shel", "Thorn", "Wen", "Win", "Ather", "Bar", "Cal", "Dal", "Ed", "Fen", "Gar", "Hay")
SURNAME_TAILS = ("worth", "shaw", "ley", "ton", "wood", "field", "ford", "by", "well", "more", "ridge", "hurst",
                 "combe", "stead", "dale")
DETAILS = (
    "CCTV requested from the shop on {street}.", "Neighbour at number {n} heard shouting around {hour}pm.",
    "The group dispersed towards {street2} when the PCSO arrived.", "Door-to-door on {street}: {k} houses, no answer at most.",
    "Reporter does not want to be visited at home; prefers a call.", "Broken glass left on the pavement outside {n} {street}.",
    "A grey hoodie and a black balaclava were mentioned by two witnesses.", "Nitrous oxide canisters found by the bins.",
    "E-scooter ridden on the footpath along {street}.", "Bus driver on route {k}{n} reported stones thrown at the bus.",
    "Graffiti tag repeated on the underpass and the garages.", "Fly-tipping: sofa and rubble left behind the garages on {street}.",
    "Off-road bike heard revving late at night near {place}.", "Smell of cannabis from a parked car on {street}.",
    "Shop staff at {place} say the same group comes in after school.", "Resident filmed the incident on a phone and will send it.",
    "Catalytic converter cut from a hybrid on {street} overnight.", "Youths knocking on doors and running off on {street}.",
    "Dog fouling and an aggressive dog reported near {place}.", "Street lights out on {street}; reported to the council.",
    "Trainers hung over the phone wires on {street}.", "Elderly resident frightened to go out after dark.",
    "Car with tinted windows seen waiting outside the school on {street}.", "Knife seen in a waistband, not confirmed.",
    "Cash in hand and two phones noticed.", "Groups gather at the bus shelter on {street} most weekday evenings.",
)
INTEL = (
    ("{vrm} seen meeting youths on bikes, {street}",
     "{vehicle} {vrm} parked on {street} most evenings; youths on bikes ride up to the driver's window and leave "
     "within a minute. {name} has been seen in the passenger seat."),
    ("{name} believed to be storing drugs at an address on {street}",
     "{name} is said to keep cannabis and cash at a flat on {street} and to use {place} to meet buyers."),
    ("{vrm} on false plates at {place}", "{vehicle} showing {vrm} seen at {place}; plates believed cloned."),
    ("{name} carrying a knife at {place}", "{name} is said to carry a knife in a bag when at {place} after dark."),
    ("Catalytic converter thefts: {vrm} scouting {street}",
     "{vehicle} {vrm} driven slowly along {street} in the early hours, stopping beside parked hybrids."),
    ("{name} recruiting younger children at {place}",
     "{name} is said to offer money and trainers to children at {place} to carry parcels to Sale and Stretford."),
)
SOURCES = ("Member of the public, rings regularly", "Shop worker at the precinct", "Neighbour of the address",
           "Anonymous caller to Crimestoppers", "Parent of a pupil at the school")
CONDITIONS = ("Not to be shared with the housing provider", "Share with Trafford Council ASB team only",
              "Not to be disclosed to the subject's school")


def _fmt_sqlite(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


class Generator:
    """Every random choice comes from one Random(SEED): the same data every run, on both backends."""

    def __init__(self, beats: list[tuple[int, str, str]], schools: dict[int, list[tuple[int, str, float, float]]],
                 officers: dict[int, list[int]], supervisors: list[int], now: datetime, dialect: str):
        self.rng = random.Random(SEED)
        self.now = now
        self.dialect = dialect
        self.beats = beats  # (id, code, name)
        self.officers = officers  # beat id -> PCSO ids
        self.supervisors = supervisors
        self.schools = schools
        rng = self.rng
        self.points: dict[int, list[tuple[str, float, float]]] = {b[0]: [] for b in beats}
        by_code = {code: beat_id for beat_id, code, _ in beats}
        with open(DATA / "trafford_postcodes.csv", newline="", encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                if row["ward_code"] in by_code:
                    self.points[by_code[row["ward_code"]]].append((row["postcode"], float(row["lat"]), float(row["lon"])))
        self.streets = {}
        self.places = {}
        for beat_id, _, name in beats:
            own = list(STREETS.get(name, ()))
            made = {f"{rng.choice(STREET_ROOTS)} {rng.choice(STREET_KINDS)}" for _ in range(60)}
            self.streets[beat_id] = own + sorted(made - set(own))[:40]
            self.places[beat_id] = list(PLACES.get(name, ())) + [f"{rng.choice(STREET_ROOTS)} Park",
                                                                  f"{rng.choice(STREET_ROOTS)} shops",
                                                                  f"{name} tram stop", "the precinct"]
        surnames = sorted({f"{h}{t}" for h in SURNAME_HEADS for t in SURNAME_TAILS})
        self.first = [name for group in NAME_GROUPS for name in group[1] + group[2]]
        self.surnames = [name for group in NAME_GROUPS for name in group[3]] + surnames
        self.person_id = 0
        self.vehicle_id = 0
        self.link_id = 0
        self.known_people: dict[int, list[tuple[int, str]]] = {b[0]: [] for b in beats}
        self.known_vehicles: dict[int, list[tuple[int, str, str]]] = {b[0]: [] for b in beats}
        self.vrms: set[str] = set()
        self.children: list[tuple[int, str, int, int]] = []  # person id, name, beat id, spoc id
        self.start = now - timedelta(days=365 * YEARS)

    # -- small pieces --

    def when(self, index: int) -> datetime:
        """Entry `index` of N: time runs forward with the id, with a little jitter."""
        span = (self.now - self.start).total_seconds()
        return self.start + timedelta(seconds=span * (index + self.rng.random()) / N_ENTRIES)

    def name(self) -> str:
        return f"{self.rng.choice(self.first)} {self.rng.choice(self.surnames)}"

    def words(self, beat_id: int) -> dict[str, str]:
        street, street2 = self.rng.sample(self.streets[beat_id], 2)
        return {"street": street, "street2": street2, "place": self.rng.choice(self.places[beat_id]),
                "n": str(self.rng.randint(2, 180)), "k": str(self.rng.randint(3, 9)), "hour": str(self.rng.randint(7, 11))}

    def details(self, words: dict[str, str], most: int = 3) -> str:
        return " ".join(self.rng.choice(DETAILS).format(**words) for _ in range(self.rng.randint(0, most)))

    def spot(self, beat_id: int, words: dict[str, str]) -> tuple[float, float, str]:
        postcode, lat, lon = self.rng.choice(self.points[beat_id])
        lat += self.rng.uniform(-0.0008, 0.0008)
        lon += self.rng.uniform(-0.0012, 0.0012)
        text = self.rng.choice(NEAR_TEMPLATES).format(**words)
        return round(lat, 6), round(lon, 6), f"{text} ({postcode})"[:200]

    def person(self, beat_id: int, rows: dict, name: str | None = None) -> tuple[int, str]:
        known = self.known_people[beat_id]
        if name is None and known and self.rng.random() < 0.3:  # the same faces come round again
            return self.rng.choice(known)
        self.person_id += 1
        name = name or self.name()
        born = None
        if self.rng.random() < 0.4:
            born = date(self.rng.randint(1950, 2010), self.rng.randint(1, 12), self.rng.randint(1, 28))
        aliases = [self.rng.choice(self.first)] if self.rng.random() < 0.03 else []
        key = name.lower()
        rows["person"].append((self.person_id, name, key, json.dumps(aliases), born, self.ts(self.start),
                               review_due(self.start, "person")))
        known.append((self.person_id, name))
        if len(known) > 3000:
            del known[:1000]
        return self.person_id, name

    def vrm(self) -> str:
        while True:
            vrm = (self.rng.choice(VRM_AREAS) + self.rng.choice(VRM_AGES)
                   + "".join(self.rng.choice(VRM_LETTERS) for _ in range(3)))
            if vrm not in self.vrms:
                self.vrms.add(vrm)
                return vrm

    def vehicle(self, beat_id: int, rows: dict) -> tuple[int, str, str]:
        known = self.known_vehicles[beat_id]
        if known and self.rng.random() < 0.4:
            return self.rng.choice(known)
        self.vehicle_id += 1
        seen = self.rng.choice(VEHICLES)
        colour, make, *model = seen.split(",")[0].split()
        vrm = self.vrm()
        rows["vehicle"].append((self.vehicle_id, vrm, make, " ".join(model) or None, colour, self.ts(self.start),
                                review_due(self.start, "vehicle")))
        known.append((self.vehicle_id, vrm, seen))
        if len(known) > 1500:
            del known[:500]
        return self.vehicle_id, vrm, seen

    def link(self, rows: dict, entry_id: int, *, person=None, vehicle=None, role: str, note=None, position=0):
        self.link_id += 1
        rows["link"].append((self.link_id, entry_id, person, vehicle, role, note, position, rows["_created"]))

    def ts(self, moment: datetime):
        return _fmt_sqlite(moment) if self.dialect == "sqlite" else moment

    # -- a chunk of entries --

    def chunk(self, first_id: int, count: int) -> dict[str, list]:
        rows = {name: [] for name in ("entry", "patrol", "asb_incident", "school_visit", "welfare_check",
                                      "intelligence_report", "person", "vehicle", "link", "search_document")}
        kinds = list(SHARE)
        weights = list(SHARE.values())
        for entry_id in range(first_id, first_id + count):
            kind = self.rng.choices(kinds, weights)[0]
            when = self.when(entry_id - 1)
            rows["_created"] = self.ts(when)
            getattr(self, "_" + kind)(rows, entry_id, when)
        del rows["_created"]
        return rows

    def _entry(self, rows, entry_id, kind, when, beat_id, author, summary, lat, lon, location_text, *,
               marking="OFFICIAL", source="postcode"):
        status = "draft" if self.rng.random() < 0.02 else "submitted"
        recorded = when + timedelta(minutes=self.rng.randint(2, 180))
        rows["entry"].append((
            entry_id, kind, author, beat_id, beat_id, False, self.ts(when), self.ts(recorded), self.ts(recorded),
            self.ts(recorded) if status == "submitted" else None, lat, lon, None, source, location_text,
            summary[:200], status, marking, f"bench-{entry_id}", review_due(when, "entry", kind, marking)))

    def _author(self, beat_id: int) -> int:
        if self.rng.random() < 0.06:
            return self.rng.choice(self.supervisors)
        return self.rng.choice(self.officers[beat_id])

    def _document(self, rows, entry_id, parts):
        rows["search_document"].append(
            (entry_id, "\n".join(str(p).strip() for p in parts if p is not None and str(p).strip())))

    def _patrol(self, rows, entry_id, when):
        beat_id = self.rng.choice(self.beats)[0]
        words = self.words(beat_id)
        lat, lon, where = self.spot(beat_id, words)
        purpose = self.rng.choice(PATROL_PURPOSES).format(**words)
        notes = (self.rng.choice(PATROL_NOTES).format(**words) + " " + self.details(words, 2)).strip()
        mode = self.rng.choices(("foot", "cycle", "vehicle"), (6, 3, 1))[0]
        summary = f"{mode.title()} patrol: {purpose}"
        self._entry(rows, entry_id, "patrol", when, beat_id, self._author(beat_id), summary, lat, lon, where)
        rows["patrol"].append((entry_id, self.ts(when), self.ts(when + timedelta(minutes=self.rng.randint(30, 240))),
                               mode, purpose[:200], notes))
        self._document(rows, entry_id, [summary, purpose, notes, where])

    def _asb_incident(self, rows, entry_id, when):
        beat_id = self.rng.choice(self.beats)[0]
        words = self.words(beat_id)
        kind = self.rng.choice(ASB_KINDS)
        lat, lon, where = self.spot(beat_id, words)
        summary = kind.summary.format(**words)
        description = (kind.description.format(**words) + " " + self.details(words)).strip()
        action = self.rng.choice(kind.actions)
        ref = f"GMP-{to_london(when):%Y%m%d}-{self.rng.randint(1, 2400):04d}" if self.rng.random() < 0.6 else None
        marking = "OFFICIAL-SENSITIVE" if self.rng.random() < 0.05 else "OFFICIAL"
        self._entry(rows, entry_id, "asb_incident", when, beat_id, self._author(beat_id), summary, lat, lon, where,
                    marking=marking)
        risk = self.rng.choice(("low", "medium", "high")) if kind.category == NsirCategory.PERSONAL else None
        rows["asb_incident"].append((entry_id, kind.category.value, kind.asb_type.value, description, action, ref, risk))
        parts = [summary, kind.asb_type.value.replace("_", " "), description, action, ref, where]
        roles = (["victim"] if kind.category == NsirCategory.PERSONAL else []) + ["reporter", "witness"]
        if kind.suspects:
            roles.append("suspect")
        for position in range(self.rng.choices((0, 1, 2, 3), (2, 4, 3, 2))[0]):
            role = roles[position % len(roles)]
            note = self.rng.choice(SUSPECTS[kind.suspects])[1] if role == "suspect" and kind.suspects else None
            person_id, name = self.person(beat_id, rows)
            self.link(rows, entry_id, person=person_id, role=role, note=note, position=position)
            parts += [name, note]
        vehicles = 0
        if kind.asb_type in (AsbType.ABANDONED_VEHICLE, AsbType.VEHICLE_NUISANCE, AsbType.SOLVENT_MISUSE):
            vehicles = self.rng.randint(1, 2)
        elif self.rng.random() < 0.1:
            vehicles = 1
        seen_ids = set()
        for position in range(vehicles):
            vehicle_id, vrm, seen = self.vehicle(beat_id, rows)
            if vehicle_id in seen_ids:
                continue
            seen_ids.add(vehicle_id)
            self.link(rows, entry_id, vehicle=vehicle_id, role="mentioned", note=seen, position=100 + position)
            colour, make, *model = seen.split(",")[0].split()
            parts += [vrm, colour, make, " ".join(model) or None, seen]
        self._document(rows, entry_id, parts)

    def _school_visit(self, rows, entry_id, when):
        beat_id = self.rng.choice([b for b in self.schools if self.schools[b]])
        school_id, school_name, lat, lon = self.rng.choice(self.schools[beat_id])
        phase = "primary" if "primary" in school_name.lower() or "infant" in school_name.lower() else "secondary"
        topic, visit_type, _ = self.rng.choice(SCHOOL_TOPICS[phase])
        follow_ups = self.rng.choice(SCHOOL_FOLLOW_UPS) if self.rng.random() < 0.45 else None
        summary = f"{topic} at {school_name}"
        self._entry(rows, entry_id, "school_visit", when, beat_id, self._author(beat_id), summary, lat, lon,
                    school_name[:200], source="school")
        rows["school_visit"].append((entry_id, school_id, visit_type.value, topic, "Y7, Y8", self.rng.randint(8, 300),
                                     follow_ups))
        self._document(rows, entry_id, [summary, school_name, topic, "Y7, Y8", follow_ups, school_name])

    def _welfare_check(self, rows, entry_id, when):
        if not self.children or (len(self.children) < 2000 and self.rng.random() < 0.05):
            beat_id = self.rng.choice(self.beats)[0]
            spoc = self.rng.choice(self.officers[beat_id])
            person_id, name = self.person(beat_id, rows, name=self.name())
            self.children.append((person_id, name, beat_id, spoc))
        person_id, name, beat_id, spoc = self.rng.choice(self.children)
        words = self.words(beat_id)
        lat, lon, where = self.spot(beat_id, words)
        profile = self.rng.choice(list(CHILD_WORDS))
        child_words = self.rng.choice(CHILD_WORDS[profile])
        observations = (self.rng.choice(OBSERVATIONS[profile]) + " " + self.details(words, 1)).strip()
        summary = f"Welfare visit: {name}"
        self._entry(rows, entry_id, "welfare_check", when, beat_id, spoc, summary, lat, lon, where,
                    marking="OFFICIAL-SENSITIVE")
        rows["welfare_check"].append((entry_id, spoc, "planned", True, None, child_words, observations, "[]",
                                      self.rng.choice(("low", "medium", "high")), False, False, None, False, None))
        self.link(rows, entry_id, person=person_id, role="subject")
        self._document(rows, entry_id, [summary, child_words, observations, where, name])

    def _intelligence_report(self, rows, entry_id, when):
        beat_id = self.rng.choice(self.beats)[0]
        words = self.words(beat_id)
        lat, lon, where = self.spot(beat_id, words)
        person_id, name = self.person(beat_id, rows)
        vehicle_id, vrm, seen = self.vehicle(beat_id, rows)
        summary, text = self.rng.choice(INTEL)
        fill = {**words, "name": name, "vrm": vrm, "vehicle": seen.split(",")[0]}
        summary, text = summary.format(**fill), (text.format(**fill) + " " + self.details(words, 1)).strip()
        evaluation = self.rng.choices("123", (3, 6, 1))[0]
        assessment = self.rng.choices("ABCDE", (3, 4, 3, 1, 1))[0]
        handling = self.rng.choices("PC", (8, 2))[0]
        marking = "OFFICIAL" if handling == "P" and self.rng.random() < 0.2 else "OFFICIAL-SENSITIVE"
        self._entry(rows, entry_id, "intelligence_report", when, beat_id, self._author(beat_id), summary, lat, lon,
                    where, marking=marking)
        rows["intelligence_report"].append((entry_id, evaluation, assessment, handling,
                                            self.rng.choice(CONDITIONS) if handling == "C" else None, text,
                                            self.rng.choice(SOURCES), None))
        self.link(rows, entry_id, person=person_id, role="subject", position=0)
        parts = [summary, text, where, name]
        if "{vrm}" in summary or vrm in text:
            self.link(rows, entry_id, vehicle=vehicle_id, role="mentioned", position=100)
            colour, make, *model = seen.split(",")[0].split()
            parts += [vrm, colour, make, " ".join(model) or None]
        self._document(rows, entry_id, parts)


RULES = load_rules()


def review_due(moment: datetime, record: str, kind: str | None = None, marking: str | None = None) -> date:
    """MoPI review date from the default rules (pcso/retention), without the app's later-link bumps."""
    rule = (RULES.rule_for("entry", kind=EntryKind(kind), marking=SecurityMarking(marking)) if record == "entry"
            else RULES.rule_for(record))
    return add_years(to_london(moment).date(), rule.review_years)


COLUMNS = {
    "entry": ("id", "kind", "author_id", "beat_id", "located_beat_id", "is_beat_overridden", "occurred_at",
              "recorded_at", "updated_at", "submitted_at", "lat", "lon", "accuracy_m", "location_source",
              "location_text", "summary", "status", "marking", "client_key", "review_due"),
    "patrol": ("id", "started_at", "ended_at", "mode", "purpose", "notes"),
    "asb_incident": ("id", "nsir_category", "asb_type", "description", "action_taken", "control_room_ref",
                     "victim_risk"),
    "school_visit": ("id", "school_id", "visit_type", "topic", "year_groups", "audience_size", "follow_ups"),
    "welfare_check": ("id", "spoc_id", "visit_type", "is_seen_alone", "others_present", "child_words", "observations",
                      "indicators", "risk_level", "is_intelligence_raised", "is_mash_referral", "mash_reference",
                      "is_partner_informed", "next_visit_on"),
    "intelligence_report": ("id", "source_evaluation", "assessment", "handling_code", "handling_conditions",
                            "sanitised_text", "source_details", "raised_from_id"),
    "person": ("id", "full_name", "name_key", "aliases", "born_on", "created_at", "review_due"),
    "vehicle": ("id", "vrm", "make", "model", "colour", "created_at", "review_due"),
    "link": ("id", "entry_id", "person_id", "vehicle_id", "role", "note", "position", "created_at"),
    "search_document": ("entry_id", "body"),
}
ORDER = ("person", "vehicle", "entry", "patrol", "asb_incident", "school_visit", "welfare_check",
         "intelligence_report", "link", "search_document")


# --- the database ---------------------------------------------------------------------------------------

def make_app(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" + "x" * 40, "TESTING": True,
                       "RATELIMIT_ENABLED": False, "TOTP_REQUIRED_ROLES": ()})


def prepare(app, dialect: str) -> None:
    from flask_migrate import upgrade

    from pcso.beats.services import import_beats
    from pcso.boundaries import parse_boundaries
    from pcso.schools.services import import_schools

    with app.app_context():
        upgrade()
        shapes = parse_boundaries((DATA / "trafford_ward_2023_generalised.geojson").read_text(),
                                  code_property="area_code", name_property="area_name")
        import_beats(shapes, district="Trafford")
        import_schools((DATA / "trafford_schools_and_colleges.csv").read_text(encoding="utf-8-sig"))
        db.session.commit()
        beats = db.session.execute(sa.text("SELECT id FROM beat ORDER BY id")).scalars().all()
        hashed = User(collar_number="x", display_name="x", role=Role.PCSO)
        hashed.set_password("bench-password-not-used")
        now = datetime.now(timezone.utc)
        users = []
        number = 0
        for beat_id in beats:
            for _ in range(6):
                number += 1
                users.append((f"PB{number:04d}", f"Bench PCSO {number}", "pcso", [beat_id]))
        for i in range(12):
            users.append((f"SB{i:03d}", f"Bench Sergeant {i}", "supervisor", beats[i::12]))
        users += [(f"AB{i:03d}", f"Bench Analyst {i}", "analyst", []) for i in range(6)]
        users += [(f"LB{i:03d}", f"Bench Safeguarding {i}", "safeguarding", []) for i in range(4)]
        table = User.__table__
        for collar, name, role, user_beats in users:
            user_id = db.session.execute(table.insert().values(
                collar_number=collar, display_name=name, role=role, password_hash=hashed.password_hash,
                is_enabled=True, created_at=now, password_changed_at=now).returning(table.c.id)).scalar_one()
            for beat_id in user_beats:
                db.session.execute(sa.text("INSERT INTO beat_assignment (user_id, beat_id) VALUES (:u, :b)"),
                                   {"u": user_id, "b": beat_id})
        db.session.commit()


def generator_for(app, dialect: str) -> Generator:
    with app.app_context():
        beats = [tuple(row) for row in db.session.execute(sa.text("SELECT id, code, name FROM beat ORDER BY id"))]
        officers: dict[int, list[int]] = {}
        for user_id, beat_id in db.session.execute(sa.text(
                "SELECT u.id, a.beat_id FROM \"user\" u JOIN beat_assignment a ON a.user_id = u.id "
                "WHERE u.role = 'pcso' ORDER BY u.id")):
            officers.setdefault(beat_id, []).append(user_id)
        supervisors = db.session.execute(sa.text(
            "SELECT id FROM \"user\" WHERE role = 'supervisor' ORDER BY id")).scalars().all()
        schools: dict[int, list] = {}
        for school_id, name, lat, lon, beat_id in db.session.execute(sa.text(
                "SELECT id, name, lat, lon, beat_id FROM school WHERE beat_id IS NOT NULL AND lat IS NOT NULL "
                "ORDER BY id")):
            schools.setdefault(beat_id, []).append((school_id, name, lat, lon))
    anchor = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    return Generator(beats, schools, officers, supervisors, anchor, dialect)


def load_sqlite(app, generator: Generator) -> None:
    with app.app_context():
        raw = db.engine.raw_connection()
    conn = raw.driver_connection
    conn.isolation_level = None
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")
    conn.execute("PRAGMA foreign_keys=OFF")
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
                            "('search_document', 'person', 'vehicle')").fetchall()
    for name, _ in triggers:  # the index is built once at the end: faster than row by row
        conn.execute(f"DROP TRIGGER {name}")
    started = time.perf_counter()
    for first in range(1, N_ENTRIES + 1, CHUNK):
        rows = generator.chunk(first, min(CHUNK, N_ENTRIES - first + 1))
        conn.execute("BEGIN")
        for table in ORDER:
            columns = COLUMNS[table]
            sql = (f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})')
            if table == "person":
                sql = ("INSERT INTO person (id, full_name, name_key, aliases, born_on, created_at, review_due, "
                       "warning_markers) VALUES (?, ?, ?, ?, ?, ?, ?, '[]')")
            conn.executemany(sql, [tuple(v.isoformat() if isinstance(v, date) else v for v in row)
                                   for row in rows[table]])
        conn.execute("COMMIT")
        progress(first, started)
    print(f"\n  rows loaded in {time.perf_counter() - started:.0f} s; building the FTS5 index...", flush=True)
    t = time.perf_counter()
    for fts in ("search_fts", "person_fts", "vehicle_fts"):
        conn.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
    for _, sql in triggers:
        conn.execute(sql)
    print(f"  FTS5 rebuild {time.perf_counter() - t:.0f} s; ANALYZE...", flush=True)
    t = time.perf_counter()
    conn.execute("ANALYZE")
    conn.execute("PRAGMA foreign_keys=ON")
    print(f"  ANALYZE {time.perf_counter() - t:.0f} s", flush=True)
    raw.close()


PG_DEFERRED_INDEXES = ("ix_search_document_body_tsv", "ix_person_name_key_trgm", "ix_person_aliases_trgm",
                       "ix_vehicle_vrm_trgm")


def load_postgres(app, generator: Generator) -> None:
    with app.app_context():
        raw = db.engine.raw_connection()
    conn = raw.driver_connection
    conn.autocommit = True
    saved = {name: sql for name, sql in conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)", [list(PG_DEFERRED_INDEXES)])}
    for name in saved:
        conn.execute(f"DROP INDEX {name}")
    conn.execute("SET session_replication_role = replica")  # no FK triggers during the load
    started = time.perf_counter()
    for first in range(1, N_ENTRIES + 1, CHUNK):
        rows = generator.chunk(first, min(CHUNK, N_ENTRIES - first + 1))
        with conn.transaction():
            with conn.cursor() as cur:
                for table in ORDER:
                    columns = COLUMNS[table] + (("warning_markers",) if table == "person" else ())
                    with cur.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
                        for row in rows[table]:
                            copy.write_row(row + ("[]",) if table == "person" else row)
        progress(first, started)
    conn.execute("SET session_replication_role = DEFAULT")
    print(f"\n  rows loaded in {time.perf_counter() - started:.0f} s; building indexes...", flush=True)
    t = time.perf_counter()
    conn.execute("SET maintenance_work_mem = '1GB'")
    for name, sql in saved.items():
        conn.execute(sql)
    for table in ("entry", "person", "vehicle", "link"):
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    conn.execute("VACUUM ANALYZE")
    print(f"  indexes, VACUUM ANALYZE {time.perf_counter() - t:.0f} s", flush=True)
    raw.close()


def progress(first: int, started: float) -> None:
    done = min(first + CHUNK - 1, N_ENTRIES)
    rate = done / (time.perf_counter() - started)
    print(f"\r  {done:>9,} / {N_ENTRIES:,} entries  ({rate:,.0f}/s, {(N_ENTRIES - done) / rate:,.0f} s to go)   ",
          end="", flush=True)


def existing_entries(app) -> int:
    with app.app_context():
        try:
            return db.session.scalar(sa.text("SELECT count(*) FROM entry")) or 0
        except sa.exc.DBAPIError:
            db.session.rollback()
            return 0


# --- the measurements -------------------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def bare_statement(dialect: str) -> sa.TextClause:
    if dialect == "postgresql":
        # body_tsv is to_tsvector('english', body), stored by PostgreSQL (the app's index, migration 0004)
        return sa.text("SELECT entry_id FROM search_document, plainto_tsquery('english', :q) query "
                       "WHERE body_tsv @@ query ORDER BY ts_rank_cd(body_tsv, query) DESC LIMIT 25")
    return sa.text("SELECT rowid FROM search_fts WHERE search_fts MATCH :q ORDER BY rank LIMIT 25")


def measure(app, dialect: str) -> None:
    rng = random.Random(7)
    with app.app_context():
        analyst = db.session.scalar(sa.select(User).where(User.role == Role.ANALYST).order_by(User.id))
        pcso = db.session.scalar(sa.select(User).where(User.role == Role.PCSO).order_by(User.id))
        analyst_id, pcso_id = analyst.id, pcso.id
        beats = db.session.execute(sa.text("SELECT id FROM beat")).scalars().all()
        vrms = db.session.execute(sa.text("SELECT vrm FROM vehicle ORDER BY id LIMIT 5000")).scalars().all()
        names = db.session.execute(sa.text("SELECT full_name FROM person ORDER BY id LIMIT 5000")).scalars().all()
        newest = db.session.scalar(sa.text("SELECT max(occurred_at) FROM entry"))
        db.session.remove()
    if isinstance(newest, str):
        newest = datetime.fromisoformat(newest)
    last_day = to_london(newest.replace(tzinfo=newest.tzinfo or timezone.utc)).date()
    with open(DATA / "trafford_postcodes.csv", newline="", encoding="utf-8-sig") as handle:
        postcodes = [(row["postcode"], float(row["lat"]), float(row["lon"])) for row in csv.DictReader(handle)]
    words = ["precinct", "balaclava", "nitrous", "catalytic converter", "trainers", "cannabis", "fly-tipping",
             "e-scooter", "knife", "Ashworth", "Kenyon", "Seymour Grove", "Chester Road", "tram stop", "graffiti",
             "doughnuts", "shouting neighbours", "off-road bike", "cash phones", "Moss Lane"]

    def window():
        end = last_day - timedelta(days=rng.randint(0, 365 * YEARS - 28))
        return end - timedelta(days=27), end

    def near():
        postcode, lat, lon = rng.choice(postcodes)
        return {"near": (lat, lon), "near_postcode": postcode, "radius_m": 500}

    shapes = {
        "text only": lambda: {"text": rng.choice(words)},
        "text + beat + 28 days": lambda: dict(zip(("date_from", "date_to"), window()),
                                               text=rng.choice(words), beat_id=rng.choice(beats)),
        "partial VRM (4 chars)": lambda: {"vrm": rng.choice(vrms)[:4]},
        "person name": lambda: {"person": rng.choice(names)},
        "near a postcode, 500 m": near,
        "text + near 500 m": lambda: {**near(), "text": rng.choice(words)},
    }
    print(f"\nMeasuring {RUNS} runs of each query as an analyst (app) and the bare full-text query...\n", flush=True)
    results = []
    with app.app_context():
        engine = db.engine
        bare = bare_statement(dialect)
        for label, make_terms in shapes.items():
            rng.seed(zlib.crc32(label.encode()))
            app_times, bare_times, totals = [], [], []
            for run in range(RUNS + 5):
                terms = make_terms()
                query = SearchQuery(**terms)
                user = db.session.get(User, analyst_id)
                started = time.perf_counter()
                page = search(user, query)
                elapsed = time.perf_counter() - started
                db.session.rollback()
                db.session.remove()
                if "text" in terms:
                    q = " ".join(f'"{w}"' for w, _ in query.terms) if dialect == "sqlite" else terms["text"]
                    with engine.connect() as conn:
                        started = time.perf_counter()
                        conn.execute(bare, {"q": q}).all()
                        bare_elapsed = time.perf_counter() - started
                        conn.rollback()
                if run >= 5:  # the first few warm the caches
                    app_times.append(elapsed * 1000)
                    totals.append(page.total)
                    if "text" in terms:
                        bare_times.append(bare_elapsed * 1000)
            results.append((label, statistics.mean(totals), app_times, bare_times))
            print(f"  {label}: done", flush=True)
        pcso_times = []
        for run in range(RUNS):
            terms = shapes["text + beat + 28 days"]()
            user = db.session.get(User, pcso_id)
            started = time.perf_counter()
            search(user, SearchQuery(**terms))
            pcso_times.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
            db.session.remove()
        results.append(("text + beat + 28 days, as a PCSO", None, pcso_times, []))
        plans = {}
        user = db.session.get(User, analyst_id)
        d_from, d_to = window()
        for label, terms in (("text only", {"text": "precinct"}),
                             ("text + beat + 28 days", {"text": "precinct", "beat_id": beats[0], "date_from": d_from,
                                                         "date_to": d_to}),
                             ("partial VRM", {"vrm": "MA12"}), ("near 500 m", near())):
            plans[label] = explain(user, SearchQuery(**terms))
        db.session.remove()

    print(f"\n{dialect}, {N_ENTRIES:,} entries, {RUNS} runs each (ms)\n")
    print("| query | results (mean) | app p50 | app p95 | bare FTS p50 | bare FTS p95 | app / bare (p50, p95) |")
    print("|---|---|---|---|---|---|---|")
    for label, total, app_times, bare_times in results:
        row = [label, f"{total:,.0f}" if total is not None else "", f"{percentile(app_times, 50):.1f}",
               f"{percentile(app_times, 95):.1f}"]
        if bare_times:
            row += [f"{percentile(bare_times, 50):.1f}", f"{percentile(bare_times, 95):.1f}",
                    f"{percentile(app_times, 50) / percentile(bare_times, 50):.2f}, "
                    f"{percentile(app_times, 95) / percentile(bare_times, 95):.2f}"]
        else:
            row += ["", "", ""]
        print("| " + " | ".join(row) + " |")
    for label, plan in plans.items():
        print(f"\nPlan, {label}:\n  " + "\n  ".join(plan))


def database() -> tuple[str, str]:
    """(URL, dialect) of the bench database: BENCH_DATABASE_URL, else BENCH_SQLITE_PATH."""
    if PG_URL:
        return normalise_database_url(PG_URL), "postgresql"
    return f"sqlite:///{SQLITE_PATH}", "sqlite"


def generate(url: str, dialect: str):
    """Empty the bench database and load N_ENTRIES generated entries into it; returns (app, generator)."""
    with make_app(url).app_context():
        db.engine.dispose()
    if dialect == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
    else:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    app = make_app(url)
    started = time.perf_counter()
    prepare(app, dialect)
    generator = generator_for(app, dialect)
    (load_sqlite if dialect == "sqlite" else load_postgres)(app, generator)
    print(f"Generated in {time.perf_counter() - started:.0f} s: {N_ENTRIES:,} entries, "
          f"{generator.person_id:,} people, {generator.vehicle_id:,} vehicles, {generator.link_id:,} links.",
          flush=True)
    if dialect == "sqlite":
        print(f"Database file: {SQLITE_PATH.stat().st_size / 1e9:.2f} GB")
    return app, generator


def main() -> None:
    url, dialect = database()
    app = make_app(url)
    have = existing_entries(app)
    if REUSE and have == N_ENTRIES:
        print(f"Reusing {have:,} entries in {url.split('@')[-1]}")
    else:
        print(f"Generating {N_ENTRIES:,} entries into {url.split('@')[-1]} ...", flush=True)
        app, _ = generate(url, dialect)
    measure(app, dialect)

if __name__ == "__main__":
    main()
