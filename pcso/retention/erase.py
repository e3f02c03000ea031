"""Carrying out a recorded decision to dispose: the record's content erased everywhere, a tombstone left.

Only a dispose decision that is the latest for its record and not yet carried out is carried out, and
only by carry_out() (from `flask retention run --apply`). For an entry it deletes the entry and its kind's
row, its revisions, reviews, amendments (their proposed form is entry content), victim risk assessments made on
it, links, photos (rows now, files once committed), search document, the held submission it resolved and the
API's stored answers about it; entries that pointed at it (logged on a
patrol, raised from it) lose the pointer with a revision; POLE records it leaves with no link at all are
erased with it (and the records merged into them). For a POLE record: its links (each entry reindexed,
with a revision), the amendments of those entries (their posted form may name it), a person's risk
assessments and the ASB Case Reviews they are the victim in, the records merged into it, and itself. Export
requests keep their filter, which may hold a person's id, never a name (docs/RETENTION.md). Street-crime
context and audit events are not touched. Each record erased leaves an ErasedRecord (metadata only) and an
`erase` audit event. The caller commits once per decision: a failure rolls back and leaves the record whole.
"""
from __future__ import annotations

import sqlalchemy as sa

from .. import audit
from ..entries.revisions import add_revision, snapshot
from ..extensions import db
from ..models import (
    AuditAction, CaseReview, Entry, EntryAmendment, ErasedRecord, HeldSubmission, IdempotencyKey, IntelligenceReport,
    Link, RetentionDecision, RetentionDecisionType, RiskAssessment, SearchDocument, User,
)
from ..photos.storage import THUMB, photo_store
from ..queries import AnyEntry
from ..search.index import index_entry
from ..timeutil import utcnow
from .services import MODELS, latest_decisions, rule_of


class DisposalRefused(RuntimeError):
    """A dispose decision that can't be carried out as recorded (the message says why)."""


def pending_disposals() -> list[RetentionDecision]:
    """Dispose decisions not yet carried out and not overtaken by a later decision on the same record."""
    waiting = list(db.session.scalars(sa.select(RetentionDecision).where(
        RetentionDecision.decision == RetentionDecisionType.DISPOSE, RetentionDecision.carried_out_at.is_(None))
        .order_by(RetentionDecision.decided_at, RetentionDecision.id)))
    latest = latest_decisions([(d.record_type, d.record_id) for d in waiting])
    return [d for d in waiting if latest[(d.record_type, d.record_id)].id == d.id]


def _month(value) -> str:
    return value.strftime("%Y-%m") if value is not None else ""


def _tombstone(record_type: str, record, decision: RetentionDecision, **facts) -> ErasedRecord:
    erased = ErasedRecord(record_type=record_type, record_id=record.id, decision_id=decision.id,
                          erased_at=utcnow(), **facts)
    db.session.add(erased)
    return erased


def _unpoint(entry: Entry, field: str, *, actor: User, decision: RetentionDecision) -> None:
    """Another entry loses its pointer to the one erased: a change to it, with a revision and an event."""
    before = snapshot(entry)
    setattr(entry, field, None)
    entry.updated_at = utcnow()
    add_revision(entry, before, actor=actor, action="updated")
    audit.record(AuditAction.UPDATE, entry, actor=actor, object_type="entry", fields=[field],
                 reason="retention", decision_id=decision.id)


def _merged_into(model, record_id: int) -> list:
    """Every record merged (directly or through others) into this one, leaves first."""
    found, frontier = [], [record_id]
    while frontier:
        batch = list(db.session.scalars(sa.select(model).where(model.merged_into_id.in_(frontier))))
        found += batch
        frontier = [item.id for item in batch]
    return list(reversed(found))


def _erase_pole(record, decision: RetentionDecision, *, actor: User, why: str, **why_details) -> list[tuple[str, int]]:
    """Delete a POLE record that no link names any more, and the records merged into it."""
    model = type(record)
    record_type = model.__tablename__
    erased = []
    for item in [*_merged_into(model, record.id), record]:
        counts = {}
        if record_type == "person":  # their risk assessments, on whatever incident (the level and outcome)
            counts["risk_assessments"] = db.session.execute(sa.delete(RiskAssessment).where(
                RiskAssessment.person_id == item.id)).rowcount
            counts["case_reviews"] = _erase_case_reviews(item, decision, actor=actor)
        revision = item.revision  # the last one the create/update/combine events named
        db.session.delete(item)
        db.session.flush()
        _tombstone(record_type, item, decision, created_month=_month(item.created_at))
        audit.erased(record_type, item.id, actor=actor, decision_id=decision.id, why=why, revision=revision,
                     **why_details, **counts)
        erased.append((record_type, item.id))
    return erased


def _erase_case_reviews(victim, decision: RetentionDecision, *, actor: User) -> int:
    """The ASB Case Reviews the person is the victim in: about them throughout (the applicant, the reasons told,
    the outcome), so erased with them, each with a tombstone and an erase event. How many."""
    reviews = list(db.session.scalars(sa.select(CaseReview).where(CaseReview.victim_id == victim.id)))
    for review in reviews:
        counts = {"incidents": len(review.incidents), "recommendations": len(review.recommendations)}
        db.session.delete(review)  # its incidents and recommendations with it
        db.session.flush()
        _tombstone("case_review", review, decision, beat_id=review.beat_id, created_month=_month(review.recorded_at))
        audit.erased("case_review", review.id, actor=actor, decision_id=decision.id, why="victim",
                     victim=victim.id, state=review.state.value, **counts)
    return len(reviews)


def _is_orphan(record) -> bool:
    column = getattr(Link, f"{type(record).__tablename__}_id")
    return not db.session.scalar(sa.select(sa.exists().where(column == record.id)))


