"""MoPI retention rules as data: loaded from a TOML file per force, checked on load, matched to records.

The defaults are pcso/data/retention.toml (docs/RETENTION.md gives their sources); a force sets
RETENTION_RULES_FILE to its own. Each rule maps a kind of record (an entry's kind and marking, a POLE
record type, a POLE record linked to an entry of some kind) to a MoPI group, a first review period and
whether time-based disposal is ever allowed. The first rule that matches a record is its rule.
A file that can't be applied is refused with RetentionRulesError naming the rule and what is wrong.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ..models import EntryKind, SecurityMarking
from ..numbers import choice

DEFAULT_RULES_FILE = Path(__file__).resolve().parent.parent / "data" / "retention.toml"
RECORD_TYPES = ("entry", "person", "vehicle", "location", "organisation")
POLE_TYPES = RECORD_TYPES[1:]
GROUPS = ("1", "2", "3", "4")
LAW_MINIMUM_YEARS = 6  # 2006 MoPI guidance: "all records will normally be held for a minimum of six years"
RULE_KEYS = {"name", "record", "kind", "marking", "linked_to", "group", "review_years", "until_age",
             "automatic_disposal", "safeguarding", "source"}
TOP_KEYS = {"minimum_review_years", "groups", "rules"}


class RetentionRulesError(ValueError):
    """The rules file can't be applied: the message names the file, the rule and the problem."""


@dataclass(frozen=True)
class Rule:
    name: str
    record: str
    group: str
    review_years: int
    automatic_disposal: bool
    source: str
    kind: EntryKind | None = None
    marking: SecurityMarking | None = None
    linked_to: EntryKind | None = None
    until_age: int | None = None
    safeguarding: bool = False

    def matches(self, record_type: str, *, kind=None, marking=None, linked_kinds=frozenset()) -> bool:
        return (self.record == record_type and (self.kind is None or self.kind == kind)
                and (self.marking is None or self.marking == marking)
                and (self.linked_to is None or self.linked_to in linked_kinds))

    @property
    def path(self) -> str:
        """'Time-based' or 'Review on its merits', as the queue shows it."""
        return "time-based disposal allowed" if self.automatic_disposal else "reviewed on its merits"


@dataclass(frozen=True)
class RetentionRules:
    rules: tuple[Rule, ...]
    groups: dict[str, str]
    minimum_review_years: int
    path: str

    def rule_for(self, record_type: str, *, kind=None, marking=None, linked_kinds=frozenset()) -> Rule:
        for rule in self.rules:
            if rule.matches(record_type, kind=kind, marking=marking, linked_kinds=frozenset(linked_kinds)):
                return rule
        raise LookupError(f"no retention rule for {record_type} {kind or ''}")  # validation prevents it

    def by_name(self, name: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.name == name), None)

    def group_label(self, group: str) -> str:
        return f"Group {group}: {self.groups.get(group, '')}"


