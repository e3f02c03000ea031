"""After the risk assessments: ASB Case Review applications, through the case review services, as the sergeant."""
from __future__ import annotations

from collections import defaultdict

from ..case_reviews.rules import current_rules
from ..case_reviews.services import ApplicationInput, record_application
from ..dashboard.victims import case_review_victims, victim_rows
from ..models import AsbIncident, EntryStatus
from ..risk.services import victims_of
from ..timeutil import to_london
from .builder import BuilderBase


class CaseReviews(BuilderBase):
    def _case_reviews(self, incidents: list[AsbIncident]) -> None:
        """An application received today from the first victim whose complaints meet the threshold (its threshold
        decision due in ten working days), and one from the victim with the most complaints short of it, decided
        "not met" at once with the reason the applicant is told. Others who qualify stay on the "may ask" list."""
        today = to_london(self.anchor).date()
        qualified = case_review_victims(self.supervisor, victim_rows(self.supervisor, None, today), today)
        by_victim: dict[int, list[AsbIncident]] = defaultdict(list)
        for incident in sorted(incidents, key=lambda i: (i.occurred_at, i.id)):
            if incident.status != EntryStatus.DRAFT:
                for person in victims_of(incident):
                    by_victim[person.id].append(incident)
        chosen = [victim.person_id for victim in qualified[:1]]
        below = [(len(items), -person_id) for person_id, items in by_victim.items()
                 if len(items) < current_rules().force.threshold]
        chosen += [-max(below)[1]] if below else []  # the most complaints short of the threshold
        for person_id in chosen:
            complaints = by_victim[person_id]
            record_application(ApplicationInput(person_id, complaints[-1].beat_id, today,
                                                [incident.id for incident in complaints]), actor=self.supervisor)
            self.summary.case_reviews += 1