def _dispose_entry(entry, decision: RetentionDecision, *, actor: User) -> dict:
    targets = list({id(link.target): link.target for link in entry.links if link.target is not None}.values())
    keys = [photo.storage_key for photo in entry.photos]
    counts = {"revisions": len(entry.revisions), "links": len(entry.links), "photos": len(keys),
              "reviews": len(entry.reviews), "amendments": len(entry.amendments)}
    for other in db.session.scalars(sa.select(AnyEntry).where(AnyEntry.patrol_id == entry.id)):
        _unpoint(other, "patrol_id", actor=actor, decision=decision)
    for other in db.session.scalars(sa.select(IntelligenceReport).where(IntelligenceReport.raised_from_id == entry.id)):
        _unpoint(other, "raised_from_id", actor=actor, decision=decision)
    counts["held"] = db.session.execute(sa.delete(HeldSubmission).where(
        HeldSubmission.resolved_entry_id == entry.id)).rowcount
    counts["api_answers"] = db.session.execute(sa.delete(IdempotencyKey).where(
        IdempotencyKey.location.like(f"%/entries/{entry.id}"))).rowcount
    counts["risk_assessments"] = db.session.execute(sa.delete(RiskAssessment).where(
        RiskAssessment.incident_id == entry.id)).rowcount
    db.session.execute(sa.delete(SearchDocument).where(SearchDocument.entry_id == entry.id))
    facts = dict(kind=entry.kind, beat_id=entry.beat_id, marking=entry.marking, author_id=entry.author_id,
                 spoc_id=getattr(entry, "spoc_id", None), was_draft=entry.is_draft,
                 created_month=_month(entry.recorded_at), pending_files=keys)
    db.session.delete(entry)
    db.session.flush()
    _tombstone("entry", entry, decision, **facts)
    erased = [("entry", entry.id)]
    audit.erased("entry", entry.id, actor=actor, decision_id=decision.id, kind=facts["kind"].value,
                 beat_id=facts["beat_id"], **counts)
    for target in targets:
        if _is_orphan(target):
            erased += _erase_pole(target, decision, actor=actor, why="orphaned", orphaned_by=entry.id)
    return {"erased": erased, "files": keys}


def _dispose_pole(record, decision: RetentionDecision, *, actor: User) -> dict:
    column = getattr(Link, f"{type(record).__tablename__}_id")
    links = list(db.session.scalars(sa.select(Link).where(column == record.id)))
    entries = {link.entry_id: link.entry for link in links}
    befores = {entry_id: snapshot(entry) for entry_id, entry in entries.items()}
    for link in links:
        link.entry.links.remove(link)
    db.session.flush()
    for entry_id, entry in entries.items():
        add_revision(entry, befores[entry_id], actor=actor, action="updated")
        # An amendment's posted form may name the record (and a pending one would link it again): they go,
        # the entry's revisions (naming links by id) keep what changed.
        amendments = len(entry.amendments)
        entry.amendments.clear()
        audit.record(AuditAction.UPDATE, entry, actor=actor, object_type="entry", fields=["links"],
                     reason="retention", decision_id=decision.id, amendments=amendments)
        index_entry(entry)  # its search text no longer names the record
    return {"erased": _erase_pole(record, decision, actor=actor, why="decision"), "files": []}


def carry_out(decision: RetentionDecision) -> dict:
    """Carry out one dispose decision (flushes; the caller commits, then calls delete_files)."""
    if decision.decision != RetentionDecisionType.DISPOSE or decision.carried_out_at is not None:
        raise DisposalRefused(f"decision {decision.id} is not a dispose decision waiting to be carried out")
    if latest_decisions([(decision.record_type, decision.record_id)])[
            (decision.record_type, decision.record_id)].id != decision.id:
        raise DisposalRefused(f"decision {decision.id} has been overtaken by a later decision")
    model = AnyEntry if decision.record_type == "entry" else MODELS[decision.record_type]
    lock = Entry.__table__ if decision.record_type == "entry" else model.__table__  # not the kinds' outer joins
    record = db.session.scalar(sa.select(model).where(model.id == decision.record_id).with_for_update(of=lock))
    if record is None:
        raise DisposalRefused(f"{decision.record_type} {decision.record_id} no longer exists")
    rule = rule_of(decision.record_type, record)
    if rule.safeguarding and not decision.safeguarding_note:
        raise DisposalRefused(f"{decision.record_type} {decision.record_id} is a child-safeguarding record "
                              f"(rule {rule.name}): its decision has no safeguarding note")
    actor = db.session.get(User, decision.decided_by_id)
    if decision.record_type == "entry":
        result = _dispose_entry(record, decision, actor=actor)
    else:
        result = _dispose_pole(record, decision, actor=actor)
    decision.carried_out_at = utcnow()
    db.session.flush()
    return result


def delete_files() -> tuple[int, int]:
    """Delete the photo files of erased entries, once their erasure is committed. Returns (deleted, failed);
    the keys of files that could not be deleted stay on the tombstone for the next run. Flushes only."""
    store, deleted, failed = photo_store(), 0, 0
    for erased in db.session.scalars(sa.select(ErasedRecord).where(
            ErasedRecord.record_type == "entry", sa.cast(ErasedRecord.pending_files, sa.String) != "[]")):
        if not erased.pending_files:
            continue
        left = []
        for key in erased.pending_files:
            try:
                store.delete(key)
                store.delete(key + THUMB)
                deleted += 1
            except Exception:  # noqa: BLE001 (any store error: kept for the next run)
                left.append(key)
                failed += 1
        erased.pending_files = left
    db.session.flush()
    return deleted, failed
