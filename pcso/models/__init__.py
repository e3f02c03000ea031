"""All models, imported here so Alembic and the app see every table."""
from .amendment import AmendmentStatus, EntryAmendment
from .api_token import ApiToken, TokenScope
from .asb import AsbIncident, AsbType, InvolvementRole, NsirCategory, RiskLevel, normalise_vrm
from .audit import AuditAction, AuditEvent
from .audit_tree import AuditCheckpoint, AuditLeaf
from .beat import Beat, BeatIndexVersion
from .briefing import BeatPriority, Shift
from .case_review import (
    AppealOutcome, ApplicantType, CaseReview, CaseReviewIncident, CaseReviewRecommendation, CaseReviewState,
    RecommendationStatus,
)
from .context import StreetCrime
from .entry import Entry, EntryKind, EntryRevision, EntryStatus, LocationSource, SecurityMarking
from .export_request import ExportRequest, ExportRequestStatus
from .held import HeldSubmission
from .idempotency import IdempotencyKey
from .job import Job, JobState
from .latest_check import WelfareLatest
from .match_key import PersonMatchKey, VehicleMatchKey
from .intel import HandlingCode, IntelAssessment, IntelligenceReport, SourceEvaluation
from .patrol import Patrol, PatrolMode
from .patrol_suggestion import PatrolSuggestion
from .photo import Photo
from .pole import (
    LOCATION_ROLES, ORGANISATION_ROLES, VEHICLE_ROLES, Link, LinkRole, Location, Organisation, OrganisationType, Person,
    Vehicle, WarningMarker, name_key, number_key,
)
from .retention import ErasedRecord, RetentionDecision, RetentionDecisionType
from .review import EntryReview, ReviewDecision
from .risk import AssessmentKind, RiskAssessment
from .saved_search import SavedSearch
from .school import School
from .school_visit import SchoolVisit, SchoolVisitType
from .search import SearchDocument
from .user import RateLimitCounter, Role, User, UserSession, beat_assignment
from .welfare import ExploitationIndicator, WelfareCheck, WelfareVisitType

__all__ = [
    "AmendmentStatus", "ApiToken", "AppealOutcome", "ApplicantType", "AsbIncident", "AsbType", "AssessmentKind",
    "AuditAction", "AuditCheckpoint", "AuditEvent", "AuditLeaf", "Beat", "BeatIndexVersion", "BeatPriority",
    "CaseReview", "CaseReviewIncident", "CaseReviewRecommendation", "CaseReviewState", "Entry", "EntryAmendment",
    "EntryReview", "ErasedRecord", "ExportRequest", "ExportRequestStatus", "HeldSubmission", "IdempotencyKey", "Job",
    "JobState", "WelfareLatest", "PersonMatchKey", "RateLimitCounter", "RecommendationStatus", "RetentionDecision",
    "RetentionDecisionType", "RiskAssessment", "SavedSearch", "TokenScope", "VehicleMatchKey",
    "EntryKind", "EntryRevision", "EntryStatus", "ExploitationIndicator", "InvolvementRole",
    "HandlingCode", "IntelAssessment", "IntelligenceReport", "SourceEvaluation", "Link", "LinkRole", "Location", "LocationSource", "NsirCategory", "Organisation", "OrganisationType", "Person",
    "LOCATION_ROLES", "name_key", "number_key", "ORGANISATION_ROLES", "Patrol", "PatrolMode", "PatrolSuggestion",
    "Photo", "ReviewDecision", "RiskLevel", "Role", "School", "Vehicle", "VEHICLE_ROLES", "WarningMarker",
    "SchoolVisit", "SchoolVisitType", "SearchDocument", "SecurityMarking", "Shift", "StreetCrime", "User", "UserSession", "WelfareCheck",
    "WelfareVisitType", "beat_assignment", "normalise_vrm",
]

# Whole POLE records (issue 12, people and vehicles): markers with their history, addresses, sex.
from .pole import AddressRole, PersonAddress, PersonWarningMarker, Sex  # noqa: E402

__all__ += ["AddressRole", "PersonAddress", "PersonWarningMarker", "Sex"]
