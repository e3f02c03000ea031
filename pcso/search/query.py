"""What a search asks for (SearchQuery, built from an allow-listed form) and what it answers (SearchPage)."""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from markupsafe import Markup

from ..models import (
    Entry, EntryKind, HandlingCode, IntelAssessment, NsirCategory, Person, SourceEvaluation, Vehicle, name_key,
    normalise_vrm,
)

PER_PAGE = 25
POLE_LIMIT = 10
MAX_RADIUS_M = 5_000
MAX_TERMS = 12
_WORD = re.compile(r"([^\W_]+)(\*?)")
# PostgreSQL's English stop words (tsearch_data/english.stop), dropped from queries on both backends
# so the same words find the same entries whichever database is behind the app.
STOP_WORDS = frozenset("""
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself it
its itself they them their theirs themselves what which who whom this that these those am is are was were be been
being have has had having do does did doing a an the and but if or because as until while of at by for with about
against between into through during before after above below to from up down in out on off over under again
further then once here there when where why how all any both each few more most other some such no nor not only own
same so than too very s t can will just don should now
""".split())


@dataclass(frozen=True)
class SearchQuery:
    """What to look for. Built by SearchForm.to_query() from allow-listed fields only."""

    text: str = ""
    kinds: tuple[EntryKind, ...] = ()
    beat_id: int | None = None
    date_from: date | None = None  # London dates, both ends included
    date_to: date | None = None
    author_id: int | None = None
    source_evaluation: SourceEvaluation | None = None
    assessment: IntelAssessment | None = None
    handling_code: HandlingCode | None = None
    nsir_category: NsirCategory | None = None
    person: str = ""
    vrm: str = ""
    near: tuple[float, float] | None = None  # (lat, lon)
    near_postcode: str | None = None  # what "near" was given as, for the page and the audit
    radius_m: int = 500
    page: int = 1

    @property
    def terms(self) -> list[tuple[str, bool]]:
        """The words of `text` as (word, is_prefix), stop words dropped, at most MAX_TERMS."""
        found = []
        for word, star in _WORD.findall(self.text.lower()):
            if (word not in STOP_WORDS or star) and (word, bool(star)) not in found:
                found.append((word, bool(star)))
        return found[:MAX_TERMS]

    @property
    def has_text(self) -> bool:
        return bool(self.terms)

    @property
    def has_filters(self) -> bool:
        """Anything beyond the words that narrows the entries."""
        return any(value not in (None, "", ()) for key, value in asdict(self).items()
                   if key not in ("text", "near_postcode", "radius_m", "page"))

    @property
    def person_key(self) -> str:
        return name_key(self.person)

    @property
    def vrm_key(self) -> str:
        return normalise_vrm(self.vrm)

    @property
    def is_empty(self) -> bool:
        """Nothing to search for: no words (stop words alone are none) and no filter."""
        terms = self.audit_terms()
        if not self.has_text:
            terms.pop("text", None)
        return not terms

    def audit_terms(self) -> dict[str, Any]:
        """The filters as submitted, for the audit log: empty ones left out, values as plain JSON."""
        terms = {}
        for key, value in asdict(self).items():
            if key in ("page", "radius_m") or value in (None, "", ()):
                continue
            if isinstance(value, (date, datetime)):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = [getattr(item, "value", item) for item in value]
            else:
                value = getattr(value, "value", value)
            terms[key] = value
        if self.near is not None:
            terms["radius_m"] = self.radius_m
        return terms


PEOPLE_SHOWN = 6  # people named on one result, with their roles ("and 3 more" after)


@dataclass
class SearchResult:
    entry: Entry
    snippet: Markup | None = None
    distance_m: float | None = None
    people: list = field(default_factory=list)  # [(Person, [LinkRole, ...])]: who was in the entry, and how

    @property
    def people_shown(self) -> list:
        return self.people[:PEOPLE_SHOWN]


@dataclass
class SearchPage:
    criteria: SearchQuery
    results: list[SearchResult]
    total: int
    page: int
    per_page: int = PER_PAGE
    people: list[Person] = field(default_factory=list)
    vehicles: list[Vehicle] = field(default_factory=list)
    more_people: bool = False
    more_vehicles: bool = False
    is_capped: bool = False  # more than `total` (COUNT_CAP) match: words alone are counted only so far
    is_newest_first: bool = False  # so many match that they are listed newest first, not by relevance

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.per_page + 1
