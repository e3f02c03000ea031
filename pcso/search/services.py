"""Search over entries and POLE records: one interface, SQLite FTS5 or PostgreSQL full text behind it.

- search(user, query) answers a SearchQuery (built from an allow-listed form, never from column
  names in the request) with one page of ranked entries and the people and vehicles that match;
  record_search() audits it. The index is in index.py, the SQL in statements.py, POLE records in
  records.py.

Access: every statement carries access.visible_entries(user) in its WHERE clause, the same rule
as the entry page, and POLE records are found only through links into entries the user may see.
"""
from __future__ import annotations

import math

import sqlalchemy as sa
from markupsafe import Markup, escape
from sqlalchemy.orm import joinedload

from .. import audit
from ..extensions import db
from ..geo import distance_m
from ..models import AuditAction, Entry, SearchDocument, User
from .index import MARK_CLOSE, MARK_OPEN
from .query import PER_PAGE, SearchPage, SearchQuery, SearchResult
from .records import matching_people, matching_vehicles, people_in
from .statements import (
    COUNT_CAP, REGCONFIG, dialect_name, fts_query, newest_first, pg_tsquery, ring_entry_ids, statements,
    walk_statements, walks_in_rank_order,
)


def search(user: User, query: SearchQuery) -> SearchPage:
    """One page of the entries `user` may see that match `query`, best first, and the POLE records found."""
    page = max(query.page, 1)
    capped = newest = False
    if walks_in_rank_order(query):
        newest = newest_first(query)
        _, count_statement = walk_statements(user, query)
        total = db.session.scalar(count_statement) or 0
        capped, total = total > COUNT_CAP, min(total, COUNT_CAP)
        page = min(page, max(1, math.ceil(total / PER_PAGE)))
        wanted = min(PER_PAGE, total - (page - 1) * PER_PAGE)
        for head in (None,) if newest else (page * PER_PAGE * 8 + 1_000, None):
            page_statement, _ = walk_statements(user, query, head, newest=newest)
            rows = db.session.execute(page_statement.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
            if len(rows) >= wanted:
                break
    else:
        ring_ids = ring_entry_ids(query) if query.near is not None else None
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
    roles = people_in(page_ids)
    results = []
    for entry_id in page_ids:
        entry = entries.get(entry_id)
        if entry is None:
            continue
        distance = (distance_m(query.near[0], query.near[1], entry.lat, entry.lon)
                    if query.near is not None else None)
        results.append(SearchResult(entry, snippets.get(entry_id), distance, roles.get(entry_id, [])))
    people, more_people = matching_people(user, query)
    vehicles, more_vehicles = matching_vehicles(user, query)
    return SearchPage(criteria=query, results=results, total=total, page=page, people=people, vehicles=vehicles,
                      more_people=more_people, more_vehicles=more_vehicles, is_capped=capped,
                      is_newest_first=newest)


def record_search(page: SearchPage, *, actor: User) -> None:
    """Every search is consultation (DPA 2018 s.62): its terms and what it found, in the same transaction.

    Answering people and vehicles beside the entries they appear in joins records: joined=true (see
    pcso/audit.py). The entries, people and vehicles shown are named by the request's view event."""
    joined = {"joined": True} if page.people or page.vehicles else {}
    audit.record(AuditAction.SEARCH, actor=actor, object_type="entry", scope="search",
                 terms=page.criteria.audit_terms(), page=page.page, results=page.total, more=page.is_capped,
                 people=len(page.people), vehicles=len(page.vehicles), **joined)
    audit.consulted([result.entry for result in page.results], actor=actor, object_type="entry")
    audit.consulted([*page.people, *page.vehicles], actor=actor)
    audit.consulted([person for result in page.results for person, _ in result.people_shown], actor=actor)


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
    # bandit's B704 (Markup) holds no risk: the text is escaped first, only the match markers become <mark>
    return Markup(str(safe).replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>"))  # nosec B704


def _snippets(query: SearchQuery, ids: list[int]) -> dict[int, Markup]:
    if not ids:
        return {}
    if dialect_name() == "postgresql":
        document = SearchDocument.__table__
        options = (f"StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}, MaxWords=24, MinWords=10, MaxFragments=2, "
                   'FragmentDelimiter=" … "')
        headline = sa.func.ts_headline(REGCONFIG, document.c.body, pg_tsquery(fts_query(query)),
                                       sa.bindparam("headline_options", options, type_=sa.Text))
        rows = db.session.execute(sa.select(document.c.entry_id, headline).where(document.c.entry_id.in_(ids)))
    else:
        snippet = sa.func.snippet(sa.literal_column("search_fts"), 0, MARK_OPEN, MARK_CLOSE, "…", 24)
        rows = db.session.execute(
            sa.select(sa.literal_column("rowid"), snippet).select_from(sa.table("search_fts"))
            .where(sa.literal_column("search_fts").op("MATCH")(sa.bindparam("fts", fts_query(query), type_=sa.Text)),
                   sa.literal_column("rowid").in_(ids)))
    return {entry_id: highlight(text) for entry_id, text in rows}
