"""After the entries: drafts and submissions, the sergeant's review decisions, beat priorities and shifts."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from ..briefing.services import PriorityInput, end_shift, set_priority, start_shift
from ..entries.services import submit_entry
from ..extensions import db
from ..models import AsbIncident, BeatPriority, Entry, EntryStatus, IntelligenceReport, Patrol, RiskLevel, User
from ..review.services import approve, return_to_author
from ..risk.services import ReviewInput, latest_assessments, record_initial_assessments, record_risk_review, victims_of
from ..timeutil import from_london, to_london
from .builder import BuilderBase
from .words import PRIORITIES, RETURN_COMMENTS, RISK_OUTCOMES, STREETS


class Review(BuilderBase):
    """The history of the entries once written, through the real review and briefing services."""

    def _finish(self, entries: list[Entry]) -> None:
        """Recent entries are partly still drafts; the rest were submitted after recording."""
        by_time = sorted(entries, key=lambda e: e.occurred_at, reverse=True)
        recent = by_time[:max(1, round(len(entries) * 0.15))] if entries else []
        drafts = {id(e) for e in recent if self.rng.random() < 2 / 3}
        for entry in entries:
            done = entry.ended_at if isinstance(entry, Patrol) else entry.recorded_at
            if id(entry) in drafts:
                entry.status, entry.submitted_at = EntryStatus.DRAFT, None
                entry.updated_at = entry.recorded_at
            else:
                entry.status = EntryStatus.SUBMITTED
                entry.submitted_at = min(max(done, entry.recorded_at) + timedelta(minutes=self.rng.randint(5, 480)),
                                         self.anchor)
                entry.updated_at = entry.submitted_at
        db.session.add_all(entries)
        db.session.flush()  # the review services re-read each entry
        self._review(entries)
        self._risk_assessments([e for e in entries if isinstance(e, AsbIncident)])

    def _risk_assessments(self, incidents: list[AsbIncident]) -> None:
        """Each victim's initial assessment, through the risk services; then the sergeant's reviews of those at
        medium or high risk, each a few days after it fell due, most of them lowering the risk, until the
        latest is low or not yet due. About one in eight due reviews was missed: those victims are due now.

        Its own random numbers (seeded from the anchor), so the rest of the demo is the same with or without it.
        """
        rng = random.Random(f"risk-reviews-{self.anchor.isoformat()}")
        for incident in incidents:
            record_initial_assessments(incident, actor=incident.author)
            self.summary.risk_assessments += len(victims_of(incident)) if incident.victim_risk else 0
        submitted = [i for i in incidents if i.status != EntryStatus.DRAFT and i.victim_risk is not None]
        victims = {person.id: incident for incident in sorted(submitted, key=lambda i: i.occurred_at)
                   for person in victims_of(incident)}  # each victim's latest incident
        latest = latest_assessments(victims)
        for person_id, incident in sorted(victims.items()):
            assessment = latest.get(person_id)
            while assessment is not None and assessment.next_review_on is not None:
                day = assessment.next_review_on + timedelta(days=rng.randint(0, 4))
                at = from_london(datetime.combine(day, datetime.min.time()) + timedelta(hours=rng.randint(9, 16)))
                if at >= self.anchor or rng.random() < 0.125:
                    break  # not due yet, or missed: due now
                level = rng.choices([RiskLevel.LOW, assessment.level, RiskLevel.MEDIUM], weights=[5, 4, 1])[0]
                assessment = record_risk_review(incident, ReviewInput(person_id, level, rng.choice(RISK_OUTCOMES)),
                                                actor=self.supervisor, at=at)
                self.summary.risk_reviews += 1

    def _review(self, entries: list[Entry]) -> None:
        """The sergeant signed off most of what was submitted more than two days ago and sent a few back.

        Of those: 86% approved, 4% returned (half corrected and resubmitted since, half still with their
        author), the rest still waiting, so the queue has old items to flag as well as yesterday's.
        """
        cutoff = self.anchor - timedelta(days=2)
        authors = {user.id: user for user in self.pcsos}
        for entry in entries:
            if (entry.status != EntryStatus.SUBMITTED or entry.author_id == self.supervisor.id
                    or entry.submitted_at > cutoff):
                continue
            roll = self.rng.random()
            decided = min(entry.submitted_at + timedelta(hours=self.rng.randint(2, 40)), self.anchor)
            if roll < 0.86:
                approve(entry, actor=self.supervisor, grading=_grade_as_given(entry), at=decided)
                self.summary.reviewed["approved"] += 1
            elif roll < 0.90:
                return_to_author(entry, actor=self.supervisor, comment=self.rng.choice(RETURN_COMMENTS), at=decided)
                self.summary.reviewed["returned"] += 1
                if self.rng.random() < 0.5:  # corrected and resubmitted: back in the queue
                    resubmitted = min(decided + timedelta(hours=self.rng.randint(4, 30)), self.anchor)
                    self._resubmit(entry, authors[entry.author_id], resubmitted)

    def _resubmit(self, entry: Entry, author: User, at: datetime) -> None:
        """The author resubmits through the entry service, at the time the history says."""
        submit_entry(entry, actor=author, at=at)

    def priorities_and_shifts(self) -> None:
        """Two priorities per demo beat, set by the sergeant; each PCSO's last shift ended last night."""
        today = to_london(self.anchor).date()
        for user in self.pcsos:
            for beat in self.beats_of[user.id]:
                for issue, action in self.rng.sample(PRIORITIES, 2):
                    issued = today - timedelta(days=self.rng.randint(10, 60))
                    data = PriorityInput(issue=issue.format(street=self.rng.choice(STREETS[beat.name])),
                                         issue_date=issued, action=action,
                                         action_date=issued + timedelta(days=self.rng.randint(7, 40)))
                    set_priority(BeatPriority(beat_id=beat.id), data, actor=self.supervisor, at=self.anchor)
                    self.summary.priorities += 1
            started = self.anchor - timedelta(hours=self.rng.randint(20, 26))
            start_shift(user, at=started)
            end_shift(user, at=started + timedelta(hours=8))


def _grade_as_given(entry: Entry) -> dict | None:
    """The sergeant confirms an intelligence report's grade as the author gave it (nothing for other kinds)."""
    if not isinstance(entry, IntelligenceReport):
        return None
    return {"source_evaluation": entry.source_evaluation.value, "assessment": entry.assessment.value,
            "handling_code": entry.handling_code.value, "handling_conditions": entry.handling_conditions}
