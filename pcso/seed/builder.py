"""The demo builder's common part: the beats, places, names, times and the bare entry."""
from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import click
import sqlalchemy as sa

from ..beats.services import beat_index
from ..extensions import db
from ..models import (
    Beat, Entry, EntryRevision, EntryStatus, InvolvementRole, LocationSource, Patrol, Person, RiskLevel, Role,
    School, SecurityMarking, User, Vehicle, WelfareVisitType, name_key,
)
from ..postcodes import DEFAULT_POSTCODES_PATH, PostcodePoint, load_postcode_book
from ..timeutil import from_london, to_london
from .people import DEMO_USERS
from .summary import SeedSummary
from .words import (
    GENERIC_PLACES, GENERIC_STREETS, NAME_GROUPS, NEAR_TEMPLATES, PLACES, STREETS, SUSPECTS, VEHICLES, VRM_AGES,
    VRM_AREAS, VRM_LETTERS, AsbKind,
)


@dataclass
class Spot:
    """Where an entry happened."""

    beat: Beat
    lat: float
    lon: float
    accuracy_m: float | None
    source: LocationSource
    text: str


@dataclass
class Child:
    """A child on a SPOC's list and their visits: (days before the anchor, visit type)."""

    name: str
    born_on: date
    spoc: User
    beat: Beat
    home: PostcodePoint
    profile: str
    risk: RiskLevel
    visits: list[tuple[int, WelfareVisitType]] = field(default_factory=list)


