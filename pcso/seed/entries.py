"""Patrols, ASB incidents (with their repeat victims) and school visits."""
from __future__ import annotations

from datetime import datetime, timedelta

from ..models import (
    AsbIncident, AsbType, Beat, InvolvementRole, Link, LinkRole, LocationSource, NsirCategory, Patrol, PatrolMode,
    RiskLevel, School, SchoolVisit, SchoolVisitType, SecurityMarking, User,
)
from ..timeutil import from_london, to_london
from .builder import BuilderBase, Spot
from .words import (
    ASB_KINDS, PATROL_NOTES, PATROL_PURPOSES, SCHOOL_FOLLOW_UPS, SCHOOL_TOPICS, SECONDARY_GROUPS, VEHICLES, AsbKind,
)


class StreetEntries(BuilderBase):
    """What a PCSO logs on the beat day to day."""

    def _patrol(self) -> Patrol:
        author = self.supervisor if self.rng.random() < 0.06 else self._author()
        if author is self.supervisor:
            beat = self.rng.choice(list(self.beats_by_id.values()))
        else:
            beat = self._beat_for(author)
        mode = self.rng.choices(list(PatrolMode), weights=[6, 3, 1])[0]
        duration = timedelta(minutes=self.rng.randint(30, 240))
        for _ in range(10):  # one officer, one patrol at a time
            started = self._when((7, 22), minutes=int(duration.total_seconds() // 60))
            ended = started + duration
            if not any(p.started_at < ended and started < p.ended_at for p in self.patrols[author.id]):
                break
        words = self._words(beat)
        spot = self._spot(beat, words=words)
        purpose = self.rng.choice(PATROL_PURPOSES).format(**words)
        patrol = self._new(Patrol, author=author, spot=spot, occurred_at=started,
                           summary=f"{mode.label} patrol: {purpose}", started_at=started, ended_at=ended,
                           mode=mode, purpose=purpose[:200], notes=self.rng.choice(PATROL_NOTES).format(**words))
        patrol.recorded_at = started + timedelta(minutes=self.rng.randint(0, 3))
        patrol.revisions[0].at = patrol.recorded_at
        self.patrols[author.id].append(patrol)
        return patrol

    def _asb_incidents(self, n: int) -> list[AsbIncident]:
        incidents = self._repeat_victims(n)
        while len(incidents) < n:
            incidents.append(self._asb())
        return incidents

    def _asb_kind(self, when: datetime) -> AsbKind:
        local = to_london(when).date()
        bonfire = (local.month == 10 and local.day >= 15) or (local.month == 11 and local.day <= 12)
        weights = [(3.0 if bonfire else 0.3) if kind.asb_type == AsbType.FIREWORKS else 1.0 for kind in ASB_KINDS]
        return self.rng.choices(ASB_KINDS, weights=weights)[0]

    def _asb(self) -> AsbIncident:
        author = self._author()
        patrol = None
        if self.patrols[author.id] and self.rng.random() < 0.3:  # came across it on patrol
            patrol = self.rng.choice(self.patrols[author.id])
            minutes = int((patrol.ended_at - patrol.started_at).total_seconds() // 60)
            when = patrol.started_at + timedelta(minutes=self.rng.randint(5, max(5, minutes - 5)))
            beat = self.beats_by_id.get(patrol.beat_id) or self._beat_for(author)
        else:
            when, beat = self._when((8, 24)), self._beat_for(author)
        kind = self._asb_kind(when)
        incident = self._incident(author, beat, when, kind, self._words(beat), self._people(kind))
        if patrol is not None:
            incident.patrol_id = patrol.id
        return incident

    def _people(self, kind: AsbKind) -> list[tuple[str, InvolvementRole, str | None]]:
        """0-3 people; a personal incident always has its victim."""
        others = [InvolvementRole.REPORTER, InvolvementRole.WITNESS]
        if kind.suspects:
            others.append(InvolvementRole.SUSPECT)
        roles = ([InvolvementRole.VICTIM] if kind.category == NsirCategory.PERSONAL else []) + self.rng.sample(
            others, len(others))
        count = self.rng.choices([0, 1, 2, 3], weights=[2, 4, 3, 2])[0]
        people = []
        for role in roles[:max(count, 1 if kind.category == NsirCategory.PERSONAL else 0)]:
            people.append(self._suspect(kind) if role == InvolvementRole.SUSPECT else (self._name(), role, None))
        return people

    def _incident(self, author: User, beat: Beat, when: datetime, kind: AsbKind, words: dict[str, str],
                  people: list[tuple[str, InvolvementRole, str | None]], *, spot: Spot | None = None,
                  risk: RiskLevel | None = None) -> AsbIncident:
        spot = spot or self._spot(beat, words=words)
        has_victim = any(role == InvolvementRole.VICTIM for _, role, _ in people)
        if has_victim and risk is None:
            risk = self.rng.choices(list(RiskLevel), weights=[6, 3, 1])[0]
        vehicles = []
        if kind.asb_type in (AsbType.ABANDONED_VEHICLE, AsbType.VEHICLE_NUISANCE, AsbType.SOLVENT_MISUSE):
            count = 1 if kind.asb_type == AsbType.ABANDONED_VEHICLE else self.rng.randint(1, 2)
            vehicles = [self.rng.choice(self.vehicle_pool) if self.rng.random() < 0.5  # the usual suspects
                        else (self._vrm(), self.rng.choice(VEHICLES)) for _ in range(count)]
        elif self.rng.random() < 0.1:
            vehicles = [(self._vrm(), self.rng.choice(VEHICLES))]
        vehicles = list(dict.fromkeys(vehicles))
        ref = None
        if self.rng.random() < 0.6:  # called in through the control room
            ref = f"GMP-{to_london(when):%Y%m%d}-{self.rng.randint(1, 2400):04d}"
        incident = self._new(
            AsbIncident, author=author, spot=spot, occurred_at=when, summary=kind.summary.format(**words),
            nsir_category=kind.category, asb_type=kind.asb_type, description=kind.description.format(**words),
            action_taken=self.rng.choice(kind.actions), control_room_ref=ref, victim_risk=risk if has_victim else None,
            links=[Link(person=self._person(name), role=LinkRole(role.value), note=desc, position=i)
                   for i, (name, role, desc) in enumerate(people)]
            + [Link(vehicle=self._vehicle(vrm, seen), role=LinkRole.MENTIONED, note=seen, position=100 + i)
               for i, (vrm, seen) in enumerate(vehicles)],
        )
        if risk == RiskLevel.HIGH or self.rng.random() < 0.05:
            incident.marking = SecurityMarking.OFFICIAL_SENSITIVE
        self.summary.asb_people += len(people)
        self.summary.asb_vehicles += len(vehicles)
        return incident

    def _repeat_victims(self, budget: int) -> list[AsbIncident]:
        """A few victims targeted again and again at home: 3 to 5 incidents within 3 months."""
        personal = [kind for kind in ASB_KINDS if kind.category == NsirCategory.PERSONAL]
        incidents: list[AsbIncident] = []
        anchor_day = to_london(self.anchor).date()
        for _ in range(min(4, budget // 8)):
            author = self._author()
            beat = self._beat_for(author)
            home, victim = self.rng.choice(self.points[beat.id]), self._name()
            kind, words = self.rng.choice(personal), self._words(beat)
            suspect = self._suspect(kind) if kind.suspects else None
            count = self.rng.randint(3, 5)
            first = self.rng.randint(count, min(self.days - 1, 80))  # days before the anchor
            days_ago = sorted([first, *self.rng.sample(range(1, first), count - 1)], reverse=True)
            for i, ago in enumerate(days_ago):
                local = datetime.combine(anchor_day - timedelta(days=ago), datetime.min.time())
                when = min(from_london(local + timedelta(minutes=self.rng.randint(17 * 60, 23 * 60))),
                           self.anchor - timedelta(hours=1))
                people = [(victim, InvolvementRole.VICTIM, None)]
                if suspect and self.rng.random() < 0.6:
                    people.append(suspect)
                risk = (RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.MEDIUM, RiskLevel.HIGH, RiskLevel.HIGH)[i]
                spot = self._spot(beat, point=home, words=words)
                spot.text = f"Victim's home address, {words['street']} ({home.postcode})"
                incidents.append(self._incident(author, beat, when, kind, words, people, spot=spot, risk=risk))
            self.summary.repeat_victims += 1
        return incidents

    def _school_visit(self) -> SchoolVisit:
        author = self._author()
        beats = [b for b in self.beats_of[author.id] if self.schools[b.id]] or [
            b for b in self.beats_by_id.values() if self.schools[b.id]]
        beat = self.rng.choice(beats)
        school = self.rng.choice(self.schools[beat.id])
        phase, groups = _phase_and_groups(school)
        topic, visit_type, wanted = self.rng.choice(SCHOOL_TOPICS[phase])
        if wanted == "staff":
            year_groups, audience = "Staff", self.rng.randint(1, 4)
        elif wanted == "parents":
            year_groups, audience = "Parents", self.rng.randint(8, 40)
        else:
            pupils = [g for g in groups if g != "Nursery"] or groups
            if phase == "secondary":
                pupils = [g for g in pupils if g in SECONDARY_GROUPS] or pupils
            half = len(pupils) // 2
            choose_from = {"lower": pupils[:max(half, 1)], "upper": pupils[half:], "all": pupils}[wanted]
            size = min(len(choose_from), self.rng.randint(1, 3))
            start = self.rng.randint(0, len(choose_from) - size)
            year_groups = ", ".join(choose_from[start:start + size])
            audience = {SchoolVisitType.ASSEMBLY: self.rng.randint(90, 320), SchoolVisitType.TALK:
                        self.rng.randint(20, 65), SchoolVisitType.DROP_IN: self.rng.randint(8, 45)}.get(
                visit_type, self.rng.randint(1, 4))
        when = self._when((9, 15), weekdays_only=True)
        spot = Spot(beat, school.lat, school.lon, None, LocationSource.SCHOOL, school.name)
        follow_ups = self.rng.choice(SCHOOL_FOLLOW_UPS) if self.rng.random() < 0.45 else None
        return self._new(SchoolVisit, author=author, spot=spot, occurred_at=when,
                         summary=f"{topic} at {school.name}", school_id=school.id, visit_type=visit_type,
                         topic=topic, year_groups=year_groups, audience_size=audience, follow_ups=follow_ups)


def _phase_and_groups(school: School) -> tuple[str, list[str]]:
    """'primary' or 'secondary', and the year groups the school's age range covers."""
    try:
        low, high = (int(x) for x in (school.age_range or "").split("-"))
    except ValueError:
        low, high = 4, 11
    groups = (["Nursery"] if low <= 3 else []) + (["Reception"] if low <= 4 < high else [])
    groups += [f"Y{y}" for y in range(max(1, low - 4), min(13, high - 5) + 1)]
    if not groups:
        groups = ["Y12", "Y13"]
    phase = "secondary" if high > 11 else "primary"
    return phase, groups
