"""POLE records: people, objects (vehicles), locations and organisations, linked to entries.

One real person is one Person, seen in many entries through Links, each with the role they
played there. Merging two records moves the links and keeps the loser, marked merged_into.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .beat import Beat
from .markers import marker_label
from .entry import Entry
from .school import School
from .user import User
from .types import UTCDateTime, enum_type


class LinkRole(StrEnum):
    VICTIM = "victim"
    WITNESS = "witness"
    REPORTER = "reporter"
    SUSPECT = "suspect"
    SUBJECT = "subject"
    ASSOCIATE = "associate"
    MENTIONED = "mentioned"
    # What a vehicle, place or organisation was to the entry (and a person seen with a welfare check's child).
    SEEN = "seen"
    SCENE = "scene"
    VENUE = "venue"
    KEEPER = "keeper"
    INVOLVED = "involved"

    @property
    def label(self) -> str:
        return {"seen": "Seen", "scene": "Where it happened"}.get(self.value, self.value.title())


# The roles each kind of record can have in an entry (people: per kind, in pcso/entries/kinds/).
VEHICLE_ROLES = (LinkRole.MENTIONED, LinkRole.SEEN, LinkRole.SUSPECT, LinkRole.VICTIM)
LOCATION_ROLES = (LinkRole.SCENE, LinkRole.SEEN, LinkRole.VENUE, LinkRole.MENTIONED)
ORGANISATION_ROLES = (LinkRole.VENUE, LinkRole.REPORTER, LinkRole.VICTIM, LinkRole.INVOLVED, LinkRole.MENTIONED)


class WarningMarker(StrEnum):
    """Officer-safety markers in the style of the PNC's warning signals."""

    VIOLENT = "violent"
    WEAPONS = "weapons"
    DRUGS = "drugs"
    MENTAL_HEALTH = "mental_health"
    SELF_HARM = "self_harm"
    ESCAPER = "escaper"
    CONTAGIOUS = "contagious"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Sex(StrEnum):
    """As recorded by the officer (PNC style: male, female, or not known)."""

    FEMALE = "female"
    MALE = "male"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return {"unknown": "Not known"}.get(self.value, self.value.title())


class AddressRole(StrEnum):
    """How a person is connected to a place."""

    HOME = "home"
    PREVIOUS = "previous"
    FREQUENTS = "frequents"
    WORK = "work"
    SCHOOL = "school"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"home": "Home address", "previous": "Previous address", "frequents": "Frequents",
                "work": "Work", "school": "School or college", "other": "Other"}[self.value]


class OrganisationType(StrEnum):
    SCHOOL = "school"
    SHOP = "shop"
    CLUB = "club"
    LICENSED_PREMISES = "licensed_premises"
    TAKEAWAY = "takeaway"
    HOUSING_PROVIDER = "housing_provider"
    BUSINESS = "business"
    CHARITY = "charity"
    PUBLIC_BODY = "public_body"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"club": "Club or youth group", "public_body": "Council or public body"}.get(
            self.value, self.value.replace("_", " ").capitalize())


def name_key(name: str) -> str:
    """Lower case, single spaces, letters/digits/apostrophes/hyphens only: for matching names."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w' -]", " ", name or "").lower()).strip()


class _Record:
    """Columns every POLE record has."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 1 when made, one more at each change (pcso/audit.py pole_changed, combined): audit events name it.
    revision: Mapped[int] = mapped_column(default=1, server_default=sa.text("1"))
    # MoPI: when it is next reviewed (pcso/retention: from the rules on create, never before its latest entry's).
    review_due: Mapped[date] = mapped_column(index=True)

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None


