"""Who may do what: the one place access rules live.

Every view declares the roles that may call it with @require(...) or says it is
@public. Object-level rules are pure functions `can_<verb>_<noun>(user, obj)`, and
`visible_entries(user)` is the same rule as a SQL clause for lists, so a list
never shows what the detail page would refuse. Records a user may not see are
answered with 404, never 403: their existence is itself information.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from .extensions import db, login_manager
from .models import Entry, EntryKind, EntryStatus, Link, Role, SecurityMarking, User, WelfareCheck

ALL_ROLES = tuple(Role)  # sign out, one's own account and API tokens: every role, the auditor too
AUDITORS = (Role.AUDITOR,)  # professional standards: the audit pages (pcso/audit_viewer/), and nothing else
STAFF = tuple(role for role in Role if role not in AUDITORS)  # pages about the force's beats and data
LOGGERS = (Role.PCSO, Role.SUPERVISOR)  # who logs entries on the street
READERS = (Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING)
PUBLIC = "public"


def require(*roles: Role) -> Callable:
    """Only signed-in users with one of `roles` may call the view."""
    if not roles:
        raise ValueError("require() needs at least one role; use @public for open routes")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.access = frozenset(roles)
        return wrapped

    return decorator


def public(view: Callable) -> Callable:
    """Anyone may call the view, signed in or not (login page, health check)."""
    view.access = PUBLIC
    return view


# --- entries -----------------------------------------------------------------

WELFARE_READERS = (Role.SUPERVISOR, Role.SAFEGUARDING)
SENSITIVE_READERS = (Role.SUPERVISOR, Role.ANALYST)
OFFICIAL_READERS = (Role.SUPERVISOR, Role.ANALYST)


def can_view_entry(user: User, entry: Entry) -> bool:
    if entry.author_id == user.id:
        return True
    if entry.status == EntryStatus.DRAFT:
        return False  # a draft is its author's until submitted
    if entry.kind == EntryKind.WELFARE_CHECK:
        return user.role in WELFARE_READERS or entry.spoc_id == user.id
    if entry.marking == SecurityMarking.OFFICIAL_SENSITIVE:
        return user.role in SENSITIVE_READERS
    if user.role in OFFICIAL_READERS:
        return True
    return user.role == Role.PCSO and entry.beat_id in user.beat_ids


def visible_entries(user: User) -> sa.ColumnElement[bool]:
    """can_view_entry() as a WHERE clause on Entry. Keep the two in step (a test checks)."""
    own = Entry.author_id == user.id
    submitted = Entry.status != EntryStatus.DRAFT
    is_welfare = Entry.kind == EntryKind.WELFARE_CHECK
    if user.role in WELFARE_READERS:
        welfare = sa.true()
    else:
        # A probe per welfare row, not IN (SELECT ...): PostgreSQL costs a hashed subquery as if it ran
        # again for every index lookup, and so hashes the whole entry table instead (search at scale).
        checks = WelfareCheck.__table__.alias("spoc_check")
        welfare = sa.exists().where(checks.c.id == Entry.id, checks.c.spoc_id == user.id)
    if user.role in OFFICIAL_READERS:
        other = (Entry.marking != SecurityMarking.OFFICIAL_SENSITIVE) | sa.literal(
            user.role in SENSITIVE_READERS
        )
    elif user.role == Role.PCSO and user.beat_ids:
        other = (Entry.marking != SecurityMarking.OFFICIAL_SENSITIVE) & Entry.beat_id.in_(user.beat_ids)
    else:
        other = sa.false()
    return own | (submitted & sa.case((is_welfare, welfare), else_=other))


def can_log_entries(user: User) -> bool:
    return user.role in LOGGERS


def can_edit_entry(user: User, entry: Entry) -> bool:
    """Only the author changes an entry, and only while it is a draft or returned to them for correction."""
    return entry.author_id == user.id and entry.is_editable_state


PHOTO_ADDING_STATUSES = (EntryStatus.DRAFT, EntryStatus.RETURNED, EntryStatus.SUBMITTED)


def can_add_photos(user: User, entry: Entry) -> bool:
    """The author adds photos while the entry is a draft, returned, or submitted and not yet reviewed: the
    phone's outbox sends an entry (submitted at once, if the officer tapped Submit) and then its photos.
    Once approved, nothing more is added."""
    return user.role in LOGGERS and entry.author_id == user.id and entry.status in PHOTO_ADDING_STATUSES


def can_remove_photo(user: User, entry: Entry) -> bool:
    """Removing a photo is changing the entry: its author, while it is a draft or returned."""
    return can_edit_entry(user, entry)


# --- review and dashboards ---------------------------------------------------------

REVIEWERS = (Role.SUPERVISOR,)
DASHBOARD_VIEWERS = (Role.PCSO, Role.SUPERVISOR)


AMENDABLE = (EntryStatus.APPROVED,)


def can_propose_amendment(user: User, entry: Entry) -> bool:
    """The author of an approved entry proposes a correction to it (a supervisor then approves it), one at a time."""
    return (user.role in LOGGERS and entry.author_id == user.id and entry.status in AMENDABLE
            and entry.pending_amendment is None)


def can_decide_amendment(user: User, entry: Entry) -> bool:
    """A supervisor who may open the entry decides on its pending amendment, never on their own."""
    amendment = entry.pending_amendment
    return (amendment is not None and user.role in REVIEWERS and amendment.author_id != user.id
            and entry.author_id != user.id and can_view_entry(user, entry))


def can_review_entry(user: User, entry: Entry) -> bool:
    """A supervisor decides on a submitted entry they may open, but never on their own."""
    return (user.role in REVIEWERS and entry.status == EntryStatus.SUBMITTED and entry.author_id != user.id
            and can_view_entry(user, entry))


RISK_REVIEWERS = (Role.SUPERVISOR,)  # DOMAIN.md: medium and high risk victims get a supervisor's review


def can_review_risk(user: User, entry: Entry) -> bool:
    """A supervisor who may open a submitted (or decided) ASB incident reviews its victims' risk."""
    return (user.role in RISK_REVIEWERS and entry.kind == EntryKind.ASB_INCIDENT and entry.status != EntryStatus.DRAFT
            and can_view_entry(user, entry))


