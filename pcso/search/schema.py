"""What the models-versus-migrations comparison must not see: full-text machinery made in 0004 only.

Used by pcso/migrations/env.py (so `flask db check` and autogenerate ignore it) and by
tests/test_migrations.py (so its compare_metadata agrees): one list, imported from here.
"""
from __future__ import annotations

from ..auditlog.partitions import is_partition_name

# SQLite: the FTS5 tables (entry text; trigrams of names and registrations) and their shadow tables.
FTS_TABLES = ("search_fts", "person_fts", "vehicle_fts")
# PostgreSQL: indexes on expressions and operator classes the models cannot declare portably.
BACKEND_ONLY_INDEXES = frozenset({"ix_search_document_body_tsv", "ix_person_name_key_trgm", "ix_person_aliases_trgm",
                                  "ix_vehicle_vrm_trgm",
                                  "ix_audit_event_details_gin"})  # 0017: the audit viewer's details lookups


def is_backend_only_table(name: str | None) -> bool:
    """FTS5's tables (SQLite), and audit_event's monthly partitions (PostgreSQL, pcso/auditlog/partitions.py)."""
    return bool(name) and (any(name == table or name.startswith(table + "_") for table in FTS_TABLES)
                           or is_partition_name(name))


# PostgreSQL: the stored tsvector of search_document.body (a generated column).
BACKEND_ONLY_COLUMNS = frozenset({("search_document", "body_tsv")})


def include_name(name: str | None, type_: str, parent_names) -> bool:
    """Alembic include_name hook: skip reflecting what only one backend has."""
    if type_ == "table":
        return not is_backend_only_table(name)
    if type_ == "index":
        return name not in BACKEND_ONLY_INDEXES
    return True


def include_object(obj, name: str | None, type_: str, reflected: bool, compare_to) -> bool:
    """Alembic include_object hook, the same rule for objects that got past include_name, and columns."""
    if type_ == "column":
        return (getattr(getattr(obj, "table", None), "name", None), name) not in BACKEND_ONLY_COLUMNS
    return include_name(name, type_, None)
