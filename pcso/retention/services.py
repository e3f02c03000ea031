"""The records manager's queue and decisions (MoPI review): what is due, and retain or dispose, recorded.

Due records are entries and live POLE records whose `review_due` has come (merged-away records follow
their survivor). The queue shows metadata only: kind, beat, dates, rule, group and counts, never what a
record says, because the admin role does not read entries. Each decision is a RetentionDecision and a
`review` audit event; retain moves the review date on; dispose is carried out later by
`flask retention run --apply` (pcso/retention/erase.py).
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from .. import audit
from ..extensions import db
from ..models import (
    AuditAction, Entry, EntryKind, Link, Location, Organisation, Person, RetentionDecision, RetentionDecisionType,
    User, Vehicle,
)
from ..queries import AnyEntry
from ..timeutil import london_today, utcnow
from .dates import current_rules
from .rules import RECORD_TYPES, Rule, RetentionRules

MODELS = {"entry": Entry, "person": Person, "vehicle": Vehicle, "location": Location, "organisation": Organisation}
SLUGS = {"entry": "entries", "person": "people", "vehicle": "vehicles", "location": "locations",
         "organisation": "organisations"}
TYPE_OF_SLUG = {slug: record_type for record_type, slug in SLUGS.items()}
TYPE_LABELS = {"entry": "Entry", "person": "Person", "vehicle": "Vehicle", "location": "Location",
               "organisation": "Organisation"}
PAGE_SIZE = 25
MAX_RATIONALE = 2000


class DecisionRefused(ValueError):
    """A decision that can't be recorded: `field` names the form field, `message` says why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


@dataclass
class DueRecord:
    record_type: str
    record_id: int
    review_due: date
    kind: EntryKind | None
    beat_id: int | None
    rule: Rule
    pending: RetentionDecision | None = None

    @property
    def label(self) -> str:
        return self.kind.label if self.kind else TYPE_LABELS[self.record_type]

    @property
    def slug(self) -> str:
        return SLUGS[self.record_type]


# --- which rule applies, in Python and in SQL -------------------------------------------------------

def linked_kinds(record_type: str, record_id: int) -> set[EntryKind]:
    column = getattr(Link, f"{record_type}_id")
    return set(db.session.scalars(sa.select(Entry.kind).join(Link, Link.entry_id == Entry.id)
                                  .where(column == record_id).distinct()))


def rule_of(record_type: str, record, rules: RetentionRules | None = None) -> Rule:
    rules = rules or current_rules()
    if record_type == "entry":
        return rules.rule_for("entry", kind=record.kind, marking=record.marking)
    return rules.rule_for(record_type, linked_kinds=linked_kinds(record_type, record.id))


def _condition(rule: Rule, model):
    if rule.record == "entry":
        parts = [sa.true()]
        if rule.kind is not None:
            parts.append(Entry.kind == rule.kind)
        if rule.marking is not None:
            parts.append(Entry.marking == rule.marking)
        return sa.and_(*parts)
    if rule.linked_to is None:
        return sa.true()
    column = getattr(Link, f"{rule.record}_id")
    return sa.exists().where(column == model.id, Link.entry_id == Entry.id, Entry.kind == rule.linked_to)


def rule_name_sql(record_type: str, rules: RetentionRules):
    """The name of the first matching rule, as SQL over the record's table (for filters and counts)."""
    model = MODELS[record_type]
    whens = [(_condition(rule, model), rule.name) for rule in rules.rules if rule.record == record_type]
    return sa.case(*whens, else_=sa.null())


def _due_select(record_type: str, rules: RetentionRules, today: date, group: str | None):
    model = MODELS[record_type]
    rule_name = rule_name_sql(record_type, rules)
    kind = Entry.kind if record_type == "entry" else sa.null()
    beat = Entry.beat_id if record_type == "entry" else (Location.beat_id if model is Location else sa.null())
    query = sa.select(sa.literal(record_type, sa.String(20)).label("record_type"), model.id.label("record_id"),
                      model.review_due.label("review_due"), sa.cast(kind, sa.String(32)).label("kind"),
                      sa.cast(beat, sa.Integer).label("beat_id"), rule_name.label("rule")).where(model.review_due <= today)
    if record_type != "entry":
        query = query.where(model.merged_into_id.is_(None))
    if group is not None:
        query = query.where(rule_name.in_([rule.name for rule in rules.rules if rule.group == group] or [""]))
    return query