def add_years(day: date, years: int) -> date:
    """The same day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


# --- loading and checking -------------------------------------------------------------------------

def _enum(value: Any, enum_cls, what: str, where: str):
    return choice(enum_cls, value,
                  lambda allowed: RetentionRulesError(f"{where}: {what} {value!r} is not one of {allowed}"))


def _rule(raw: Any, number: int, *, path: str, minimum: int, groups: dict[str, str]) -> Rule:
    if not isinstance(raw, dict):
        raise RetentionRulesError(f"{path}: rule {number} is not a table ([[rules]])")
    where = f"{path}: rule {number} ({raw.get('name') or 'no name'})"
    if unknown := sorted(set(raw) - RULE_KEYS):
        raise RetentionRulesError(f"{where}: unknown setting {', '.join(unknown)}")
    for key in ("name", "record", "group", "review_years", "automatic_disposal", "source"):
        if key not in raw or raw[key] in ("", None):
            raise RetentionRulesError(f"{where}: {key} is missing")
    if not isinstance(raw["name"], str) or not isinstance(raw["source"], str):
        raise RetentionRulesError(f"{where}: name and source are text")
    if raw["record"] not in RECORD_TYPES:
        raise RetentionRulesError(f"{where}: record {raw['record']!r} is not one of {', '.join(RECORD_TYPES)}")
    group = str(raw["group"])
    if group not in groups:
        raise RetentionRulesError(f"{where}: group {raw['group']!r} is not a MoPI group ({', '.join(groups)})")
    years = raw["review_years"]
    if not isinstance(years, int) or isinstance(years, bool) or years < minimum or years > 100:
        raise RetentionRulesError(f"{where}: review_years is {years!r}; it must be a whole number of years "
                                  f"from {minimum} (the minimum) to 100")
    until_age = raw.get("until_age")
    if until_age is not None and (not isinstance(until_age, int) or isinstance(until_age, bool)
                                  or not 18 <= until_age <= 120):
        raise RetentionRulesError(f"{where}: until_age is {until_age!r}; give an age from 18 to 120")
    for key in ("automatic_disposal", "safeguarding"):
        if key in raw and not isinstance(raw[key], bool):
            raise RetentionRulesError(f"{where}: {key} is true or false, not {raw[key]!r}")
    kind = _enum(raw.get("kind"), EntryKind, "kind", where)
    marking = _enum(raw.get("marking"), SecurityMarking, "marking", where)
    linked_to = _enum(raw.get("linked_to"), EntryKind, "linked_to", where)
    if raw["record"] == "entry" and linked_to is not None:
        raise RetentionRulesError(f"{where}: linked_to is for POLE records, not entries")
    if raw["record"] != "entry" and (kind or marking):
        raise RetentionRulesError(f"{where}: kind and marking are for entries, not {raw['record']} records")
    rule = Rule(name=raw["name"], record=raw["record"], group=group, review_years=years,
                automatic_disposal=raw["automatic_disposal"], source=raw["source"], kind=kind, marking=marking,
                linked_to=linked_to, until_age=until_age, safeguarding=raw.get("safeguarding", False))
    if rule.safeguarding and rule.automatic_disposal:
        raise RetentionRulesError(f"{where}: a safeguarding rule can never allow automatic disposal")
    return rule


def _covers_everything(rules: RetentionRules) -> None:
    """Every record finds a rule, and a child-safeguarding record always finds a safeguarding one."""
    for kind in EntryKind:
        markings = [SecurityMarking.OFFICIAL_SENSITIVE] if kind == EntryKind.WELFARE_CHECK else list(SecurityMarking)
        for marking in markings:
            try:
                rule = rules.rule_for("entry", kind=kind, marking=marking)
            except LookupError:
                raise RetentionRulesError(f"{rules.path}: no rule for an entry of kind {kind.value} marked "
                                          f"{marking.value}: add one (record = \"entry\")") from None
            if kind == EntryKind.WELFARE_CHECK and not rule.safeguarding:
                raise RetentionRulesError(f"{rules.path}: rule {rule.name} is the first for welfare checks and "
                                          "must say safeguarding = true (and automatic_disposal = false)")
    for record_type in POLE_TYPES:
        try:
            rules.rule_for(record_type)
        except LookupError:
            raise RetentionRulesError(f"{rules.path}: no rule for every {record_type}: add one with "
                                      f"record = \"{record_type}\" and no linked_to") from None
    child = rules.rule_for("person", linked_kinds={EntryKind.WELFARE_CHECK})
    if not child.safeguarding:
        raise RetentionRulesError(f"{rules.path}: rule {child.name} is the first for a person named in a welfare "
                                  "check and must say safeguarding = true")


def parse_rules(text: str, *, path: str = "retention rules") -> RetentionRules:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RetentionRulesError(f"{path}: not valid TOML ({error})") from None
    if unknown := sorted(set(raw) - TOP_KEYS):
        raise RetentionRulesError(f"{path}: unknown setting {', '.join(unknown)}")
    minimum = raw.get("minimum_review_years", LAW_MINIMUM_YEARS)
    if not isinstance(minimum, int) or isinstance(minimum, bool) or minimum < LAW_MINIMUM_YEARS:
        raise RetentionRulesError(f"{path}: minimum_review_years is {minimum!r}; it can't be below "
                                  f"{LAW_MINIMUM_YEARS} (MoPI's minimum of six years)")
    groups = {str(key): str(value) for key, value in (raw.get("groups") or {}).items()}
    if set(groups) != set(GROUPS):
        raise RetentionRulesError(f"{path}: [groups] must name the MoPI groups 1, 2, 3 and 4")
    items = raw.get("rules")
    if not isinstance(items, list) or not items:
        raise RetentionRulesError(f"{path}: no [[rules]]")
    rules = [_rule(item, number, path=path, minimum=minimum, groups=groups) for number, item in enumerate(items, 1)]
    names = [rule.name for rule in rules]
    if duplicate := next((name for name in names if names.count(name) > 1), None):
        raise RetentionRulesError(f"{path}: two rules are called {duplicate!r}")
    loaded = RetentionRules(rules=tuple(rules), groups=groups, minimum_review_years=minimum, path=path)
    _covers_everything(loaded)
    return loaded


def load_rules(path: str | Path | None = None) -> RetentionRules:
    path = Path(path) if path else DEFAULT_RULES_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RetentionRulesError(f"{path}: can't be read ({error.strerror})") from None
    return parse_rules(text, path=str(path))
