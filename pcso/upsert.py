"""Shared by the importers: update a stored row only where the new values differ."""
from __future__ import annotations

from typing import Any


def assign_changed(row: Any, values: dict[str, Any]) -> bool:
    """Set the values that differ; True when anything changed (so re-imports count as unchanged)."""
    changed = {key: value for key, value in values.items() if getattr(row, key) != value}
    for key, value in changed.items():
        setattr(row, key, value)
    return bool(changed)
