"""Search over entries and POLE records: one interface, SQLite FTS5 or PostgreSQL full text behind it.

- index_entry(entry) writes the entry's searchable text (search_document) in the caller's
  transaction; the entry services call it on every create, update, submit and end. The full-text
  index over that text is kept by the database (FTS5 triggers on SQLite; on PostgreSQL a stored,
  GIN-indexed tsvector). After a person or vehicle is renamed or merged, reindex_linked_to(record).
- search(user, query) answers a SearchQuery (built from an allow-listed form, never from column
  names in the request) with one page of ranked entries and the people and vehicles that match.

Access: every statement carries access.visible_entries(user) in its WHERE clause, the same rule
as the entry page, and POLE records are found only through links into entries the user may see.

Speed (docs/PERFORMANCE.md, bench/search_1m.py): the full-text match drives the query. On SQLite the
FTS5 table is joined to entry with CROSS JOIN, which fixes the join order: SQLite must not start from
a (beat, date) index and re-run MATCH for every row it finds there. tests/test_search.py checks the
plans with EXPLAIN QUERY PLAN. The page and its count come from one pass (count(*) OVER ()); words
with no filter are read best first and counted only up to COUNT_CAP.
"""
from __future__ import annotations

import itertools
import math
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup, escape
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload, selectinload, with_polymorphic
from sqlalchemy.sql.selectable import Join

from .. import audit
from ..access import visible_entries
from ..extensions import db
from ..geo import bounding_box, distance_m
from ..models import (
    AsbIncident, AuditAction, Entry, EntryKind, HandlingCode, IntelAssessment, IntelligenceReport, Link, NsirCategory, Patrol,
    Person, SchoolVisit, SearchDocument, SourceEvaluation, User, Vehicle, WelfareCheck, name_key, normalise_vrm,
)
from ..timeutil import london_day_start

PER_PAGE = 25
POLE_LIMIT = 10
MAX_RADIUS_M = 5_000
MAX_TERMS = 12
# Snippet markers: control characters index_entry strips from every document, so text typed into an
# entry can never forge one. Everything else is HTML-escaped before they become <mark>.
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
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

AnyEntry = with_polymorphic(Entry, "*")


# --- the document ---------------------------------------------------------------------------------


def document_text(entry: Entry) -> str:
    """What search reads for an entry: summary, narrative, place, and the records linked to it.

    An intelligence report contributes its sanitised text only: source details never enter the index.
    """
    parts: list[Any] = [entry.summary]
    if isinstance(entry, Patrol):
        parts += [entry.purpose, entry.notes]
    elif isinstance(entry, AsbIncident):
        parts += [entry.asb_type.value.replace("_", " ") if entry.asb_type else None, entry.description,
                  entry.action_taken, entry.control_room_ref]
    elif isinstance(entry, SchoolVisit):
        parts += [entry.school.name if entry.school else None, entry.topic, entry.year_groups, entry.follow_ups]
    elif isinstance(entry, WelfareCheck):
        parts += [entry.others_present, entry.child_words, entry.observations]
    elif isinstance(entry, IntelligenceReport):
        parts += [entry.sanitised_text]
    parts.append(entry.location_text)
    for link in sorted(entry.links, key=lambda item: (item.position, item.id or 0)):
        if link.person is not None:
            parts += [link.person.full_name, *(link.person.aliases or [])]
        elif link.vehicle is not None:
            parts += [link.vehicle.vrm, link.vehicle.colour, link.vehicle.make, link.vehicle.model]
        elif link.location is not None:
            parts += [link.location.address, link.location.postcode]
        elif link.organisation is not None:
            parts += [link.organisation.name]
        parts.append(link.note)
    text = "\n".join(str(part).strip() for part in parts if part is not None and str(part).strip())
    return _CONTROL.sub(" ", text)


def index_entry(entry: Entry) -> None:
    """Write the entry's search document in the current transaction (flush, never commit)."""
    index_entries([entry])