class Person(_Record, db.Model):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(sa.String(120))
    name_key: Mapped[str] = mapped_column(sa.String(120), index=True)
    aliases: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    born_on: Mapped[date | None] = mapped_column(index=True)
    # An age an officer estimated, and the day they did: "about 17 (estimated 2026-03)". With a date of
    # birth the estimate is not shown. Estimates made before 0018 have no date.
    approx_age: Mapped[int | None]
    approx_age_on: Mapped[date | None]
    sex: Mapped[Sex] = mapped_column(enum_type(Sex, length=16), default=Sex.UNKNOWN,
                                     server_default=Sex.UNKNOWN.value)
    description: Mapped[str | None] = mapped_column(sa.String(300))
    # The codes of the markers in force (the rows in `markers` not removed), kept by pcso/pole/records.py:
    # what lists, search and the API read without loading the rows.
    warning_markers: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))

    markers: Mapped[list[PersonWarningMarker]] = relationship(
        back_populates="person", cascade="all, delete-orphan", passive_deletes=True,
        order_by="PersonWarningMarker.id", foreign_keys="PersonWarningMarker.person_id")
    addresses: Mapped[list[PersonAddress]] = relationship(
        back_populates="person", cascade="all, delete-orphan", passive_deletes=True, order_by="PersonAddress.id")

    @property
    def age(self) -> int | None:
        """Years old today, from the date of birth (approx_age is what an officer guessed)."""
        if self.born_on is None:
            return None
        today = date.today()
        return today.year - self.born_on.year - ((today.month, today.day) < (self.born_on.month, self.born_on.day))

    @property
    def estimated_age_now(self) -> int | None:
        """The estimate carried forward to today: 17 estimated two years ago is about 19 now."""
        if self.approx_age is None:
            return None
        if self.approx_age_on is None:
            return self.approx_age
        today = date.today()
        years = today.year - self.approx_age_on.year - (
            (today.month, today.day) < (self.approx_age_on.month, self.approx_age_on.day))
        return self.approx_age + max(years, 0)

    @property
    def warning_labels(self) -> list[str]:
        return [marker_label(value) for value in self.warning_markers or []]

    @property
    def active_markers(self) -> list[PersonWarningMarker]:
        return [marker for marker in self.markers if marker.removed_at is None]

    def __repr__(self) -> str:
        return f"<Person {self.id}>"


