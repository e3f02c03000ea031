"""The search's SQL: the WHERE conditions, the page and count statements, "near a place", and their plans.

Speed (docs/PERFORMANCE.md, bench/search_1m.py): the full-text match drives the query. On SQLite the
FTS5 table is joined to entry with CROSS JOIN, which fixes the join order: SQLite must not start from
a (beat, date) index and re-run MATCH for every row it finds there. tests/test_search.py checks the
plans with EXPLAIN QUERY PLAN. The page and its count come from one pass (count(*) OVER ()); words
with no filter are read best first and counted only up to COUNT_CAP.

Access: every statement carries access.visible_entries(user) in its WHERE clause, the same rule
as the entry page.
"""
from __future__ import annotations

import itertools
import math
import re
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.selectable import Join

from ..access import visible_entries
from ..extensions import db
from ..geo import bounding_box, distance_m
from ..models import AsbIncident, Entry, IntelligenceReport, Link, Person, SearchDocument, User, Vehicle
from ..queries import like_pattern
from ..timeutil import london_day_start
from .query import PER_PAGE, SearchQuery


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
    if dialect_name() == "postgresql":
        matching = sa.select(Link.entry_id).where(column == sa.any_(_ArrayOf(matching)))
        return Entry.id.in_(matching)
    return Entry.id.in_(sa.select(Link.entry_id).where(column.in_(matching)))


def _trigram_ids(table: str, text: str):
    """Rowids of SQLite's FTS5 trigram table over `table` whose indexed text contains `text` (3+ characters)."""
    fts = f"{table}_fts"
    phrase = '"' + text.replace('"', '""') + '"'
    return sa.select(sa.literal_column("rowid")).select_from(sa.table(fts)).where(
        sa.literal_column(fts).op("MATCH")(sa.bindparam(f"{table}_trigram", phrase, type_=sa.Text)))


def people_named(key: str):
    """Live people whose name or an alias contains key (name_key form): a trigram index on both backends."""
    if dialect_name() == "sqlite" and len(key) >= 3:
        return sa.select(Person.id).where(Person.id.in_(_trigram_ids("person", key)), Person.merged_into_id.is_(None))
    pattern = like_pattern(key)
    return sa.select(Person.id).where(
        Person.merged_into_id.is_(None),
        sa.or_(Person.name_key.like(pattern, escape="\\"),
               sa.func.lower(sa.cast(Person.aliases, sa.Text)).like(pattern, escape="\\")))


def vehicles_like(vrm: str):
    """Live vehicles whose registration contains vrm (normalised): "AB12" finds AB12CDE."""
    if dialect_name() == "sqlite" and len(vrm) >= 3:
        return sa.select(Vehicle.id).where(Vehicle.id.in_(_trigram_ids("vehicle", vrm)),
                                           Vehicle.merged_into_id.is_(None))
    return sa.select(Vehicle.id).where(Vehicle.merged_into_id.is_(None),
                                       Vehicle.vrm.like(like_pattern(vrm), escape="\\"))


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
        conditions.append(_linked_to(Link.person_id, people_named(query.person_key)))
    if query.vrm_key:
        conditions.append(_linked_to(Link.vehicle_id, vehicles_like(query.vrm_key)))
    if query.near is not None:
        conditions += _circle(query, ring_ids)
    return conditions


def dialect_name() -> str:
    return db.session.get_bind().dialect.name


def fts_query(query: SearchQuery) -> str:
    """The words as an FTS5 query (SQLite) or a to_tsquery string (PostgreSQL): every word must
    appear; a word ending in * matches as a prefix. Words are letters and digits only, so nothing
    typed can change the query's syntax."""
    if dialect_name() == "postgresql":
        return " & ".join(word + (":*" if prefix else "") for word, prefix in query.terms)
    return " ".join(f'"{word}"' + ("*" if prefix else "") for word, prefix in query.terms)


REGCONFIG = sa.literal_column("'english'::regconfig")


# search_document.body_tsv: to_tsvector('english', body), stored by PostgreSQL (migration 0004, GIN-indexed)
_PG_VECTOR = sa.literal_column("search_document.body_tsv")


