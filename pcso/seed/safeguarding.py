"""Welfare checks on the SPOCs' children, and graded intelligence reports (some raised from other entries)."""
from __future__ import annotations

from datetime import datetime, timedelta

from ..models import (
    AsbIncident, Entry, EntryKind, ExploitationIndicator, HandlingCode, IntelAssessment, IntelligenceReport, Link,
    LinkRole, LocationSource, Person, RiskLevel, SecurityMarking, SourceEvaluation, User, Vehicle, WelfareCheck,
    WelfareVisitType,
)
from ..timeutil import from_london, to_london
from .builder import BuilderBase, Child, Spot
from .summary import RAISED_SHARE
from .words import (
    CHILD_WORDS, CHILDREN, INTEL_CONDITIONS, INTEL_SOURCES, OBSERVATIONS, OTHERS_PRESENT, PERSON_INTEL,
    PROFILE_INDICATORS, VEHICLE_INTEL, VEHICLES, WELFARE_INTEL,
)


class Safeguarding(BuilderBase):
    """The sensitive entries: children at risk and intelligence."""

    _lowered_one = False  # set once a report has been lowered to OFFICIAL for the briefing

    def _welfare_checks(self, budget: int) -> list[WelfareCheck]:
        """Each child on a SPOC's list is seen roughly monthly, and again after a missing episode.

        Children join the lists in order while their visits fit the welfare share of the entries.
        """
        if budget <= 0:
            return []
        children = [self._child(*row) for row in CHILDREN]
        chosen, total = [], 0
        for child in children:
            if total + len(child.visits) <= budget:
                chosen.append(child)
                total += len(child.visits)
        if not chosen:
            children[0].visits = children[0].visits[:budget]
            chosen = [children[0]]
        self.summary.children = len(chosen)
        return [self._welfare_check(child, ago, visit_type) for child in chosen for ago, visit_type in child.visits]

    def _child(self, name: str, age: int, spoc_index: int, beat_index_: int, profile: str,
               risk: RiskLevel) -> Child:
        spoc = self.pcsos[spoc_index % len(self.pcsos)]
        beat = self.beats_of[spoc.id][beat_index_ % len(self.beats_of[spoc.id])]
        born_on = to_london(self.anchor).date() - timedelta(days=round(age * 365.25) + self.rng.randint(20, 340))
        child = Child(name, born_on, spoc, beat, self.rng.choice(self.points[beat.id]), profile, risk)
        ago = self.days - self.rng.randint(1, 28)
        while ago >= 1:
            child.visits.append((ago, WelfareVisitType.PLANNED))
            ago -= self.rng.randint(27, 33)
        extra = []
        if profile == "missing" or (risk == RiskLevel.HIGH and self.rng.random() < 0.6):
            extra.append(WelfareVisitType.AFTER_MISSING)
        if risk == RiskLevel.HIGH and self.rng.random() < 0.5:
            extra.append(WelfareVisitType.AD_HOC)
        for visit_type in extra:
            for _ in range(10):  # not within 3 days of another visit
                ago = self.rng.randint(1, self.days - 1)
                if all(abs(ago - other) > 3 for other, _ in child.visits):
                    child.visits.append((ago, visit_type))
                    break
        child.visits.sort(reverse=True)
        return child

    def _welfare_check(self, child: Child, ago: int, visit_type: WelfareVisitType) -> WelfareCheck:
        day = to_london(self.anchor).date() - timedelta(days=ago)
        schools = self.schools[child.beat.id]
        at_school = day.weekday() < 5 and schools and self.rng.random() < 0.15
        hours = (10, 15) if at_school else (15, 20)
        when = min(from_london(datetime.combine(day, datetime.min.time())
                               + timedelta(minutes=self.rng.randint(hours[0] * 60, hours[1] * 60 - 1))),
                   self.anchor - timedelta(hours=1))
        if at_school:
            school = self.rng.choice(schools)
            spot = Spot(child.beat, school.lat, school.lon, None, LocationSource.SCHOOL,
                         f"{school.name}, pastoral office")
            others = "Head of year present"
        else:
            spot = self._spot(child.beat, point=child.home)
            spot.text = "Home address (on file)"
            others = self.rng.choice(OTHERS_PRESENT)
        risk = RiskLevel.HIGH if visit_type == WelfareVisitType.AFTER_MISSING else child.risk
        if child.profile == "improving" and self.rng.random() < 0.2:
            risk = RiskLevel.MEDIUM
        pool = PROFILE_INDICATORS[child.profile]
        picked = set(self.rng.sample(pool, self.rng.randint(0 if risk == RiskLevel.LOW else 1, min(3, len(pool)))))
        if visit_type == WelfareVisitType.AFTER_MISSING:
            picked.add(ExploitationIndicator.MISSING_SINCE_LAST_VISIT)
        seen_alone = self.rng.random() < 0.45
        mash = risk == RiskLevel.HIGH and self.rng.random() < 0.5
        initials = "".join(part[0] for part in child.name.split())
        check = self._new(
            WelfareCheck, author=child.spoc, spot=spot, occurred_at=when,
            summary=f"{visit_type.label} SPOC visit: {initials}, risk {risk.value}",
            links=[Link(person=self._person(child.name, child.born_on), role=LinkRole.SUBJECT)],
            spoc_id=child.spoc.id, visit_type=visit_type,
            is_seen_alone=seen_alone, others_present=None if seen_alone else others,
            child_words=self.rng.choice(CHILD_WORDS[child.profile]),
            observations=self.rng.choice(OBSERVATIONS[child.profile]),
            indicators=[i.value for i in ExploitationIndicator if i in picked],  # in the standard order
            risk_level=risk, is_intelligence_raised=risk != RiskLevel.LOW and self.rng.random() < 0.4,
            is_mash_referral=mash, mash_reference=f"MASH-{day.year}-{self.rng.randint(1, 9999):04d}" if mash else None,
            is_partner_informed=risk != RiskLevel.LOW and self.rng.random() < 0.6,
            next_visit_on=day + timedelta(days=7 if visit_type == WelfareVisitType.AFTER_MISSING else 28),
        )
        check.marking = SecurityMarking.OFFICIAL_SENSITIVE  # always, as the entry service does
        return check

    # -- intelligence --

    def _intelligence_reports(self, n: int, incidents: list[AsbIncident], checks: list[WelfareCheck]
                              ) -> list[IntelligenceReport]:
        """Graded reports about the beat's faces and vehicles, reusing their records so links build associations.

        Some are raised from an ASB incident (its suspects and vehicles, never its victims or reporters) or
        from a welfare check (the child, an older associate, a car), as the "Raise intelligence report"
        button does.
        """
        if n <= 0:
            return []
        suspects: dict[int, list[Person]] = {}  # by author: the faces on their beats
        for incident in incidents:
            for link in incident.links:
                if link.role == LinkRole.SUSPECT and link.person not in suspects.setdefault(incident.author_id, []):
                    suspects[incident.author_id].append(link.person)
        raisable = [i for i in incidents if any(link.role == LinkRole.SUSPECT or link.vehicle for link in i.links)]
        at_risk = [c for c in checks if c.risk_level != RiskLevel.LOW]
        n_asb = min(len(raisable), round(n * RAISED_SHARE[EntryKind.ASB_INCIDENT]))
        n_welfare = min(len(at_risk), round(n * RAISED_SHARE[EntryKind.WELFARE_CHECK]), n - n_asb)
        reports = [self._intel_from_incident(i) for i in self.rng.sample(raisable, n_asb)]
        reports += [self._intel_from_check(c, suspects) for c in self.rng.sample(at_risk, n_welfare)]
        self.summary.intel_raised = len(reports)
        while len(reports) < n:
            reports.append(self._intel_on_the_beat(suspects))
        return reports

    def _face(self, suspects: dict[int, list[Person]], author: User, *, besides: Person | None = None) -> Person:
        """A suspect already seen on the author's beats, now and then someone new."""
        known = [p for p in suspects.get(author.id, []) if p is not besides]
        if known and self.rng.random() < 0.75:
            return self.rng.choice(known)
        return self._person(self._name("m" if self.rng.random() < 0.8 else "f"))

    def _pool_vehicle(self) -> Vehicle:
        """One of the usual suspects' cars, now and then a new one (no plateless bikes: intelligence names a VRM)."""
        cars = [(vrm, seen) for vrm, seen in self.vehicle_pool if "no plates" not in seen]
        if cars and self.rng.random() < 0.7:
            return self._vehicle(*self.rng.choice(cars))
        return self._vehicle(self._vrm(), self.rng.choice([v for v in VEHICLES if "no plates" not in v]))

    def _intel(self, author: User, spot: Spot, when: datetime, words: dict[str, str], template: tuple[str, ...],
               links: list[Link], *, sensitive: bool, raised_from: Entry | None = None) -> IntelligenceReport:
        summary, fact, opinion = (part.format(**words) for part in template)
        evaluation = self.rng.choices(list(SourceEvaluation), weights=[3, 6, 1])[0]
        assessment = self.rng.choices(list(IntelAssessment), weights=[4, 3, 3, 1, 0.3])[0]
        code = HandlingCode.CONDITIONS if self.rng.random() < 0.2 else HandlingCode.PERMITTED
        source = self.rng.choice(INTEL_SOURCES).format(**words) if self.rng.random() < 0.6 else None
        report = self._new(
            IntelligenceReport, author=author, spot=spot, occurred_at=when, summary=summary,
            source_evaluation=evaluation, assessment=assessment, handling_code=code,
            handling_conditions=self.rng.choice(INTEL_CONDITIONS) if code == HandlingCode.CONDITIONS else None,
            sanitised_text=f"{fact}\n\n{opinion}", source_details=source, links=links,
            raised_from_id=raised_from.id if raised_from is not None else None,
        )
        # OFFICIAL-SENSITIVE by default; now and then lowered for the beat's briefing (never with conditions,
        # never when it came from a welfare check or a sensitive incident).
        # The first that may be is always lowered, so the demo's briefing has one whatever the date.
        lowered = code == HandlingCode.PERMITTED and not sensitive and (
            self.rng.random() < 0.3 or not self._lowered_one)
        self._lowered_one = self._lowered_one or lowered
        report.marking = SecurityMarking.OFFICIAL if lowered else SecurityMarking.OFFICIAL_SENSITIVE
        return report

    def _later(self, when: datetime) -> datetime:
        return min(when + timedelta(minutes=self.rng.randint(0, 90)), self.anchor - timedelta(minutes=15))

    def _intel_from_incident(self, incident: AsbIncident) -> IntelligenceReport:
        author = next(u for u in self.pcsos if u.id == incident.author_id)
        beat = self.beats_by_id[incident.beat_id]
        words = self._words(beat)
        people = [link for link in incident.links if link.role == LinkRole.SUSPECT]
        cars = [link.vehicle for link in incident.links if link.vehicle is not None]
        vehicle = cars[0] if cars else None
        if people:
            words["name"] = people[0].person.full_name
            if len(people) > 1:
                words["associate"] = people[1].person.full_name
            template = self.rng.choice([t for t in PERSON_INTEL if len(people) > 1 or "{associate}" not in t[1]])
        else:
            template = self.rng.choice(VEHICLE_INTEL)
        if vehicle is not None:
            words |= {"vrm": vehicle.vrm, "vehicle": vehicle.summary or "A car"}
        links = [Link(person=link.person, role=LinkRole.SUSPECT, note=link.note, position=i)
                 for i, link in enumerate(people)]
        links += [Link(vehicle=car, role=LinkRole.MENTIONED, position=100 + i) for i, car in enumerate(cars)]
        spot = Spot(beat, incident.lat, incident.lon, incident.accuracy_m, incident.location_source,
                     incident.location_text or "")
        return self._intel(author, spot, self._later(incident.occurred_at), words, template, links,
                           sensitive=incident.marking == SecurityMarking.OFFICIAL_SENSITIVE, raised_from=incident)

    def _intel_from_check(self, check: WelfareCheck, suspects: dict[int, list[Person]]) -> IntelligenceReport:
        author = next(u for u in self.pcsos if u.id == check.author_id)
        beat = self.beats_by_id[check.beat_id]
        words = self._words(beat)
        associate, vehicle = self._face(suspects, author), self._pool_vehicle()
        words |= {"associate": associate.full_name, "vrm": vehicle.vrm, "vehicle": vehicle.summary or "A car"}
        child = next(link.person for link in check.links if link.role == LinkRole.SUBJECT)
        links = [Link(person=child, role=LinkRole.SUBJECT, position=0),
                 Link(person=associate, role=LinkRole.ASSOCIATE, note="Older associate", position=1),
                 Link(vehicle=vehicle, role=LinkRole.MENTIONED, position=100)]
        check.is_intelligence_raised = True
        spot = Spot(beat, check.lat, check.lon, check.accuracy_m, check.location_source, check.location_text or "")
        return self._intel(author, spot, self._later(check.occurred_at), words, self.rng.choice(WELFARE_INTEL),
                           links, sensitive=True, raised_from=check)

    def _intel_on_the_beat(self, suspects: dict[int, list[Person]]) -> IntelligenceReport:
        author = self._author()
        beat = self._beat_for(author)
        words = self._words(beat)
        links: list[Link] = []
        if self.rng.random() < 0.5:
            vehicle = self._pool_vehicle()
            words |= {"vrm": vehicle.vrm, "vehicle": vehicle.summary or "A car"}
            template = self.rng.choice(VEHICLE_INTEL)
            if self.rng.random() < 0.5:
                links.append(Link(person=self._face(suspects, author), role=LinkRole.ASSOCIATE, note="Driver",
                                  position=0))
        else:
            name = self._face(suspects, author)
            associate = self._face(suspects, author, besides=name)
            words |= {"name": name.full_name, "associate": associate.full_name}
            template = self.rng.choice(PERSON_INTEL)
            links += [Link(person=name, role=LinkRole.SUBJECT, position=0),
                      Link(person=associate, role=LinkRole.ASSOCIATE, position=1)]
            vehicle = self._pool_vehicle() if self.rng.random() < 0.4 else None
        if vehicle is not None:
            links.append(Link(vehicle=vehicle, role=LinkRole.MENTIONED, position=100))
        return self._intel(author, self._spot(beat, words=words), self._when((8, 23)), words, template, links,
                           sensitive=False)
