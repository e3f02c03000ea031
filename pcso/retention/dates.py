"""Review dates: every entry and POLE record gets its `review_due` from the force's rules when it is made.

The entry and POLE services create records in many places (pages, the API, the phone's sealed entries,
the seed), so the date is set in one place they all pass through: the session's flush. A new entry's
date is its occurrence (London date) plus its rule's period, and not before its child's `until_age`
birthday for a welfare check. A new POLE record's is its creation plus its rule's period; and a record
is never due before the latest entry linked to it (MoPI's clear period runs from the last time the
person came to police attention), so each new link moves it on.

On SQLite a deleted row's id can be handed out again; a new entry or POLE record never takes the id of
one disposed of (its tombstone keeps the id, and its audit events name it).
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..models import (
    Entry, EntryKind, ErasedRecord, Link, Location, Organisation, Person, RetentionDecision, Vehicle,
)
from ..timeutil import to_london, utcnow
from .rules import RetentionRules, add_years, load_rules

POLE_MODELS = (Person, Vehicle, Location, Organisation)
EXTENSION = "beatbook_retention_rules"


def current_rules() -> RetentionRules:
    """The app's rules (checked when the app started), or the defaults outside an app."""
    if has_app_context():
        rules = current_app.extensions.get(EXTENSION)
        if rules is None:
            rules = current_app.extensions[EXTENSION] = load_rules(current_app.config.get("RETENTION_RULES_FILE"))
        return rules
    return load_rules()


def _day(value: datetime | None) -> date:
    return to_london(value or utcnow()).date()


def _not_before_age(due: date, born_on: date | None, age: int | None) -> date:
    if age is None or born_on is None:
        return due
    return max(due, add_years(born_on, age))


def entry_review_due(entry: Entry, rules: RetentionRules) -> date:
    rule = rules.rule_for("entry", kind=entry.kind, marking=entry.marking)
    due = add_years(_day(entry.occurred_at), rule.review_years)
    if rule.until_age is not None:
        for link in entry.links:
            if link.person is not None and link.role == "subject":
                due = _not_before_age(due, link.person.born_on, rule.until_age)
    return due


def record_review_due(record, rules: RetentionRules, linked_kinds=frozenset()) -> date:
    rule = rules.rule_for(type(record).__tablename__, linked_kinds=linked_kinds)
    due = add_years(_day(record.created_at), rule.review_years)
    return _not_before_age(due, getattr(record, "born_on", None), rule.until_age)


def _bump(record, entry: Entry, rules: RetentionRules) -> None:
    """A record linked to an entry is not due before the entry, nor before its rule for that kind of link."""
    linked = record_review_due(record, rules, linked_kinds={entry.kind})
    record.review_due = max(record.review_due or linked, linked, entry.review_due or linked)


def _take_no_erased_ids(session: Session, new: list) -> None:
    """SQLite hands out max(id) + 1, which after a disposal may be the disposed record's id."""
    by_table: dict[str, list] = {}
    for obj in new:
        if obj.id is None:
            by_table.setdefault(Entry.__tablename__ if isinstance(obj, Entry) else type(obj).__tablename__,
                                []).append(obj)
    for table, objects in by_table.items():
        model = Entry if table == "entry" else type(objects[0])
        erased = session.scalar(sa.select(sa.func.max(ErasedRecord.record_id))
                                .where(ErasedRecord.record_type == table))
        if erased is None:
            continue
        highest = session.scalar(sa.select(sa.func.max(model.id))) or 0
        if erased >= highest:
            for offset, obj in enumerate(objects, 1):
                obj.id = erased + offset


def _merged_now(session: Session) -> list:
    """POLE records being merged away in this flush (merged_into_id just set)."""
    return [obj for obj in session.dirty if isinstance(obj, POLE_MODELS) and obj.merged_into_id is not None
            and sa.inspect(obj).attrs.merged_into_id.history.added]


def _survivors_take_the_later_date(session: Session, merged: list) -> None:
    """A merge keeps the later review date of the two: the loser's entries are the survivor's now."""
    for loser in merged:
        keep = session.get(type(loser), loser.merged_into_id)
        if keep is not None and loser.review_due is not None and (keep.review_due or loser.review_due) <= loser.review_due:
            keep.review_due = loser.review_due


def _redated(session: Session) -> list[Entry]:
    """Entries whose time or marking is being corrected (by their author, before review): their rule's date
    follows, unless a records manager has already decided on them."""
    changed = [obj for obj in session.dirty if isinstance(obj, Entry) and obj.review_due is not None
               and any(sa.inspect(obj).attrs[name].history.has_changes() for name in ("occurred_at", "marking"))]
    if not changed:
        return []
    decided = set(session.scalars(sa.select(RetentionDecision.record_id).where(
        RetentionDecision.record_type == "entry", RetentionDecision.record_id.in_([obj.id for obj in changed]))))
    return [obj for obj in changed if obj.id not in decided]


def set_review_dates(session: Session, flush_context=None, instances=None) -> None:
    new = [obj for obj in session.new if isinstance(obj, (Entry, *POLE_MODELS))]
    links = [obj for obj in session.new if isinstance(obj, Link)]
    with session.no_autoflush:
        if merged := _merged_now(session):
            _survivors_take_the_later_date(session, merged)
        if redated := _redated(session):
            rules = current_rules()
            for entry in redated:
                entry.review_due = entry_review_due(entry, rules)
    if not new and not links:
        return
    rules = current_rules()
    for obj in new:
        if obj.review_due is None:
            obj.review_due = (entry_review_due(obj, rules) if isinstance(obj, Entry)
                              else record_review_due(obj, rules))
    for link in links:
        entry, target = link.entry, link.target
        if entry is not None and target is not None:
            if entry.review_due is None:
                entry.review_due = entry_review_due(entry, rules)
            _bump(target, entry, rules)
            if entry.kind == EntryKind.WELFARE_CHECK and link.person is not None and link.role == "subject":
                entry.review_due = max(entry.review_due, entry_review_due(entry, rules))
    with session.no_autoflush:
        if session.get_bind().dialect.name == "sqlite":
            _take_no_erased_ids(session, new)


def install() -> None:
    """Once per process: every session sets review dates as it flushes."""
    if not event.contains(Session, "before_flush", set_review_dates):
        event.listen(Session, "before_flush", set_review_dates)


def init_retention(app) -> None:
    """Check the force's rules as the app starts (a bad file stops it, naming the rule) and set the hook."""
    install()
    app.extensions[EXTENSION] = load_rules(app.config.get("RETENTION_RULES_FILE") or None)
