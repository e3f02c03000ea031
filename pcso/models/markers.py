"""Warning markers as data: the officer-safety markers a person may carry, from a TOML file per force.

The defaults are pcso/data/warning_markers.toml (PNC-style warning signals: violent, weapons, drugs, mental
health, self harm ...); a force sets WARNING_MARKERS_FILE to its own. A file that can't be applied stops the
app as it starts (WarningMarkersError names the marker and the problem). Codes are what records store: a code
no longer in the file still shows, as its code, on the records that carry it.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, has_app_context

DEFAULT_MARKERS_FILE = Path(__file__).resolve().parent.parent / "data" / "warning_markers.toml"
EXTENSION = "beatbook.warning_markers"
CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
KEYS = {"code", "label", "hint", "review_months", "retired"}


class WarningMarkersError(ValueError):
    """The markers file can't be applied: the message names the file, the marker and the problem."""


@dataclass(frozen=True)
class MarkerKind:
    code: str
    label: str
    hint: str = ""
    review_months: int | None = None
    retired: bool = False


def load_markers(path: str | Path | None = None) -> tuple[MarkerKind, ...]:
    path = Path(path or DEFAULT_MARKERS_FILE)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise WarningMarkersError(f"{path.name}: {error}") from error
    rows = data.get("markers")
    if not isinstance(rows, list) or not rows:
        raise WarningMarkersError(f"{path.name}: no [[markers]]")
    kinds, seen = [], set()
    for number, row in enumerate(rows, 1):
        where = f"{path.name}, marker {number}"
        if not isinstance(row, dict):
            raise WarningMarkersError(f"{where}: not a table")
        if unknown := set(row) - KEYS:
            raise WarningMarkersError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        code, label = row.get("code"), row.get("label")
        if not isinstance(code, str) or not CODE.match(code):
            raise WarningMarkersError(f"{where}: code must be lower case letters, digits and _ (at most 40)")
        if code in seen:
            raise WarningMarkersError(f"{where}: code {code!r} twice")
        if not isinstance(label, str) or not label.strip() or len(label) > 60:
            raise WarningMarkersError(f"{where} ({code}): a label of 1 to 60 characters is needed")
        months = row.get("review_months")
        if months is not None and (not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 120):
            raise WarningMarkersError(f"{where} ({code}): review_months must be a whole number from 1 to 120")
        seen.add(code)
        kinds.append(MarkerKind(code=code, label=label.strip(), hint=str(row.get("hint") or ""),
                                review_months=months, retired=bool(row.get("retired", False))))
    return tuple(kinds)


def init_markers(app) -> None:
    app.extensions[EXTENSION] = load_markers(app.config.get("WARNING_MARKERS_FILE") or None)


def marker_kinds() -> tuple[MarkerKind, ...]:
    if has_app_context():
        kinds = current_app.extensions.get(EXTENSION)
        if kinds is None:
            kinds = current_app.extensions[EXTENSION] = load_markers(current_app.config.get("WARNING_MARKERS_FILE"))
        return kinds
    return _defaults()


_default_cache: list = []


def _defaults() -> tuple[MarkerKind, ...]:
    if not _default_cache:
        _default_cache.append(load_markers())
    return _default_cache[0]


def offered() -> list[MarkerKind]:
    """The markers an officer may set now (retired ones are only shown)."""
    return [kind for kind in marker_kinds() if not kind.retired]


def marker_kind(code: str) -> MarkerKind | None:
    return next((kind for kind in marker_kinds() if kind.code == code), None)


def marker_label(code: str) -> str:
    kind = marker_kind(code)
    return kind.label if kind else code.replace("_", " ").capitalize()