class Vehicle(_Record, db.Model):
    __tablename__ = "vehicle"
    __table_args__ = (
        # One live record per registration; merged-away records keep theirs.
        sa.Index("uq_vehicle_live_vrm", "vrm", unique=True,
                 sqlite_where=sa.text("merged_into_id IS NULL"),
                 postgresql_where=sa.text("merged_into_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vrm: Mapped[str] = mapped_column(sa.String(10))
    make: Mapped[str | None] = mapped_column(sa.String(40))
    model: Mapped[str | None] = mapped_column(sa.String(40))
    colour: Mapped[str | None] = mapped_column(sa.String(30))
    # What the officer saw that the registration doesn't say: damage, stickers, a roof box.
    description: Mapped[str | None] = mapped_column(sa.String(300))
    # The registered (or known) keeper: a person, picked from those the officer may see. Shown only to
    # viewers who may see that person too (pcso/pole/records.py profile_extras).
    keeper_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"), index=True)
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vehicle.id"))

    keeper: Mapped[Person | None] = relationship(foreign_keys=[keeper_id])

    @property
    def summary(self) -> str:
        """Colour, make and model: "Blue Vauxhall Corsa" (the free-text description is `description`)."""
        return " ".join(part for part in (self.colour, self.make, self.model) if part)

    def __repr__(self) -> str:
        return f"<Vehicle {self.vrm}>"


def number_key(house: str | None) -> str | None:
    """A house number as matched: "12a", "12 A" and "12A" are "12A"; a house name is its name_key."""
    compact = re.sub(r"\s+", "", house or "").upper()
    if re.fullmatch(r"\d+[A-Z]?", compact):
        return compact
    return name_key(house or "") or None


class Location(_Record, db.Model):
    """An address (house number or name, street, town, postcode) or a named place (a park, a car park), with its
    point (from the postcode book or a pin) and the beat it is on. `address` is the one line shown everywhere.

    `is_listed`: made on its own page (/locations/new), so any reader may find it; one made inside an entry is
    seen only through the entries the viewer may open (pcso/access.py can_view_record)."""

    __tablename__ = "location"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(sa.String(200))
    place_name: Mapped[str | None] = mapped_column(sa.String(120))
    house: Mapped[str | None] = mapped_column(sa.String(60))
    street: Mapped[str | None] = mapped_column(sa.String(120))
    town: Mapped[str | None] = mapped_column(sa.String(60))
    postcode: Mapped[str | None] = mapped_column(sa.String(10), index=True)
    number_key: Mapped[str | None] = mapped_column(sa.String(60))
    name_key: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    beat_id: Mapped[int | None] = mapped_column(sa.ForeignKey("beat.id"), index=True)
    is_listed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("location.id"))

    beat: Mapped[Beat | None] = relationship()

    @property
    def has_point(self) -> bool:
        return self.lat is not None and self.lon is not None

    def __repr__(self) -> str:
        return f"<Location {self.id}>"


class Organisation(_Record, db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    name_key: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    org_type: Mapped[OrganisationType] = mapped_column(enum_type(OrganisationType))
    school_id: Mapped[int | None] = mapped_column(sa.ForeignKey("school.id"), unique=True)
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("location.id"), index=True)  # its address
    is_listed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())  # as Location.is_listed
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id"))

    school: Mapped[School | None] = relationship()
    location: Mapped[Location | None] = relationship(foreign_keys=[location_id])

    def __repr__(self) -> str:
        return f"<Organisation {self.id}>"


class PersonWarningMarker(db.Model):
    """One officer-safety marker on a person: who set it and when, why, and when it is next reviewed.

    Removing one keeps the row (removed_at, removed_by): the history of what officers were warned of stays.
    `marker` is a code from the configured list (pcso/models/markers.py)."""

    __tablename__ = "person_warning_marker"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    marker: Mapped[str] = mapped_column(sa.String(40))
    note: Mapped[str | None] = mapped_column(sa.String(300))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    set_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    review_on: Mapped[date | None]
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    removed_note: Mapped[str | None] = mapped_column(sa.String(300))

    person: Mapped[Person] = relationship(back_populates="markers", foreign_keys=[person_id])
    set_by: Mapped[User | None] = relationship(foreign_keys=[set_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    removed_by: Mapped[User | None] = relationship(foreign_keys=[removed_by_id])

    @property
    def label(self) -> str:
        return marker_label(self.marker)

    @property
    def review_overdue(self) -> bool:
        return self.removed_at is None and self.review_on is not None and self.review_on < date.today()


class PersonAddress(db.Model):
    """A person's connection to a place: home, previous address, somewhere they frequent, work."""

    __tablename__ = "person_address"
    __table_args__ = (sa.UniqueConstraint("person_id", "location_id", "role", name="uq_person_address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id", ondelete="CASCADE"), index=True)
    role: Mapped[AddressRole] = mapped_column(enum_type(AddressRole, length=16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    person: Mapped[Person] = relationship(back_populates="addresses")
    location: Mapped[Location] = relationship()


_ONE_TARGET = " + ".join(
    f"(CASE WHEN {column} IS NULL THEN 0 ELSE 1 END)"
    for column in ("person_id", "vehicle_id", "location_id", "organisation_id")
)


class Link(db.Model):
    """A POLE record's part in an entry: exactly one of the four targets, with a role."""

    __tablename__ = "link"
    __table_args__ = (
        sa.CheckConstraint(f"{_ONE_TARGET} = 1", name="one_target"),
        # Who is linked, in what role, read from the index alone: the dashboard's victims and children.
        sa.Index("ix_link_entry_role_person", "entry_id", "role", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"), index=True)
    vehicle_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vehicle.id"), index=True)
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("location.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    role: Mapped[LinkRole] = mapped_column(enum_type(LinkRole))
    note: Mapped[str | None] = mapped_column(sa.String(300))
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entry: Mapped[Entry] = relationship(back_populates="links")
    person: Mapped[Person | None] = relationship()
    vehicle: Mapped[Vehicle | None] = relationship()
    location: Mapped[Location | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()

    @property
    def target(self):
        return self.person or self.vehicle or self.location or self.organisation