def index_entries(entries: list[Entry]) -> None:
    """index_entry() for many entries at once: one query for the documents there are, one flush."""
    db.session.flush()  # ids and links
    existing = {document.entry_id: document for document in db.session.scalars(
        sa.select(SearchDocument).where(SearchDocument.entry_id.in_([entry.id for entry in entries])))}
    for entry in entries:
        body = document_text(entry)
        document = existing.get(entry.id)
        if document is None:
            db.session.add(SearchDocument(entry_id=entry.id, body=body))
        elif document.body != body:
            document.body = body
    db.session.flush()


def reindex_entries(entry_ids: list[int] | None = None, *, batch: int = 500) -> int:
    """Rebuild the documents of these entries (all when None) with the current rules. Flushes only."""
    if entry_ids is None:
        entry_ids = list(db.session.scalars(sa.select(Entry.id).order_by(Entry.id)))
    for start in range(0, len(entry_ids), batch):
        chunk = entry_ids[start:start + batch]
        entries = db.session.scalars(
            sa.select(AnyEntry).where(AnyEntry.id.in_(chunk)).options(
                selectinload(AnyEntry.links).selectinload(Link.person),
                selectinload(AnyEntry.links).selectinload(Link.vehicle),
                selectinload(AnyEntry.links).selectinload(Link.location),
                selectinload(AnyEntry.links).selectinload(Link.organisation))).all()
        index_entries(list(entries))
    return len(entry_ids)


def reindex_linked_to(record) -> int:
    """After a person, vehicle, location or organisation changes (renamed, merged): its entries' text."""
    column = getattr(Link, f"{type(record).__tablename__}_id")
    return reindex_entries(list(db.session.scalars(sa.select(Link.entry_id).where(column == record.id).distinct())))


# --- the query ------------------------------------------------------------------------------------


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


@dataclass
class SearchResult:
    entry: Entry
    snippet: Markup | None = None
    distance_m: float | None = None


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


# --- SQL pieces -----------------------------------------------------------------------------------


class _CrossJoin(Join):
    """JOIN that SQLite may not reorder: its left side (the FTS5 match) drives the query."""

    inherit_cache = True


@compiles(_CrossJoin, "sqlite")
def _compile_cross_join(join, compiler, asfrom=False, from_linter=None, **kw):
    if from_linter is not None:
        from_linter.edges.update(itertools.product(join.left._from_objects, join.right._from_objects))
    left = join.left._compiler_dispatch(compiler, asfrom=True, from_linter=from_linter, **kw)
    right = join.right._compiler_dispatch(compiler, asfrom=True, from_linter=from_linter, **kw)
    onclause = join.onclause._compiler_dispatch(compiler, from_linter=from_linter, **kw)
    return f"{left} CROSS JOIN {right} ON {onclause}"


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _kind_row(model, conditions) -> sa.ColumnElement[bool]:
    """The entry's row in its kind's table meets conditions (a primary-key probe per entry)."""
    table = model.__table__.alias(f"{model.__tablename__}_filter")
    return sa.exists().where(table.c.id == Entry.id, *conditions(table.c))


class _ArrayOf(sa.sql.expression.ColumnElement):
    """PostgreSQL's ARRAY(subquery): evaluated once, then used as `= ANY(...)` on an index."""

    inherit_cache = True

    def __init__(self, select):
        self.select = select.scalar_subquery()
        self.type = sa.ARRAY(sa.Integer)


@compiles(_ArrayOf, "postgresql")
def _compile_array_of(element, compiler, **kw):
    return "ARRAY" + compiler.process(element.select, **kw)


def _linked_to(column, matching) -> sa.ColumnElement[bool]:
    """The entry links a record among `matching` (a select of ids).

    On PostgreSQL the records go in as `= ANY(ARRAY(...))`: found first (a trigram index), then their
    links by index. As a join, the planner guesses the number of matches from a LIKE pattern and may
    merge-join the whole link table instead.
    """
    if _dialect() == "postgresql":
        matching = sa.select(Link.entry_id).where(column == sa.any_(_ArrayOf(matching)))
        return Entry.id.in_(matching)
    return Entry.id.in_(sa.select(Link.entry_id).where(column.in_(matching)))


