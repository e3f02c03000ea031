"""After the entries: drafts and submissions, the sergeant's review decisions, beat priorities and shifts."""
from __future__ import annotations

from datetime import datetime, timedelta

from ..extensions import db
from ..models import (
    BeatPriority, Entry, EntryReview, EntryRevision, EntryStatus, IntelligenceReport, Patrol, ReviewDecision, Shift,
)
from ..timeutil import to_london
from .builder import BuilderBase
from .words import PRIORITIES, RETURN_COMMENTS, STREETS


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
        self._review(entries)

    def _review(self, entries: list[Entry]) -> None:
        """The sergeant signed off most of what was submitted more than two days ago and sent a few back.

        Of those: 86% approved, 4% returned (half corrected and resubmitted since, half still with their
        author), the rest still waiting, so the queue has old items to flag as well as yesterday's.
        """
        cutoff = self.anchor - timedelta(days=2)
        for entry in entries:
            if (entry.status != EntryStatus.SUBMITTED or entry.author_id == self.supervisor.id
                    or entry.submitted_at > cutoff):
                continue
            roll = self.rng.random()
            decided = min(entry.submitted_at + timedelta(hours=self.rng.randint(2, 40)), self.anchor)
            if roll < 0.86:
                grade = entry.grading if isinstance(entry, IntelligenceReport) else None
                self._decide(entry, ReviewDecision.APPROVED, decided, None,
                             {"from": grade, "to": grade, "changed": False} if grade else None)
            elif roll < 0.90:
                self._decide(entry, ReviewDecision.RETURNED, decided, self.rng.choice(RETURN_COMMENTS))
                if self.rng.random() < 0.5:  # corrected and resubmitted: back in the queue
                    entry.status = EntryStatus.SUBMITTED
                    entry.submitted_at = min(decided + timedelta(hours=self.rng.randint(4, 30)), self.anchor)
                    entry.revisions.append(EntryRevision(actor_id=entry.author_id, action="resubmitted",
                                                         changes={"status": ["returned", "submitted"]},
                                                         at=entry.submitted_at))

    def _decide(self, entry: Entry, decision: ReviewDecision, at: datetime, comment: str | None,
                grading: dict | None = None) -> None:
        entry.reviews.append(EntryReview(reviewer_id=self.supervisor.id, at=at, decision=decision, comment=comment,
                                         submitted_at=entry.submitted_at, grading=grading))
        status = EntryStatus.APPROVED if decision == ReviewDecision.APPROVED else EntryStatus.RETURNED
        entry.revisions.append(EntryRevision(actor_id=self.supervisor.id, action=decision.value, at=at,
                                             changes={"status": [entry.status.value, status.value]}))
        entry.status, entry.reviewer_id, entry.reviewed_at, entry.updated_at = status, self.supervisor.id, at, at
        self.summary.reviewed[decision.value] += 1

    def priorities_and_shifts(self) -> None:
        """Two priorities per demo beat, set by the sergeant; each PCSO's last shift ended last night."""
        today = to_london(self.anchor).date()
        for user in self.pcsos:
            for beat in self.beats_of[user.id]:
                for issue, action in self.rng.sample(PRIORITIES, 2):
                    issued = today - timedelta(days=self.rng.randint(10, 60))
                    db.session.add(BeatPriority(
                        beat_id=beat.id, issue=issue.format(street=self.rng.choice(STREETS[beat.name])), issue_date=issued,
                        action=action, action_date=issued + timedelta(days=self.rng.randint(7, 40)),
                        set_by_id=self.supervisor.id, created_at=self.anchor, updated_at=self.anchor))
                    self.summary.priorities += 1
            started = self.anchor - timedelta(hours=self.rng.randint(20, 26))
            db.session.add(Shift(user_id=user.id, started_at=started, ended_at=started + timedelta(hours=8)))