class BuilderBase:
    """Makes the entries. Every random choice goes through self.rng, in a fixed order."""

    def __init__(self, rng: random.Random, anchor: datetime, days: int, users: dict[str, User],
                 summary: SeedSummary) -> None:
        self.rng, self.anchor, self.days, self.summary = rng, anchor, days, summary
        self.pcsos = [users[d.collar_number] for d in DEMO_USERS if d.role == Role.PCSO]
        self.supervisor = next(users[d.collar_number] for d in DEMO_USERS if d.role == Role.SUPERVISOR)
        self.beats_of = {}  # each PCSO's beats, in the order DEMO_USERS names them
        for demo in DEMO_USERS:
            if demo.role == Role.PCSO:
                user = users[demo.collar_number]
                self.beats_of[user.id] = sorted(user.beats, key=lambda b: demo.beat_names.index(b.name))
        self.index = beat_index()
        beats = [b for user in self.pcsos for b in self.beats_of[user.id]]
        self.beats_by_id = {b.id: b for b in beats}
        self.points = self._postcode_points(beats)
        self.hotspots = {b.id: rng.sample(self.points[b.id], min(3, len(self.points[b.id]))) for b in beats}
        self.schools = {b.id: list(db.session.scalars(
            sa.select(School).where(School.beat_id == b.id, School.lat.is_not(None)).order_by(School.urn)))
            for b in beats}
        self.patrols: dict[int, list[Patrol]] = {u.id: [] for u in [*self.pcsos, self.supervisor]}
        self.vehicle_pool = [(self._vrm(), rng.choice(VEHICLES)) for _ in range(6)]
        self.people: dict[tuple[str, date | None], Person] = {}  # in the demo, one name is one person
        self.vehicles: dict[str, Vehicle] = {}

    def _person(self, name: str, born_on: date | None = None) -> Person:
        person = self.people.get((name, born_on))
        if person is None:
            person = Person(full_name=name, name_key=name_key(name), born_on=born_on)
            self.people[(name, born_on)] = person
        return person

    def _vehicle(self, vrm: str, seen: str) -> Vehicle:
        vehicle = self.vehicles.get(vrm)
        if vehicle is None:
            colour, make, *model = seen.split(",")[0].split()
            vehicle = Vehicle(vrm=vrm, colour=colour, make=make, model=" ".join(model) or None)
            self.vehicles[vrm] = vehicle
        return vehicle

    # -- helpers --

    def _postcode_points(self, beats: list[Beat]) -> dict[int, list[PostcodePoint]]:
        """Postcode centroids of each beat's ward that the beat polygon really contains.

        The generalised ward outlines leave a few centroids just outside their own ward.
        """
        book = load_postcode_book(DEFAULT_POSTCODES_PATH)
        by_code = {b.code: b for b in beats}
        candidates = [p for p in book if p.ward_code in by_code]
        located = self.index.locate_many((p.lat, p.lon) for p in candidates)
        points: dict[int, list[PostcodePoint]] = {b.id: [] for b in beats}
        for point, beat_id in zip(candidates, located):
            if beat_id == by_code[point.ward_code].id:
                points[beat_id].append(point)
        empty = [b.name for b in beats if not points[b.id]]
        if empty:
            raise click.ClickException(f"no postcodes found inside beat(s): {', '.join(empty)}")
        return points

    def _key(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128)))

    def _name(self, gender: str | None = None) -> str:
        _, female, male, surnames = self.rng.choices(NAME_GROUPS, weights=[g[0] for g in NAME_GROUPS])[0]
        gender = gender or self.rng.choice("fm")
        return f"{self.rng.choice(female if gender == 'f' else male)} {self.rng.choice(surnames)}"

    def _suspect(self, kind: AsbKind) -> tuple[str, InvolvementRole, str]:
        gender, description = self.rng.choice(SUSPECTS[kind.suspects])
        return self._name(gender), InvolvementRole.SUSPECT, description

    def _vrm(self) -> str:
        letters = "".join(self.rng.choice(VRM_LETTERS) for _ in range(3))
        return f"{self.rng.choice(VRM_AREAS)}{self.rng.choice(VRM_AGES)}{letters}"

    def _words(self, beat: Beat) -> dict[str, str]:
        streets = STREETS.get(beat.name, GENERIC_STREETS)
        street, street2 = self.rng.sample(streets, 2)
        return {"street": street, "street2": street2, "place": self.rng.choice(PLACES.get(beat.name, GENERIC_PLACES)),
                "n": str(self.rng.randint(2, 180)), "k": str(self.rng.randint(3, 9))}

    def _spot(self, beat: Beat, point: PostcodePoint | None = None, words: dict[str, str] | None = None) -> Spot:
        """A point on `beat`: a postcode centroid (hotspots more often), or a GPS fix near one."""
        if point is None:
            pool = self.hotspots[beat.id] if self.rng.random() < 0.35 else self.points[beat.id]
            point = self.rng.choice(pool)
        words = words or self._words(beat)
        text = self.rng.choice(NEAR_TEMPLATES).format(**words)
        if self.rng.random() < 0.55:
            accuracy = round(self.rng.uniform(5, 60), 1)
            distance, bearing = self.rng.uniform(0, accuracy), self.rng.uniform(0, 2 * math.pi)
            lat = point.lat + distance * math.cos(bearing) / 111_320
            lon = point.lon + distance * math.sin(bearing) / (111_320 * math.cos(math.radians(point.lat)))
            if self.index.locate(lat, lon) == beat.id:
                return Spot(beat, round(lat, 6), round(lon, 6), accuracy, LocationSource.GPS, text)
        return Spot(beat, point.lat, point.lon, None, LocationSource.POSTCODE, f"{text} ({point.postcode})")

    def _when(self, hours: tuple[int, int], *, weekdays_only: bool = False, minutes: int = 0) -> datetime:
        """A London wall-clock time in `hours` on a day in the window, ending `minutes` before the anchor."""
        anchor_day = to_london(self.anchor).date()
        for _ in range(20):
            day = anchor_day - timedelta(days=self.rng.randint(0, self.days - 1))
            if weekdays_only and day.weekday() >= 5:
                continue
            local = datetime.combine(day, datetime.min.time()) + timedelta(
                minutes=self.rng.randint(hours[0] * 60, hours[1] * 60 - 1))
            when = from_london(local)
            if when + timedelta(minutes=minutes + 15) <= self.anchor:
                return when
        return self.anchor - timedelta(days=1, minutes=minutes + 15)

    def _new(self, cls, *, author: User, spot: Spot, occurred_at: datetime, summary: str, **fields) -> Entry:
        located = self.index.locate(spot.lat, spot.lon)
        beat_id = located if located is not None else spot.beat.id
        recorded = min(occurred_at + timedelta(minutes=self.rng.randint(2, 180)), self.anchor)
        entry = cls(
            author_id=author.id, client_key=self._key(), beat_id=beat_id, located_beat_id=located,
            is_beat_overridden=False, occurred_at=occurred_at, recorded_at=recorded, lat=spot.lat, lon=spot.lon,
            accuracy_m=spot.accuracy_m, location_source=spot.source, location_text=spot.text[:200],
            summary=summary[:200], status=EntryStatus.SUBMITTED, marking=SecurityMarking.OFFICIAL, **fields,
        )
        entry.revisions.append(EntryRevision(actor_id=author.id, action="created", changes={}, at=recorded))
        return entry

    def _author(self) -> User:
        return self.rng.choice(self.pcsos)

    def _beat_for(self, user: User) -> Beat:
        beats = self.beats_of.get(user.id) or list(self.beats_by_id.values())
        return self.rng.choices(beats, weights=[3, 2, 2][:len(beats)] + [1] * max(0, len(beats) - 3))[0]