def _trigram_ids(table: str, text: str):
    """Rowids of SQLite's FTS5 trigram table over `table` whose indexed text contains `text` (3+ characters)."""
    fts = f"{table}_fts"
    phrase = '"' + text.replace('"', '""') + '"'
    return sa.select(sa.literal_column("rowid")).select_from(sa.table(fts)).where(
        sa.literal_column(fts).op("MATCH")(sa.bindparam(f"{table}_trigram", phrase, type_=sa.Text)))


def _people_named(key: str):
    """Live people whose name or an alias contains key (name_key form): a trigram index on both backends."""
    if _dialect() == "sqlite" and len(key) >= 3:
        return sa.select(Person.id).where(Person.id.in_(_trigram_ids("person", key)), Person.merged_into_id.is_(None))
    pattern = _like(key)
    return sa.select(Person.id).where(
        Person.merged_into_id.is_(None),
        sa.or_(Person.name_key.like(pattern, escape="\\"),
               sa.func.lower(sa.cast(Person.aliases, sa.Text)).like(pattern, escape="\\")))


def _vehicles_like(vrm: str):
    """Live vehicles whose registration contains vrm (normalised): "AB12" finds AB12CDE."""
    if _dialect() == "sqlite" and len(vrm) >= 3:
        return sa.select(Vehicle.id).where(Vehicle.id.in_(_trigram_ids("vehicle", vrm)),
                                           Vehicle.merged_into_id.is_(None))
    return sa.select(Vehicle.id).where(Vehicle.merged_into_id.is_(None),
                                       Vehicle.vrm.like(_like(vrm), escape="\\"))


def entry_conditions(user: User, query: SearchQuery, ring_ids: list[int] | None = None
                     ) -> list[sa.ColumnElement[bool]]:
    """Every WHERE condition on entry: the access rule first, then each filter given.

    For "near", ring_ids are the entries in the thin ring at the radius that geopy has confirmed
    (see _circle); None leaves the ring in, as for EXPLAIN.
    """
    conditions = [visible_entries(user)]
    if query.kinds:
        conditions.append(Entry.kind.in_(list(query.kinds)))
    if query.beat_id is not None:
        conditions.append(Entry.beat_id == query.beat_id)
    if query.date_from is not None:
        conditions.append(Entry.occurred_at >= london_day_start(query.date_from))
    if query.date_to is not None:
        conditions.append(Entry.occurred_at < london_day_start(query.date_to + timedelta(days=1)))
    if query.author_id is not None:
        conditions.append(Entry.author_id == query.author_id)
    grading = [(name, value) for name, value in (("source_evaluation", query.source_evaluation),
                                                ("assessment", query.assessment),
                                                ("handling_code", query.handling_code)) if value is not None]
    if grading:
        conditions.append(_kind_row(IntelligenceReport, lambda c: [c[name] == value for name, value in grading]))
    if query.nsir_category is not None:
        conditions.append(_kind_row(AsbIncident, lambda c: [c.nsir_category == query.nsir_category]))
    if query.person_key:
        conditions.append(_linked_to(Link.person_id, _people_named(query.person_key)))
    if query.vrm_key:
        conditions.append(_linked_to(Link.vehicle_id, _vehicles_like(query.vrm_key)))
    if query.near is not None:
        conditions += _circle(query, ring_ids)
    return conditions


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def fts_query(query: SearchQuery) -> str:
    """The words as an FTS5 query (SQLite) or a to_tsquery string (PostgreSQL): every word must
    appear; a word ending in * matches as a prefix. Words are letters and digits only, so nothing
    typed can change the query's syntax."""
    if _dialect() == "postgresql":
        return " & ".join(word + (":*" if prefix else "") for word, prefix in query.terms)
    return " ".join(f'"{word}"' + ("*" if prefix else "") for word, prefix in query.terms)


_REGCONFIG = sa.literal_column("'english'::regconfig")


# search_document.body_tsv: to_tsvector('english', body), stored by PostgreSQL (migration 0004, GIN-indexed)
_PG_VECTOR = sa.literal_column("search_document.body_tsv")


