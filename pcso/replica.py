"""An optional read replica for analysts' searches (DATABASE_REPLICA_URL).

When ``DATABASE_REPLICA_URL`` is set it is bound as ``SQLALCHEMY_BINDS["replica"]`` and the session routes to it
the SELECTs of a view marked ``@replica_reads`` (the search results page), and nothing else:

- only plain SELECTs, outside a flush: every write, and every read of a request not marked, goes to the primary;
- never the tables that decide who the user is and what they asked for (sessions, users, tokens, saved searches,
  idempotency keys, rate-limit counters, the audit log, the beat index's version): a sign-out or a new saved
  search takes effect at once, however far the replica lags;
- never for a user who wrote in the last ``REPLICA_STICKY_SECONDS`` (default 60): every successful POST/PUT/DELETE
  of a signed-in user, other than a marked view's own (the search form only saves the query), stamps their session
  with the time, so their own new entry is in their next search even when the replica is behind.
The replica's connections never take SQLite's write lock (a copy standing in for a replica, in the tests).
"""
from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context, request, session
from flask_sqlalchemy.session import Session

BIND = "replica"
WROTE_AT = "wrote_at"
READ_METHODS = {"GET", "HEAD", "OPTIONS"}
PRIMARY_ONLY = frozenset({
    "user", "user_session", "api_token", "saved_search", "idempotency_key", "rate_limit_counter", "audit_event",
    "audit_leaf", "audit_checkpoint", "beat_index_version", "alembic_version",
})


def replica_reads(view: Callable) -> Callable:
    """Mark a view whose reads may come from the replica (see the module's note for which do)."""
    view.replica_reads = True
    return view


def _marked() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "replica_reads", False))


def wrote_recently() -> bool:
    wrote_at = session.get(WROTE_AT)
    sticky = current_app.config.get("REPLICA_STICKY_SECONDS", 60)
    return isinstance(wrote_at, (int, float)) and time.time() - wrote_at < sticky


def using_replica() -> bool:
    """Whether this request's plain reads go to the replica."""
    if not has_request_context() or BIND not in current_app.config.get("SQLALCHEMY_BINDS", {}):
        return False
    chosen = getattr(request, "beatbook_replica", None)  # decided once per request
    if chosen is None:
        chosen = request.beatbook_replica = request.method in READ_METHODS and _marked() and not wrote_recently()
    return chosen


def _tables(mapper, clause) -> set[str]:
    names = set()
    if mapper is not None:
        names.add(getattr(mapper.persist_selectable, "name", ""))
    if clause is not None:
        for source in getattr(clause, "get_final_froms", lambda: [])():
            names.update(table.name for table in sa.sql.util.find_tables(source))
    return names


class RoutingSession(Session):
    """Flask-SQLAlchemy's session, sending a marked request's plain reads to the replica."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if (bind is None and not self._flushing and isinstance(clause, sa.Select) and using_replica()
                and not _tables(mapper, clause) & PRIMARY_ONLY):
            return self._db.engines[BIND]
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def replica_binds(url: str) -> dict:
    """SQLALCHEMY_BINDS for a replica at `url` (empty: none). Its connections only ever read."""
    if not url:
        return {}
    return {BIND: {"url": url, "pool_pre_ping": True, "execution_options": {"write_lock": False}}}


def init_replica(app: Flask) -> None:
    """Stamp the session of a user who has just written, so their next reads stay on the primary."""
    if BIND not in app.config.get("SQLALCHEMY_BINDS", {}):
        return

    @app.after_request
    def remember_write(response):
        if (request.method not in READ_METHODS and response.status_code < 400 and not _marked()
                and g.get("_login_user") is not None and getattr(g._login_user, "is_authenticated", False)):
            session[WROTE_AT] = time.time()
        return response