def dashboard_beat_ids(user: User) -> set[int] | None:
    """The beats whose dashboard the user may open: None means every beat (supervisors)."""
    if user.role == Role.SUPERVISOR:
        return None
    if user.role == Role.PCSO:
        return set(user.beat_ids)
    return set()


# --- bulk exports ------------------------------------------------------------------

EXPORTERS = (Role.SUPERVISOR, Role.ANALYST)  # who may export a list (CSV, GeoJSON); one entry's PDF: READERS


def can_bulk_export(user: User) -> bool:
    return user.role in EXPORTERS


def can_view_export_request(user: User, request) -> bool:
    """Its requester, and the supervisors and analysts who may decide on it."""
    return request.requester_id == user.id or user.role in EXPORTERS


def can_decide_export_request(user: User, request) -> bool:
    """A second person: a supervisor or analyst other than the one who asked, while it waits."""
    return user.role in EXPORTERS and request.requester_id != user.id and request.status == "pending"


# --- intelligence ----------------------------------------------------------------

SOURCE_READERS = (Role.SUPERVISOR, Role.ANALYST)  # who may read who a source is
RESTRICTED_FIELDS = frozenset({"source_details"})  # never in lists, search, snippets or revision displays
RAISE_FROM_KINDS = (EntryKind.ASB_INCIDENT, EntryKind.WELFARE_CHECK)


def can_view_source(user: User, report: Entry) -> bool:
    """Source details: supervisors and analysts who may open the report, and its author while it is a draft
    (or returned to them for correction).

    The author knows the source already, so hiding the field from them protects no one while they
    write and correct it (and only the author edits a draft). Once submitted, the sergeant and the
    analysts handle the source: a PCSO's phone is the device most likely to be lost or read over a
    shoulder on the street, and it should not carry a list of every source its officer has recorded.
    """
    if not can_view_entry(user, report):
        return False
    return user.role in SOURCE_READERS or (report.author_id == user.id and report.is_editable_state)


def can_raise_intelligence(user: User, entry: Entry) -> bool:
    """'Raise intelligence report' from an ASB incident or welfare check the officer may open.

    Visibility already limits who that is: for a welfare check the author, the SPOC and supervisors
    (safeguarding leads log nothing); for an ASB incident also colleagues on the beat, who may know
    more about the same people.
    """
    return user.role in LOGGERS and entry.kind in RAISE_FROM_KINDS and can_view_entry(user, entry)