def _pg_tsquery(text: str):
    return sa.func.to_tsquery(_REGCONFIG, sa.bindparam("tsquery", text, type_=sa.Text))


def _match_sqlite(query: SearchQuery, *, ranked: bool = True):
    """The FTS5 match as a subquery of (entry_id[, rank]): the table the CROSS JOIN starts from."""
    columns = [sa.literal_column("rowid").label("entry_id")]
    if ranked:
        columns.append(sa.literal_column("rank").label("rank"))
    return sa.select(*columns).select_from(sa.table("search_fts")) \
        .where(sa.literal_column("search_fts").op("MATCH")(sa.bindparam("fts", fts_query(query), type_=sa.Text))) \
        .subquery("fts_match")


def statements(user: User, query: SearchQuery, ring_ids: list[int] | None = None) -> tuple[sa.Select, sa.Select]:
    """(page statement, count statement) for the entries.

    The page statement gives each id and, in the same pass, how many there are (count(*) OVER ()):
    a second pass over every match only to count them would double the time of a common word.
    With words, the full-text side drives: SQLite joins the FTS5 match to entry with CROSS JOIN (which
    fixes the order). PostgreSQL finds and ranks the matches inside a subquery kept apart by OFFSET 0,
    so that only (id, date, rank) reach the sort, which then keeps the top rows.
    """
    conditions = entry_conditions(user, query, ring_ids)
    total = sa.func.count().over().label("total")
    if _dialect() == "postgresql":
        # Everything that matches, ranked, behind OFFSET 0: the planner must not walk an index in date
        # order hoping to stop after 25 rows (the count needs them all), nor carry the text to the sort.
        source, where, rank = Entry.__table__, list(conditions), sa.literal(0.0)
        if query.has_text:
            document = SearchDocument.__table__
            tsquery = _pg_tsquery(fts_query(query))
            source = document.join(Entry, Entry.id == document.c.entry_id)
            where.insert(0, _PG_VECTOR.op("@@")(tsquery))
            rank = sa.func.ts_rank_cd(_PG_VECTOR, tsquery)
        ranked = sa.select(Entry.id.label("id"), Entry.occurred_at.label("occurred_at"), rank.label("rank")) \
            .select_from(source).where(*where).offset(0).subquery("ranked")
        return (sa.select(ranked.c.id, total).order_by(ranked.c.rank.desc(), ranked.c.occurred_at.desc(),
                                                        ranked.c.id.desc()),
                sa.select(sa.func.count()).select_from(source).where(*where))
    if not query.has_text:
        return (sa.select(Entry.id, total).where(*conditions).order_by(Entry.occurred_at.desc(), Entry.id.desc()),
                sa.select(sa.func.count()).select_from(Entry).where(*conditions))
    match = _match_sqlite(query)
    source = _CrossJoin(match, Entry.__table__, match.c.entry_id == Entry.id)
    return (sa.select(Entry.id, total, match.c.rank).select_from(source).where(*conditions)
            .order_by(match.c.rank, Entry.occurred_at.desc(), Entry.id.desc()),
            sa.select(sa.func.count()).select_from(source).where(*conditions))


COUNT_CAP = 1_000


def walks_in_rank_order(query: SearchQuery) -> bool:
    """Words and no filter: read the matches best first and stop at the page, counting to COUNT_CAP."""
    return query.has_text and not query.has_filters


