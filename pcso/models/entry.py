"""The common entry every kind of log shares, and its revision history."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .beat import Beat
from .types import UTCDateTime, enum_type
from .user import User


class EntryKind(StrEnum):
    PATROL = "patrol"
    ASB_INCIDENT = "asb_incident"
    SCHOOL_VISIT = "school_visit"
    WELFARE_CHECK = "welfare_check"
    INTELLIGENCE_REPORT = "intelligence_report"

    @property
    def label(self) -> str:
        return {
            "patrol": "Patrol",
            "asb_incident": "ASB incident",
            "school_visit": "School visit",
            "welfare_check": "Welfare check",
            "intelligence_report": "Intelligence report",
        }[self.value]

    @property
    def noun(self) -> str:
        """As in a sentence: 'New ASB incident', 'Edit school visit'."""
        return self.label if self == EntryKind.ASB_INCIDENT else self.label.lower()

    @property
    def slug(self) -> str:
        """The kebab-case plural used in URLs: asb_incident -> asb-incidents."""
        return self.value.replace("_", "-") + "s"

    @classmethod
    def from_slug(cls, slug: str | None) -> "EntryKind | None":
        """The kind whose URL slug this is ('asb-incidents'), or None."""
        return next((kind for kind in cls if kind.slug == slug), None)


class EntryStatus(StrEnum):
    """An entry's life: draft -> submitted -> approved, or returned to its author and submitted again."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"

    @property
    def label(self) -> str:
        return {"draft": "Draft", "submitted": "Awaiting review", "returned": "Returned for correction",
                "approved": "Approved"}[self.value]


class SecurityMarking(StrEnum):
    OFFICIAL = "OFFICIAL"
    OFFICIAL_SENSITIVE = "OFFICIAL-SENSITIVE"


class LocationSource(StrEnum):
    GPS = "gps"
    POSTCODE = "postcode"
    MAP = "map"
    SCHOOL = "school"
    NONE = "none"

    @property
    def label(self) -> str:
        return {"gps": "Device location", "postcode": "Postcode", "map": "Pin on map", "school": "School's address",
                "none": "No location"}[
            self.value
        ]


class Entry(db.Model):
    """Base of everything a PCSO logs (joined-table inheritance on `kind`)."""

    __tablename__ = "entry"
    __table_args__ = (
        # A retried submission carries the same key and must not make a second record.
        sa.UniqueConstraint("author_id", "client_key", name="uq_entry_author_client_key"),
        # A welfare check about a child is OFFICIAL-SENSITIVE, whoever writes the row.
        sa.CheckConstraint("kind != 'welfare_check' OR marking = 'OFFICIAL-SENSITIVE'", name="welfare_is_sensitive"),
        sa.Index("ix_entry_beat_occurred", "beat_id", "occurred_at"),
        sa.Index("ix_entry_author_recorded", "author_id", "recorded_at"),
        # The review queue: submitted entries of a beat, oldest first.
        sa.Index("ix_entry_status_beat_submitted", "status", "beat_id", "submitted_at"),
        # Dashboards: one kind on some beats over a period.
        sa.Index("ix_entry_kind_beat_occurred", "kind", "beat_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EntryKind] = mapped_column(enum_type(EntryKind))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    beat_id: Mapped[int] = mapped_column(sa.ForeignKey("beat.id"))
    located_beat_id: Mapped[int | None] = mapped_column(sa.ForeignKey("beat.id"))
    is_beat_overridden: Mapped[bool] = mapped_column(default=False)
    patrol_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entry.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    accuracy_m: Mapped[float | None]
    location_source: Mapped[LocationSource] = mapped_column(
        enum_type(LocationSource), default=LocationSource.NONE
    )
    location_text: Mapped[str | None] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[EntryStatus] = mapped_column(enum_type(EntryStatus), default=EntryStatus.DRAFT)
    marking: Mapped[SecurityMarking] = mapped_column(
        enum_type(SecurityMarking), default=SecurityMarking.OFFICIAL
    )
    client_key: Mapped[str] = mapped_column(sa.String(64))
    # MoPI: when it is next reviewed (pcso/retention: set on create from the force's rules, moved by decisions).
    review_due: Mapped[date] = mapped_column(index=True)

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    beat: Mapped[Beat] = relationship(foreign_keys=[beat_id])
    located_beat: Mapped[Beat | None] = relationship(foreign_keys=[located_beat_id])
    revisions: Mapped[list["EntryRevision"]] = relationship(
        back_populates="entry", order_by="EntryRevision.id", cascade="all, delete-orphan"
    )
    links: Mapped[list["Link"]] = relationship(  # noqa: F821
        back_populates="entry", order_by="Link.position", cascade="all, delete-orphan"
    )
    reviews: Mapped[list["EntryReview"]] = relationship(  # noqa: F821
        back_populates="entry", order_by="EntryReview.id", cascade="all, delete-orphan"
    )
    photos: Mapped[list["Photo"]] = relationship(  # noqa: F821
        back_populates="entry", order_by="(Photo.position, Photo.id)", cascade="all, delete-orphan"
    )
    amendments: Mapped[list["EntryAmendment"]] = relationship(  # noqa: F821
        back_populates="entry", order_by="EntryAmendment.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"polymorphic_on": "kind"}

    @property
    def is_draft(self) -> bool:
        return self.status == EntryStatus.DRAFT

    @property
    def is_editable_state(self) -> bool:
        """Its author may change it: a draft, or returned to them for correction."""
        return self.status in (EntryStatus.DRAFT, EntryStatus.RETURNED)

    @property
    def last_return(self) -> "EntryReview | None":  # noqa: F821
        """The most recent 'returned' review, while the entry is still returned."""
        if self.status != EntryStatus.RETURNED:
            return None
        return next((r for r in reversed(self.reviews) if r.decision == "returned"), None)

    @property
    def pending_amendment(self) -> "EntryAmendment | None":  # noqa: F821
        return next((a for a in self.amendments if a.status == "pending"), None)

    @property
    def approved_amendments(self) -> list:
        return [a for a in self.amendments if a.status == "approved"]

    @property
    def people_links(self) -> list:
        return [link for link in self.links if link.person_id is not None]

    @property
    def vehicle_links(self) -> list:
        return [link for link in self.links if link.vehicle_id is not None]

    @property
    def location_links(self) -> list:
        return [link for link in self.links if link.location_id is not None]

    @property
    def organisation_links(self) -> list:
        return [link for link in self.links if link.organisation_id is not None]

    @property
    def has_location(self) -> bool:
        return self.lat is not None and self.lon is not None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"


class EntryRevision(db.Model):
    """One change to an entry: who, when, and each field's old and new value."""

    __tablename__ = "entry_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(sa.String(32))  # created, updated, submitted, ended, approved, returned, amended
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    entry: Mapped[Entry] = relationship(back_populates="revisions")
    actor: Mapped[User] = relationship()