def visible_changes(user: User, entry: Entry, changes: dict) -> dict:
    """A revision's changes without the restricted fields the user may not read (names and values)."""
    if entry.kind == EntryKind.INTELLIGENCE_REPORT and can_view_source(user, entry):
        return dict(changes)
    return {name: change for name, change in changes.items() if name not in RESTRICTED_FIELDS}



# --- POLE records --------------------------------------------------------------

MERGERS = (Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING)  # who may merge two records of one person or vehicle
WELFARE_MERGERS = (Role.SUPERVISOR, Role.SAFEGUARDING)  # ... when one of them is linked to a welfare check


def can_merge_records(user: User) -> bool:
    """Merging needs both records visible too: views find each through visible_record(). A merge touching a
    welfare check's child needs can_merge_welfare_child() as well (pcso/pole/services.py merge_refusal)."""
    return user.role in MERGERS


def can_merge_welfare_child(user: User) -> bool:
    return user.role in WELFARE_MERGERS


def visible_links(user: User) -> sa.ColumnElement[bool]:
    """Links into entries the user may see: the only way a POLE record becomes visible."""
    return Link.entry_id.in_(sa.select(Entry.id).where(visible_entries(user)))


def can_view_record(user: User, record) -> bool:
    """A person, vehicle, location or organisation is visible through an entry the user may see.

    A child known only from a welfare check is therefore invisible to anyone who cannot open
    that check, and so is every link that would expose it.

    A location or organisation made on its own page (is_listed) is a directory record any reader may find,
    and one made inside an entry is also its maker's; their entries stay behind visible_entries all the same.
    """
    if getattr(record, "is_listed", False) or (
            getattr(record, "created_by_id", None) is not None and record.created_by_id == user.id):
        return True
    column = getattr(Link, f"{type(record).__tablename__}_id")
    # A join from the record's links (its index), not visible_links(): SQLite builds `IN (SELECT id FROM entry
    # WHERE visible)` in full first, 1.8 s at 200,000 entries for a person with a few links.
    return db.session.scalar(
        sa.select(sa.exists().where(column == record.id, Entry.id == Link.entry_id, visible_entries(user)))
    )


# --- ASB Case Review ---------------------------------------------------------------

CASE_REVIEW_DECIDERS = (Role.SUPERVISOR, Role.ANALYST)  # record applications, decide, record reviews and appeals
CASE_REVIEW_READERS = (Role.PCSO, Role.SUPERVISOR, Role.ANALYST)  # a PCSO: those on their beats


def can_view_case_review(user: User, review) -> bool:
    """Supervisors and analysts every application; a PCSO those on their beats. Others: 404."""
    return user.role in CASE_REVIEW_DECIDERS or (user.role == Role.PCSO and review.beat_id in user.beat_ids)


def visible_case_reviews(user: User, beat_column) -> sa.ColumnElement[bool]:
    """can_view_case_review() as a WHERE clause on the case review's beat column. Keep the two in step."""
    if user.role in CASE_REVIEW_DECIDERS:
        return sa.true()
    if user.role == Role.PCSO and user.beat_ids:
        return beat_column.in_(user.beat_ids)
    return sa.false()


def can_start_case_review(user: User, beat_id: int | None) -> bool:
    """Record an application: supervisors and analysts for any beat, a PCSO for a victim on their beat."""
    return user.role in CASE_REVIEW_DECIDERS or (user.role == Role.PCSO and beat_id in user.beat_ids)


def can_decide_case_review(user: User, review) -> bool:
    """The threshold decision, the review, informing the applicant, appeals: supervisors and analysts."""
    return user.role in CASE_REVIEW_DECIDERS and can_view_case_review(user, review)


EDITORS = READERS  # who may edit a person's or vehicle's details (pcso/pole/records.py): those who may see it


def can_edit_record(user: User, record) -> bool:
    """Whoever may see a person or vehicle may correct and add to it; never a record merged away."""
    return user.role in EDITORS and record.merged_into_id is None and can_view_record(user, record)


def visible_places(user: User, model) -> sa.ColumnElement[bool]:
    """can_view_record() for Location or Organisation as a WHERE clause (suggestions, lists). Keep in step."""
    seen = sa.select(getattr(Link, f"{model.__tablename__}_id")).where(visible_links(user))
    return model.is_listed | (model.created_by_id == user.id) | model.id.in_(seen)