def _types_for(kind: str | None) -> list[tuple[str, EntryKind | None]]:
    if kind in RECORD_TYPES[1:]:
        return [(kind, None)]
    if kind and kind in set(EntryKind):
        return [("entry", EntryKind(kind))]
    return [(record_type, None) for record_type in RECORD_TYPES]


def due_union(*, kind: str | None = None, group: str | None = None, today: date | None = None):
    rules, today = current_rules(), today or london_today()
    selects = []
    for record_type, entry_kind in _types_for(kind):
        query = _due_select(record_type, rules, today, group)
        if entry_kind is not None:
            query = query.where(Entry.kind == entry_kind)
        selects.append(query)
    return sa.union_all(*selects).subquery("due")


# --- the queue: keyset pages, oldest due first ------------------------------------------------------

def encode_after(item: DueRecord) -> str:
    raw = f"{item.review_due.isoformat()}|{item.record_type}|{item.record_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_after(token: str | None) -> tuple[date, str, int] | None:
    if not token:
        return None
    try:
        day, record_type, record_id = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().split("|")
        if record_type not in RECORD_TYPES:
            raise ValueError(record_type)
        return date.fromisoformat(day), record_type, int(record_id)
    except (ValueError, UnicodeDecodeError):
        raise DecisionRefused("after", "That page of the queue can't be found: start again from the first") from None


def latest_decisions(keys: list[tuple[str, int]]) -> dict[tuple[str, int], RetentionDecision]:
    if not keys:
        return {}
    found = db.session.scalars(sa.select(RetentionDecision).where(
        sa.tuple_(RetentionDecision.record_type, RetentionDecision.record_id).in_(keys))
        .order_by(RetentionDecision.decided_at, RetentionDecision.id))
    return {(decision.record_type, decision.record_id): decision for decision in found}


def due_page(*, kind: str | None = None, group: str | None = None, after: str | None = None,
             size: int = PAGE_SIZE) -> tuple[list[DueRecord], str | None]:
    """One page of due records, oldest due first, and the token for the next page (None at the end)."""
    rules = current_rules()
    due = due_union(kind=kind, group=group)
    query = sa.select(due).order_by(due.c.review_due, due.c.record_type, due.c.record_id).limit(size + 1)
    if (cursor := decode_after(after)) is not None:
        query = query.where(sa.tuple_(due.c.review_due, due.c.record_type, due.c.record_id) > sa.tuple_(*cursor))
    rows = db.session.execute(query).all()
    items = [DueRecord(row.record_type, row.record_id, row.review_due, EntryKind(row.kind) if row.kind else None,
                       row.beat_id, rules.by_name(row.rule)) for row in rows[:size]]
    decisions = latest_decisions([(item.record_type, item.record_id) for item in items])
    for item in items:
        decision = decisions.get((item.record_type, item.record_id))
        if decision is not None and decision.decision == RetentionDecisionType.DISPOSE and not decision.carried_out_at:
            item.pending = decision
    return items, (encode_after(items[-1]) if len(rows) > size else None)


def due_counts(today: date | None = None) -> dict[str, dict[str, int]]:
    """{group: {rule name: records due}} over every record type."""
    rules, counts = current_rules(), {}
    due = due_union(today=today)
    for rule_name, number in db.session.execute(sa.select(due.c.rule, sa.func.count()).group_by(due.c.rule)):
        rule = rules.by_name(rule_name)
        counts.setdefault(rule.group, {})[rule_name] = number
    return counts


def record_queue_view(items: list[DueRecord], *, actor: User, kind: str | None, group: str | None) -> None:
    """Opening the queue is a consultation of the records listed (ids and types only)."""
    listed: dict[str, list[int]] = {}
    for item in items:
        listed.setdefault(item.record_type, []).append(item.record_id)
    for record_type, ids in (listed or {"entry": []}).items():  # named in the request's one view event
        audit.consulted(ids, actor=actor, object_type=record_type, screen="retention-queue", kind=kind, group=group)


# --- one record and its decision ----------------------------------------------------------------