def walk_statements(user: User, query: SearchQuery, head: int | None = None) -> tuple[sa.Select, sa.Select]:
    """(page statement, capped count statement) for words alone.

    The database ranks every match anyway (the bare full-text query does no less), but the access
    rule is then checked only for the matches read until the page is full, and the count stops at
    COUNT_CAP + 1: the page says "more than 1,000", and the officer adds a filter. On PostgreSQL
    `head` keeps only the best `head` matches before the access rule (a top-N sort, as the bare
    query does); search() reads again without it in the rare case that leaves the page short.
    """
    visible = visible_entries(user)
    if _dialect() == "postgresql":
        document = SearchDocument.__table__
        tsquery = _pg_tsquery(fts_query(query))
        matches = _PG_VECTOR.op("@@")(tsquery)
        rank = sa.func.ts_rank_cd(_PG_VECTOR, tsquery)
        ranked = sa.select(document.c.entry_id.label("id"), rank.label("rank")).where(matches) \
            .order_by(rank.desc(), document.c.entry_id.desc())
        ranked = (ranked.limit(head) if head else ranked.offset(0)).subquery("ranked")
        page = sa.select(ranked.c.id).select_from(ranked.join(Entry, Entry.id == ranked.c.id)).where(visible) \
            .order_by(ranked.c.rank.desc(), ranked.c.id.desc())
        some = sa.select(sa.literal(1)).select_from(document.join(Entry, Entry.id == document.c.entry_id)) \
            .where(matches, visible).limit(COUNT_CAP + 1).subquery("some")
    else:
        match = _match_sqlite(query)
        # ORDER BY rank alone is handed to FTS5, which returns the matches best first
        page = sa.select(Entry.id).select_from(_CrossJoin(match, Entry.__table__, match.c.entry_id == Entry.id)) \
            .where(visible).order_by(match.c.rank)
        unranked = _match_sqlite(query, ranked=False)
        some = sa.select(sa.literal(1)).select_from(
            _CrossJoin(unranked, Entry.__table__, unranked.c.entry_id == Entry.id)).where(visible) \
            .limit(COUNT_CAP + 1).subquery("some")
    return page, sa.select(sa.func.count()).select_from(some)


# --- near a place: a box in SQL, then the circle -----------------------------------------------------------

_WGS84_A, _WGS84_E2 = 6_378_137.0, 6.694379990141e-3
RING = 0.005  # the local flat-earth distance is within 0.1 % of the geodesic one up to 5 km: 0.5 % is ample


def _metres_per_degree(lat: float) -> tuple[float, float]:
    """(north, east) metres per degree at `lat` on WGS84: meridional and prime-vertical radii."""
    sin2 = math.sin(math.radians(lat)) ** 2
    north = _WGS84_A * (1 - _WGS84_E2) / (1 - _WGS84_E2 * sin2) ** 1.5
    east = _WGS84_A / math.sqrt(1 - _WGS84_E2 * sin2) * math.cos(math.radians(lat))
    return north * math.pi / 180, east * math.pi / 180


def _flat_m2(query: SearchQuery, lat, lon):
    """Squared flat-earth distance from the point, in metres: SQL columns or plain floats alike."""
    north, east = _metres_per_degree(query.near[0])
    dy, dx = (lat - query.near[0]) * north, (lon - query.near[1]) * east
    return dy * dy + dx * dx


def _radii(query: SearchQuery) -> tuple[float, float]:
    return (query.radius_m * (1 - RING)) ** 2, (query.radius_m * (1 + RING) + 1) ** 2


def _circle(query: SearchQuery, ring_ids: list[int] | None) -> list[sa.ColumnElement[bool]]:
    """The box (geo.bounding_box, on ix_entry_lat_lon), then the circle: the flat-earth distance settles
    every entry but those in a thin ring at the radius, which geopy has settled already (ring_ids)."""
    min_lat, min_lon, max_lat, max_lon = bounding_box(query.near[0], query.near[1], query.radius_m)
    inside, outside = _radii(query)
    flat = _flat_m2(query, Entry.lat, Entry.lon)
    box = [Entry.lat.between(min_lat, max_lat), Entry.lon.between(min_lon, max_lon)]
    if ring_ids is None:
        return box + [flat <= outside]
    return box + [sa.or_(flat <= inside, Entry.id.in_(ring_ids)) if ring_ids else flat <= inside]


