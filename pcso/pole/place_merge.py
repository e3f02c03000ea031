"""Two records of one place (a Location) or one organisation: finding them, and merging them.

A place typed twice ("12 Shrewsbury St" in one entry, "12 Shrewsbury Street, M16 9AX" in another) or an
organisation recorded twice is merged as people and vehicles are (pcso/pole/services.py): the loser's links move
to the survivor, which gains a revision and a `combine` event naming both; the loser stays, marked merged, and
its page sends readers to the survivor.

What moves with a place: people's addresses (home, frequents...) and organisations' addresses at it. What
fills the survivor's blanks: a place's name, its address (the whole of it, with its postcode), its point (with
its beat); an organisation's address and the school it is. Details typed in a welfare check stay where they were: a loser linked to a
welfare check fills nothing (its address line may be a child's home, seen by fewer people than the survivor),
and a merge where either record is linked to one needs a supervisor or safeguarding lead, as for people. The
survivor is listed in the directory if either was, unless it is itself linked to a welfare check.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm

from ..access import can_merge_welfare_child, visible_places
from ..extensions import db
from ..models import Link, Location, Organisation, PersonAddress, User, WelfareCheck
from .locations import address_line
from .queries import DUPLICATES_LIMIT, Duplicate
from .services import MergeForbidden, MergeRefused, _lock_both, _retire

ADDRESS = ("house", "street", "town", "postcode", "number_key")  # filled together, or not at all


def welfare_linked(record) -> bool:
    """Whether the place or organisation is named in a welfare check (any status)."""
    column = getattr(Link, f"{type(record).__tablename__}_id")
    return bool(db.session.scalar(sa.select(sa.exists().where(column == record.id,
                                                              Link.entry_id == WelfareCheck.id))))


def place_merge_refusal(keep, other, *, actor: User) -> MergeRefused | None:
    if (welfare_linked(keep) or welfare_linked(other)) and not can_merge_welfare_child(actor):
        return MergeForbidden("A supervisor or safeguarding lead must merge these records: one of them is named "
                              "in a welfare check.")
    return None


def _fill_location(keep: Location, loser: Location) -> list[str]:
    """The survivor's blanks from the loser: its name, its address (house, street, town and postcode together)
    and its point (with its beat); the address line is made again from what the survivor then holds."""
    filled = []
    if not keep.place_name and loser.place_name:
        keep.place_name, keep.name_key = loser.place_name, loser.name_key
        filled.append("place_name")
    if not (keep.postcode or keep.house or keep.street) and (loser.postcode or loser.house or loser.street):
        for field in ADDRESS:
            setattr(keep, field, getattr(loser, field))
        filled.append("address")
    if keep.lat is None and loser.lat is not None:
        keep.lat, keep.lon, keep.beat_id = loser.lat, loser.lon, loser.beat_id
        filled.append("point")
    if filled:
        keep.address = address_line(keep)
    return filled


def merge_places(keep: Location | Organisation, loser: Location | Organisation, *, actor: User, reason: str):
    """One real place (or organisation), two records: `loser`'s links move to `keep`, nothing is lost."""
    model = type(keep)
    _lock_both(model, keep, loser)
    if (refused := place_merge_refusal(keep, loser, actor=actor)) is not None:
        raise refused
    filled = []
    if not welfare_linked(loser):
        if model is Location:
            filled = _fill_location(keep, loser)
        else:
            if keep.location_id is None and loser.location_id is not None:
                keep.location_id = loser.location_id
                filled.append("location_id")
            if keep.school_id is None and loser.school_id is not None:  # the school it is (one record a school)
                school_id, loser.school_id = loser.school_id, None
                db.session.flush()  # the school leaves the loser before it joins the survivor (it is unique)
                keep.school_id = school_id
                filled.append("school_id")
    if loser.is_listed and not keep.is_listed and not welfare_linked(keep):
        keep.is_listed = True
        filled.append("is_listed")
    if model is Location:  # who lives at or frequents the place, and organisations there: the survivor's now
        already = orm.aliased(PersonAddress)  # the same person, role and survivor: one row, not two
        db.session.execute(sa.delete(PersonAddress).where(PersonAddress.location_id == loser.id, sa.exists().where(
            already.location_id == keep.id, already.person_id == PersonAddress.person_id,
            already.role == PersonAddress.role)).execution_options(synchronize_session=False))
        for table, column in ((PersonAddress, PersonAddress.location_id), (Organisation, Organisation.location_id)):
            db.session.execute(sa.update(table).where(column == loser.id).values({column.key: keep.id})
                               .execution_options(synchronize_session=False))
    return _retire(model, keep, loser, actor=actor, reason=reason, filled=filled)


def possible_place_duplicates(user: User, record, *, limit: int = DUPLICATES_LIMIT) -> list[Duplicate]:
    """Other live places (or organisations) the viewer can see that may be the same one: a place with the same
    postcode and house number, or the same name; an organisation with the same name, or at the same address."""
    model = type(record)
    rules = []
    if model is Location:
        if record.postcode and record.number_key:
            rules.append((sa.and_(Location.postcode == record.postcode, Location.number_key == record.number_key),
                          "Same postcode and house number"))
        if record.name_key:
            rules.append((Location.name_key == record.name_key, "Same name"))
    else:
        if record.name_key:
            rules.append((Organisation.name_key == record.name_key, "Same name"))
        if record.location_id is not None:
            rules.append((Organisation.location_id == record.location_id, "Same address"))
    found: dict[int, Duplicate] = {}
    for where, reason in rules:
        for other in db.session.scalars(sa.select(model).where(
                where, model.id != record.id, model.merged_into_id.is_(None), visible_places(user, model))
                .order_by(model.id).limit(limit)):
            found.setdefault(other.id, Duplicate(other, [])).reasons.append(reason)
    return sorted(found.values(), key=lambda d: (-len(d.reasons), d.record.id))[:limit]
