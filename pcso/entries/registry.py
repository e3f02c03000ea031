"""Every kind of entry, in one place. Everything that loops over kinds reads KINDS: forms, the services, search
text, the detail page and PDF, exports, colours, the API's schemas. A new kind is one module in kinds/, its
model and migration, and templates/entries/_fields_<kind>.html; tests/test_registry.py fails when a part is missing.
"""
from __future__ import annotations

from ..models import EntryKind
from .kinds import asb_incident, intelligence_report, patrol, school_visit, welfare_check
from .kinds.base import Kind

KINDS: dict[EntryKind, Kind] = {
    module.KIND.kind: module.KIND
    for module in (patrol, asb_incident, school_visit, welfare_check, intelligence_report)
}


def kind_of(kind: EntryKind | str) -> Kind:
    """The declaration of a kind, by EntryKind or its value ('asb_incident'). KeyError when unknown."""
    return KINDS[EntryKind(kind)]
