"""All models, imported here so Alembic and the app see every table."""
from .amendment import AmendmentStatus, EntryAmendment
from .api_token import ApiToken, TokenScope
from .asb import AsbIncident, AsbType, InvolvementRole, NsirCategory, RiskLevel, normalise_vrm
from .audit import AuditAction, AuditEvent
from .audit_tree import AuditCheckpoint, AuditLeaf
from .beat import Beat
from .briefing import BeatPriority, Shift
from .context import StreetCrime
from .entry import Entry, EntryKind, EntryRevision, EntryStatus, LocationSource, SecurityMarking
from .export_request import ExportRequest, ExportRequestStatus
from .held import HeldSubmission
from .idempotency import IdempotencyKey
from .match_key import PersonMatchKey, VehicleMatchKey
from .intel import HandlingCode, IntelAssessment, IntelligenceReport, SourceEvaluation
from .patrol import Patrol, PatrolMode
from .photo import Photo
from .pole import Link, LinkRole, Location, Organisation, OrganisationType, Person, Vehicle, WarningMarker, name_key
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
    "AmendmentStatus", "ApiToken", "AssessmentKind", "EntryAmendment", "ErasedRecord", "ExportRequest", "ExportRequestStatus", "HeldSubmission", "RateLimitCounter", "RetentionDecision", "RetentionDecisionType", "RiskAssessment", "IdempotencyKey", "SavedSearch", "TokenScope",
    "PersonMatchKey", "VehicleMatchKey",
    "AsbIncident", "AsbType", "AuditAction", "AuditCheckpoint", "AuditEvent", "AuditLeaf", "Beat", "BeatPriority", "Entry", "EntryReview",
    "EntryKind", "EntryRevision", "EntryStatus", "ExploitationIndicator", "InvolvementRole",
    "HandlingCode", "IntelAssessment", "IntelligenceReport", "SourceEvaluation", "Link", "LinkRole", "Location", "LocationSource", "NsirCategory", "Organisation", "OrganisationType", "Person",
    "Vehicle", "WarningMarker", "name_key", "Patrol", "PatrolMode", "Photo", "ReviewDecision", "RiskLevel", "Role", "School",
    "SchoolVisit", "SchoolVisitType", "SearchDocument", "SecurityMarking", "Shift", "StreetCrime", "User", "UserSession", "WelfareCheck",
    "WelfareVisitType", "beat_assignment", "normalise_vrm",
]