def pg_tsquery(text: str):
    return sa.func.to_tsquery(REGCONFIG, sa.bindparam("tsquery", text, type_=sa.Text))


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
    if dialect_name() == "postgresql":
        # Everything that matches, ranked, behind OFFSET 0: the planner must not walk an index in date
        # order hoping to stop after 25 rows (the count needs them all), nor carry the text to the sort.
        source, where, rank = Entry.__table__, list(conditions), sa.literal(0.0)
        if query.has_text:
            document = SearchDocument.__table__
            tsquery = pg_tsquery(fts_query(query))
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
NEWEST_FIRST_AT = 100_000  # PostgreSQL: words alone matching more (the planner's estimate) are shown newest first


def estimated_matches(query: SearchQuery) -> int:
    """PostgreSQL: the planner's estimate of the documents matching the words, from body_tsv's statistics (its
    most common lexemes; migration 0027 keeps 10,000 of them, statistics target 1000). About a millisecond,
    where counting the matches would read them all."""
    document = SearchDocument.__table__
    statement = sa.select(sa.literal(1)).select_from(document).where(
        _PG_VECTOR.op("@@")(pg_tsquery(fts_query(query))))
    plan = db.session.execute(_Explain(statement)).scalars().first() or ""
    found = re.search(r" rows=(\d+) ", plan)
    return int(found.group(1)) if found else 0


def newest_first(query: SearchQuery) -> bool:
    """Words alone, on PostgreSQL, matching 100,000 entries or more: ranking them all by relevance (ts_rank_cd
    reads every match's vector) took seconds at ten million entries, so the page lists the newest matches
    instead, read in date order from ix_entry_occurred_at until the page is full. SQLite's FTS5 keeps its
    ranks in the index and stays best first."""
    return walks_in_rank_order(query) and dialect_name() == "postgresql" and estimated_matches(query) >= NEWEST_FIRST_AT


def walks_in_rank_order(query: SearchQuery) -> bool:
    """Words and no filter: read the matches best first and stop at the page, counting to COUNT_CAP."""
    return query.has_text and not query.has_filters


def walk_statements(user: User, query: SearchQuery, head: int | None = None,
                    newest: bool = False) -> tuple[sa.Select, sa.Select]:
    """(page statement, capped count statement) for words alone.

    The database ranks every match anyway (the bare full-text query does no less), but the access
    rule is then checked only for the matches read until the page is full, and the count stops at
    COUNT_CAP + 1: the page says "more than 1,000", and the officer adds a filter. On PostgreSQL
    `head` keeps only the best `head` matches before the access rule (a top-N sort, as the bare
    query does); search() reads again without it in the rare case that leaves the page short.
    """
    visible = visible_entries(user)
    if dialect_name() == "postgresql":
        document = SearchDocument.__table__
        tsquery = pg_tsquery(fts_query(query))
        matches = _PG_VECTOR.op("@@")(tsquery)
        rank = sa.func.ts_rank_cd(_PG_VECTOR, tsquery)
        ranked = sa.select(document.c.entry_id.label("id"), rank.label("rank")).where(matches) \
            .order_by(rank.desc(), document.c.entry_id.desc())
        ranked = (ranked.limit(head) if head else ranked.offset(0)).subquery("ranked")
        page = sa.select(ranked.c.id).select_from(ranked.join(Entry, Entry.id == ranked.c.id)).where(visible) \
            .order_by(ranked.c.rank.desc(), ranked.c.id.desc())
        if newest:  # see newest_first()
            page = sa.select(Entry.id.label("id")).select_from(document.join(Entry, Entry.id == document.c.entry_id)) \
                .where(matches, visible).order_by(Entry.occurred_at.desc(), Entry.id.desc())
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


def ring_entry_ids(query: SearchQuery) -> list[int]:
    """Entries in the ring where the flat-earth distance could be wrong: geopy's geodesic distance decides."""
    min_lat, min_lon, max_lat, max_lon = bounding_box(query.near[0], query.near[1], query.radius_m)
    inside, outside = _radii(query)
    flat = _flat_m2(query, Entry.lat, Entry.lon)
    rows = db.session.execute(sa.select(Entry.id, Entry.lat, Entry.lon).where(
        Entry.lat.between(min_lat, max_lat), Entry.lon.between(min_lon, max_lon), flat > inside, flat <= outside))
    return [row.id for row in rows if distance_m(query.near[0], query.near[1], row.lat, row.lon) <= query.radius_m]


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
