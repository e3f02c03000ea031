"""Query pieces every feature shares: the polymorphic entry and a LIKE pattern for typed text."""
from __future__ import annotations

from sqlalchemy.orm import with_polymorphic

from .models import Entry

# An entry loaded with its kind's columns, whatever the kind (pcso.models imports every kind's model).
AnyEntry = with_polymorphic(Entry, "*")


def like_pattern(text: str) -> str:
    """`%text%` with LIKE's wildcards escaped (use with `escape="\\\\"`): typed `%` or `_` match themselves."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