def _ring_ids(query: SearchQuery) -> list[int]:
    """Entries in the ring where the flat-earth distance could be wrong: geopy's geodesic distance decides."""
    min_lat, min_lon, max_lat, max_lon = bounding_box(query.near[0], query.near[1], query.radius_m)
    inside, outside = _radii(query)
    flat = _flat_m2(query, Entry.lat, Entry.lon)
    rows = db.session.execute(sa.select(Entry.id, Entry.lat, Entry.lon).where(
        Entry.lat.between(min_lat, max_lat), Entry.lon.between(min_lon, max_lon), flat > inside, flat <= outside))
    return [row.id for row in rows if distance_m(query.near[0], query.near[1], row.lat, row.lon) <= query.radius_m]


def search(user: User, query: SearchQuery) -> SearchPage:
    """One page of the entries `user` may see that match `query`, best first, and the POLE records found."""
    page = max(query.page, 1)
    capped = False
    if walks_in_rank_order(query):
        _, count_statement = walk_statements(user, query)
        total = db.session.scalar(count_statement) or 0
        capped, total = total > COUNT_CAP, min(total, COUNT_CAP)
        page = min(page, max(1, math.ceil(total / PER_PAGE)))
        wanted = min(PER_PAGE, total - (page - 1) * PER_PAGE)
        for head in (page * PER_PAGE * 8 + 1_000, None):
            page_statement, _ = walk_statements(user, query, head)
            rows = db.session.execute(page_statement.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
            if len(rows) >= wanted:
                break
    else:
        ring_ids = _ring_ids(query) if query.near is not None else None
        page_statement, count_statement = statements(user, query, ring_ids)
        rows = db.session.execute(page_statement.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
        if rows:
            total = rows[0].total
        else:
            total = db.session.scalar(count_statement) or 0 if page > 1 else 0
            last = max(1, math.ceil(total / PER_PAGE))
            if page > last:  # past the end: show the last page
                page = last
                rows = db.session.execute(page_statement.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    page_ids = [row.id for row in rows]
    entries = _load(page_ids)
    snippets = _snippets(query, page_ids) if query.has_text else {}
    results = []
    for entry_id in page_ids:
        entry = entries.get(entry_id)
        if entry is None:
            continue
        distance = (distance_m(query.near[0], query.near[1], entry.lat, entry.lon)
                    if query.near is not None else None)
        results.append(SearchResult(entry, snippets.get(entry_id), distance))
    people, more_people = _people(user, query)
    vehicles, more_vehicles = _vehicles(user, query)
    return SearchPage(criteria=query, results=results, total=total, page=page, people=people, vehicles=vehicles,
                      more_people=more_people, more_vehicles=more_vehicles, is_capped=capped)


def record_search(page: SearchPage, *, actor: User) -> None:
    """Every search is consultation (DPA 2018 s.62): its terms and what it found, in the same transaction."""
    audit.record(AuditAction.SEARCH, actor=actor, object_type="entry", scope="search",
                 terms=page.criteria.audit_terms(), page=page.page, results=page.total, more=page.is_capped,
                 people=len(page.people), vehicles=len(page.vehicles))


def _load(ids: list[int]) -> dict[int, Entry]:
    if not ids:
        return {}
    # The list shows only what every entry has: kind tables' columns stay unloaded (no outer joins).
    rows = db.session.scalars(sa.select(Entry).where(Entry.id.in_(ids)).options(
        joinedload(Entry.beat), joinedload(Entry.author)))
    return {entry.id: entry for entry in rows}


def highlight(raw: str | None) -> Markup | None:
    """Escape a snippet, then turn the database's match markers into <mark>."""
    if not raw:
        return None
    safe = escape(raw)
    return Markup(str(safe).replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>"))


def _snippets(query: SearchQuery, ids: list[int]) -> dict[int, Markup]:
    if not ids:
        return {}
    if _dialect() == "postgresql":
        document = SearchDocument.__table__
        options = (f"StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}, MaxWords=24, MinWords=10, MaxFragments=2, "
                   'FragmentDelimiter=" … "')
        headline = sa.func.ts_headline(_REGCONFIG, document.c.body, _pg_tsquery(fts_query(query)),
                                       sa.bindparam("headline_options", options, type_=sa.Text))
        rows = db.session.execute(sa.select(document.c.entry_id, headline).where(document.c.entry_id.in_(ids)))
    else:
        snippet = sa.func.snippet(sa.literal_column("search_fts"), 0, MARK_OPEN, MARK_CLOSE, "…", 24)
        rows = db.session.execute(
            sa.select(sa.literal_column("rowid"), snippet).select_from(sa.table("search_fts"))
            .where(sa.literal_column("search_fts").op("MATCH")(sa.bindparam("fts", fts_query(query), type_=sa.Text)),
                   sa.literal_column("rowid").in_(ids)))
    return {entry_id: highlight(text) for entry_id, text in rows}


# --- POLE records ---------------------------------------------------------------------------------


CANDIDATE_BATCH = 200
MAX_CANDIDATES = 2_000


def _visible_records(user: User, model, candidates: sa.Select, order) -> tuple[list, bool]:
    """Records among `candidates` linked to an entry the user may see, in `order`, at most POLE_LIMIT.

    Two steps, so no planner can decide to join every visible link in the force first: the matching
    records (a trigram index), then a batch at a time, which of them a visible entry links
    (access.visible_entries on the entry, the same rule as its page).
    """
    column = getattr(Link, f"{model.__tablename__}_id")
    ids = list(db.session.scalars(sa.select(model.id).where(model.id.in_(candidates)).order_by(*order)
                                  .limit(MAX_CANDIDATES + 1)))
    seen: list[int] = []
    for start in range(0, min(len(ids), MAX_CANDIDATES), CANDIDATE_BATCH):
        batch = ids[start:start + CANDIDATE_BATCH]
        links = db.session.execute(sa.select(column, Link.entry_id).where(column.in_(batch))).all()
        entry_ids = {entry_id for _, entry_id in links}
        visible = set(db.session.scalars(sa.select(Entry.id).where(Entry.id.in_(entry_ids), visible_entries(user)))
                      ) if entry_ids else set()
        linked = {record_id for record_id, entry_id in links if entry_id in visible}
        seen += [record_id for record_id in batch if record_id in linked]
        if len(seen) > POLE_LIMIT:
            break
    more = len(seen) > POLE_LIMIT or len(ids) > MAX_CANDIDATES
    records = {r.id: r for r in db.session.scalars(sa.select(model).where(model.id.in_(seen[:POLE_LIMIT])))}
    return [records[i] for i in seen[:POLE_LIMIT]], more


def _people(user: User, query: SearchQuery) -> tuple[list[Person], bool]:
    key = query.person_key or (name_key(query.text) if query.has_text else "")
    if len(key) < 2:
        return [], False
    return _visible_records(user, Person, _people_named(key), (Person.name_key, Person.id))


def _vehicles(user: User, query: SearchQuery) -> tuple[list[Vehicle], bool]:
    vrm = query.vrm_key
    if not vrm and query.has_text:
        typed = normalise_vrm(query.text)
        vrm = typed if re.fullmatch(r"[A-Z0-9]{2,8}", typed) and re.search(r"\d", typed) else ""
    if len(vrm) < 2:
        return [], False
    return _visible_records(user, Vehicle, _vehicles_like(vrm), (Vehicle.vrm, Vehicle.id))


# --- plans ----------------------------------------------------------------------------------------


class _Explain(sa.sql.expression.Executable, sa.sql.expression.ClauseElement):
    inherit_cache = False

    def __init__(self, statement):
        self.statement = statement


@compiles(_Explain)
def _compile_explain(element, compiler, **kw):
    prefix = "EXPLAIN QUERY PLAN " if compiler.dialect.name == "sqlite" else "EXPLAIN "
    return prefix + compiler.process(element.statement, **kw)


def explain(user: User, query: SearchQuery, *, count: bool = False) -> list[str]:
    """The database's plan for the page (or count) statement: EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL."""
    if walks_in_rank_order(query):
        page_statement, count_statement = walk_statements(user, query)
    else:
        page_statement, count_statement = statements(user, query)
    statement = count_statement if count else page_statement.limit(PER_PAGE)
    rows = db.session.execute(_Explain(statement)).all()
    return [row[-1] for row in rows]
