"""ASB Case Review rules as data: the threshold and timescales per area, and working days.

Loaded from pcso/data/case_review.toml (or CASE_REVIEW_RULES_FILE): a [force] table of defaults and
[beats.<code>] overrides. Checked on load: a threshold above 3 is refused (the statutory guidance: never more
than three complaints in six months), as are unknown keys and timescales that are not positive whole numbers.

Working days are Monday to Friday, less the bank holidays listed in the file (England and Wales). A due date
is the day `n` working days after the start day (the start day itself never counts): an application received
on Friday 4 Dec 2026 with 10 working days is due on Friday 18 Dec 2026.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Beat

DEFAULT_RULES_FILE = Path(__file__).resolve().parent.parent / "data" / "case_review.toml"
EXTENSION = "beatbook_case_review_rules"
MAX_THRESHOLD = 3  # statutory guidance: "no higher than three complaints in the previous six months"
NUMBERS = ("threshold", "window_months", "complaint_within_months", "threshold_decision_working_days",
           "review_outcome_working_days", "outcome_informed_working_days", "appeal_decision_working_days")
AREA_KEYS = set(NUMBERS) | {"source"}


class CaseReviewRulesError(ValueError):
    """The rules file can't be applied: the message names the file, the table and the problem."""


@dataclass(frozen=True)
class AreaRules:
    threshold: int
    window_months: int
    complaint_within_months: int
    threshold_decision_working_days: int
    review_outcome_working_days: int
    outcome_informed_working_days: int
    appeal_decision_working_days: int
    source: str = ""


@dataclass(frozen=True)
class CaseReviewRules:
    force: AreaRules
    beats: dict[str, AreaRules] = field(default_factory=dict)  # by beat code
    bank_holidays: frozenset[date] = frozenset()

    def for_beat(self, code: str | None) -> AreaRules:
        return self.beats.get(code or "", self.force)

    @property
    def lowest_threshold(self) -> int:
        return min([self.force.threshold, *(area.threshold for area in self.beats.values())])

    @property
    def longest_window_months(self) -> int:
        return max([self.force.window_months, *(area.window_months for area in self.beats.values())])

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.bank_holidays

    def add_working_days(self, start: date, days: int) -> date:
        day = start
        while days > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days -= 1
        return day


def _area(name: str, table: dict, base: AreaRules | None, where: str) -> AreaRules:
    unknown = set(table) - AREA_KEYS
    if unknown:
        raise CaseReviewRulesError(f"{where}: [{name}] has unknown keys {sorted(unknown)}")
    if base is None:
        missing = set(NUMBERS) - set(table)
        if missing:
            raise CaseReviewRulesError(f"{where}: [{name}] is missing {sorted(missing)}")
    for key in NUMBERS:
        if key in table and (not isinstance(table[key], int) or isinstance(table[key], bool) or table[key] < 1):
            raise CaseReviewRulesError(f"{where}: [{name}] {key} must be a whole number of at least 1")
    if table.get("threshold", 1) > MAX_THRESHOLD:
        raise CaseReviewRulesError(f"{where}: [{name}] threshold {table['threshold']} is above {MAX_THRESHOLD}, "
                                   "the most the statutory guidance allows")
    if base is None:
        return AreaRules(**table)
    return replace(base, **table)


def load_rules(path: str | Path | None = None) -> CaseReviewRules:
    path = Path(path or DEFAULT_RULES_FILE)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise CaseReviewRulesError(f"{path}: {error}") from error
    unknown = set(data) - {"force", "beats", "bank_holidays"}
    if unknown or "force" not in data:
        raise CaseReviewRulesError(f"{path}: needs a [force] table; unknown tables {sorted(unknown)}")
    force = _area("force", data["force"], None, str(path))
    beats = {code: _area(f"beats.{code}", table, force, str(path)) for code, table in data.get("beats", {}).items()}
    holidays = data.get("bank_holidays", [])
    if not all(isinstance(day, date) for day in holidays):
        raise CaseReviewRulesError(f"{path}: bank_holidays must be dates (2026-12-25)")
    return CaseReviewRules(force, beats, frozenset(holidays))


def current_rules() -> CaseReviewRules:
    rules = current_app.extensions.get(EXTENSION)
    if rules is None:
        rules = current_app.extensions[EXTENSION] = load_rules(current_app.config.get("CASE_REVIEW_RULES_FILE"))
    return rules


def beat_codes() -> dict[int, str]:
    """Beat id -> code (a few dozen beats)."""
    return dict(db.session.execute(sa.select(Beat.id, Beat.code)).all())


def rules_for_beat_id(beat_id: int | None, rules: CaseReviewRules | None = None) -> AreaRules:
    rules = rules or current_rules()
    if not rules.beats or beat_id is None:
        return rules.force
    return rules.for_beat(db.session.scalar(sa.select(Beat.code).where(Beat.id == beat_id)))
