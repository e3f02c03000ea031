"""Named sets of entries behind dashboard figures that are not a plain filter.

`SETS[name](user=user, today=today)` is a WHERE clause on Entry naming the entries behind the figure,
on every beat (the list adds its own beat, date and other filters, and `visible_entries(user)`).
The list at /lists/entries applies it as `.where(SETS[name](user=user, today=today))` for `?set=name`.

- welfare-overdue: the latest visible welfare check per child, whose next visit is before today;
- welfare-due-week: the same, next visit today to today + 6;
- risk-review-due: the incident of each victim's latest risk assessment, when its next review is due;
- repeat-victims: the incidents that make a repeat victim (3+ of one ASB type in 3 months);
- case-review: the qualifying complaints of victims who may ask for an ASB Case Review.

Definitions in pcso/dashboard/welfare.py and victims.py. `today` is a London date.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

import sqlalchemy as sa

from ..models import Entry, User
from .victims import victim_entry_ids
from .welfare import welfare_check_ids


def welfare_overdue(*, user: User, today: date) -> sa.ColumnElement[bool]:
    return Entry.id.in_(welfare_check_ids(user, today, overdue=True))


def welfare_due_week(*, user: User, today: date) -> sa.ColumnElement[bool]:
    return Entry.id.in_(welfare_check_ids(user, today, overdue=False))


def _victims(rule: str) -> Callable[..., sa.ColumnElement[bool]]:
    def clause(*, user: User, today: date) -> sa.ColumnElement[bool]:
        # Computed in Python (calendar months, the latest review per victim), then named by id.
        return Entry.id.in_(victim_entry_ids(user, today, rule))

    clause.__name__ = rule.replace("-", "_")
    return clause


SETS: dict[str, Callable[..., sa.ColumnElement[bool]]] = {
    "welfare-overdue": welfare_overdue,
    "welfare-due-week": welfare_due_week,
    "risk-review-due": _victims("risk-review-due"),
    "repeat-victims": _victims("repeat-victims"),
    "case-review": _victims("case-review"),
}

LABELS = {
    "welfare-overdue": "Welfare visits overdue",
    "welfare-due-week": "Welfare visits due this week",
    "risk-review-due": "Victim risk reviews due",
    "repeat-victims": "Repeat victims' incidents",
    "case-review": "ASB Case Review: qualifying complaints",
}