def get_record(record_type: str, record_id: int):
    """The live record (an entry with its kind's columns), or None; merged-away records are not reviewed."""
    model = MODELS[record_type]
    if record_type == "entry":
        return db.session.scalar(sa.select(AnyEntry).where(AnyEntry.id == record_id))
    record = db.session.get(model, record_id)
    return None if record is None or record.merged_into_id is not None else record


def record_facts(record_type: str, record) -> dict:
    """What the decision page shows: metadata and counts, never content."""
    column = getattr(Link, f"{record_type}_id", None)
    facts: dict = {"created_at": getattr(record, "created_at", None) or getattr(record, "recorded_at", None)}
    if record_type == "entry":
        facts |= {"kind": record.kind, "beat": record.beat, "occurred_at": record.occurred_at,
                  "status": record.status, "marking": record.marking,
                  "links": db.session.scalar(sa.select(sa.func.count()).select_from(Link)
                                             .where(Link.entry_id == record.id)),
                  "photos": len(record.photos), "revisions": len(record.revisions)}
    else:
        rows = db.session.execute(sa.select(Entry.kind, sa.func.count(sa.distinct(Entry.id)))
                                  .join(Link, Link.entry_id == Entry.id).where(column == record.id)
                                  .group_by(Entry.kind)).all()
        facts["entries"] = {EntryKind(kind): number for kind, number in rows}
    return facts


def decisions_for(record_type: str, record_id: int) -> list[RetentionDecision]:
    return list(db.session.scalars(sa.select(RetentionDecision).where(
        RetentionDecision.record_type == record_type, RetentionDecision.record_id == record_id)
        .order_by(RetentionDecision.decided_at.desc(), RetentionDecision.id.desc())))


def check_decision(record_type: str, record, *, decision: RetentionDecisionType, rationale: str,
                   next_review: date | None, safeguarding_note: str | None) -> tuple[Rule, str, date | None, str | None]:
    """The rule that applies and the cleaned values, or DecisionRefused naming the field."""
    rule = rule_of(record_type, record)
    rationale, note = (rationale or "").strip(), (safeguarding_note or "").strip() or None
    if not rationale:
        raise DecisionRefused("rationale", "Give the reason for this decision")
    if len(rationale) > MAX_RATIONALE or (note and len(note) > MAX_RATIONALE):
        raise DecisionRefused("rationale", f"Keep the reason to {MAX_RATIONALE:,} characters")
    if decision == RetentionDecisionType.RETAIN:
        if next_review is None:
            raise DecisionRefused("next_review", "Give the date of the next review")
        if next_review <= london_today():
            raise DecisionRefused("next_review", "The next review must be after today")
        if next_review.year > london_today().year + 100:
            raise DecisionRefused("next_review", "Give a date in the next 100 years")
        return rule, rationale, next_review, note if rule.safeguarding else None
    if rule.safeguarding and not note:
        raise DecisionRefused("safeguarding_note", "This is a child-safeguarding record: record what the "
                                                   "safeguarding lead said before it can be disposed of")
    return rule, rationale, None, note


def record_decision(record_type: str, record, *, decision: RetentionDecisionType, rationale: str,
                    next_review: date | None, safeguarding_note: str | None, actor: User) -> RetentionDecision:
    """Record a retain or dispose decision (flush and audit; the caller commits)."""
    rule, rationale, next_review, note = check_decision(record_type, record, decision=decision, rationale=rationale,
                                                        next_review=next_review, safeguarding_note=safeguarding_note)
    made = RetentionDecision(record_type=record_type, record_id=record.id, decision=decision, rule=rule.name,
                             mopi_group=rule.group, rationale=rationale, safeguarding_note=note,
                             next_review=next_review, decided_by_id=actor.id, decided_at=utcnow())
    db.session.add(made)
    db.session.flush()
    if decision == RetentionDecisionType.RETAIN:
        record.review_due = next_review
    audit.record(AuditAction.REVIEW, actor=actor, object_type=record_type, object_id=record.id,
                 decision=decision.value, decision_id=made.id, rule=rule.name, group=rule.group,
                 next_review=next_review.isoformat() if next_review else None, safeguarding=rule.safeguarding)
    return made


def record_decision_view(record_type: str, record, *, actor: User) -> None:
    """The decision page shows the record's metadata: a consultation, recorded."""
    audit.consulted(record, actor=actor, object_type=record_type, screen="retention")
