"""Search: the searchable text of every entry, and full-text indexes over it

search_document holds each entry's searchable text (built by pcso/search/services.py). The
full-text machinery is dialect-specific and exists only here, not in the models:

- SQLite: an FTS5 external-content table search_fts over search_document (rowid = entry_id,
  porter stemming, diacritics folded), and FTS5 trigram tables person_fts (name_key, aliases)
  and vehicle_fts (vrm) so "%wrig%" and "%AB12%" use an index; triggers keep all three in step.
- PostgreSQL: body_tsv, a stored generated column to_tsvector('english', body), with a GIN index
  (stored so that ranking and rechecks read the vector instead of parsing the text again: at a
  million entries that is 14 ms instead of 85 ms for a common word on one beat for 28 days); with
  pg_trgm (created if the server has it and we may), trigram indexes for the same partial names
  and registrations.

pcso/search/schema.py keeps these out of the models-versus-migrations comparison.
Existing entries are indexed here with a frozen copy of the document rules as they are at
this revision; `flask search reindex` rebuilds every document with the current rules.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 09:00:00

"""
import re

from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


SQLITE_FTS = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(body, content='search_document', content_rowid='entry_id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_document_ai AFTER INSERT ON search_document BEGIN "
    "INSERT INTO search_fts(rowid, body) VALUES (new.entry_id, new.body); END",
    "CREATE TRIGGER search_document_ad AFTER DELETE ON search_document BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.entry_id, old.body); END",
    "CREATE TRIGGER search_document_au AFTER UPDATE ON search_document BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.entry_id, old.body); "
    "INSERT INTO search_fts(rowid, body) VALUES (new.entry_id, new.body); END",
]

def _trigram_table(table: str, key: str, columns: tuple[str, ...]) -> list[str]:
    """An FTS5 trigram index over `columns` of `table` (rowid = key), and the triggers that keep it."""
    cols, new, old = ", ".join(columns), ", ".join(f"new.{c}" for c in columns), ", ".join(f"old.{c}" for c in columns)
    fts = f"{table}_fts"
    # bandit's B608 (SQL from strings) below: DDL from this file's own constant names, never from input
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', content_rowid='{key}', tokenize='trigram')",
        f"CREATE TRIGGER {table}_fts_ai AFTER INSERT ON {table} BEGIN "  # nosec B608
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.{key}, {new}); END",
        f"CREATE TRIGGER {table}_fts_ad AFTER DELETE ON {table} BEGIN "  # nosec B608
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.{key}, {old}); END",
        f"CREATE TRIGGER {table}_fts_au AFTER UPDATE ON {table} BEGIN "  # nosec B608
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.{key}, {old}); "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.{key}, {new}); END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",  # nosec B608
    ]


SQLITE_TRIGRAM = _trigram_table("person", "id", ("name_key", "aliases")) + _trigram_table("vehicle", "id", ("vrm",))
SQLITE_FTS_DROP = [
    f"DROP TRIGGER IF EXISTS {table}_{suffix}" for table in ("search_document", "person_fts", "vehicle_fts")
    for suffix in ("au", "ad", "ai")
] + ["DROP TABLE IF EXISTS search_fts", "DROP TABLE IF EXISTS person_fts", "DROP TABLE IF EXISTS vehicle_fts"]
POSTGRES_FTS = [
    "ALTER TABLE search_document ADD COLUMN body_tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED",
    "CREATE INDEX ix_search_document_body_tsv ON search_document USING gin (body_tsv)",
]
POSTGRES_TRIGRAM = [
    "CREATE INDEX ix_person_name_key_trgm ON person USING gin (name_key gin_trgm_ops)",
    "CREATE INDEX ix_person_aliases_trgm ON person USING gin ((lower(aliases::text)) gin_trgm_ops)",
    "CREATE INDEX ix_vehicle_vrm_trgm ON vehicle USING gin (vrm gin_trgm_ops)",
]
POSTGRES_DROP = [
    "DROP INDEX IF EXISTS ix_vehicle_vrm_trgm",
    "DROP INDEX IF EXISTS ix_person_aliases_trgm",
    "DROP INDEX IF EXISTS ix_person_name_key_trgm",
    "DROP INDEX IF EXISTS ix_search_document_body_tsv",
]


def upgrade():
    op.create_table('search_document',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_search_document_entry_id_entry'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_search_document'))
    )
    op.create_index('ix_entry_occurred_at', 'entry', ['occurred_at'], unique=False)
    op.create_index('ix_entry_lat_lon', 'entry', ['lat', 'lon'], unique=False)

    _index_existing_entries()

    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for statement in SQLITE_FTS:
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
        for statement in SQLITE_TRIGRAM:
            conn.exec_driver_sql(statement)
    elif conn.dialect.name == "postgresql":
        for statement in POSTGRES_FTS:
            conn.exec_driver_sql(statement)
        if _have_pg_trgm(conn):
            for statement in POSTGRES_TRIGRAM:
                conn.exec_driver_sql(statement)


def downgrade():
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for statement in SQLITE_FTS_DROP:
            conn.exec_driver_sql(statement)
    elif conn.dialect.name == "postgresql":
        for statement in POSTGRES_DROP:
            conn.exec_driver_sql(statement)  # pg_trgm itself stays: other schemas may use it
    op.drop_index('ix_entry_lat_lon', table_name='entry')
    op.drop_index('ix_entry_occurred_at', table_name='entry')
    op.drop_table('search_document')


def _have_pg_trgm(conn) -> bool:
    """CREATE EXTENSION needs the package on the server and a superuser (or trusted extension):
    try it in a savepoint, and go without trigram indexes (LIKE still works, by scan) if refused."""
    if not conn.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'").scalar():
        return False
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError:
        return False
    return True


# --- the document rules as at this revision (pcso/search/services.py has the live ones) ---------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

KIND_TEXT = {
    "patrol": "SELECT id, purpose, notes FROM patrol",
    "asb_incident": "SELECT id, replace(asb_type, '_', ' '), description, action_taken, control_room_ref "
                    "FROM asb_incident",
    "school_visit": "SELECT v.id, s.name, v.topic, v.year_groups, v.follow_ups FROM school_visit v "
                    "JOIN school s ON s.id = v.school_id",
    "welfare_check": "SELECT id, others_present, child_words, observations FROM welfare_check",
    # the sanitised text only: source_details never enters the index
    "intelligence_report": "SELECT id, sanitised_text FROM intelligence_report",
}
LINK_TEXT = (
    "SELECT l.entry_id, p.full_name, p.aliases, v.vrm, v.colour, v.make, v.model, loc.address, loc.postcode, "
    "o.name, l.note FROM link l LEFT JOIN person p ON p.id = l.person_id LEFT JOIN vehicle v ON v.id = l.vehicle_id "
    "LEFT JOIN location loc ON loc.id = l.location_id LEFT JOIN organisation o ON o.id = l.organisation_id "
    "ORDER BY l.entry_id, l.position, l.id"
)


def _aliases(value):
    if isinstance(value, str):
        import json
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    return [str(alias) for alias in value or []]


def _index_existing_entries():
    conn = op.get_bind()
    parts = {entry_id: [summary, location_text]
             for entry_id, summary, location_text in conn.exec_driver_sql(
                 "SELECT id, summary, location_text FROM entry ORDER BY id")}
    if not parts:
        return
    for statement in KIND_TEXT.values():
        for entry_id, *texts in conn.exec_driver_sql(statement):
            if entry_id in parts:
                parts[entry_id][1:1] = texts
    for entry_id, name, aliases, vrm, colour, make, model, address, postcode, org, note in conn.exec_driver_sql(
            LINK_TEXT):
        if entry_id in parts:
            parts[entry_id] += [name, *(_aliases(aliases) if name else []), vrm, colour, make, model, address,
                                postcode, org, note]
    document = sa.table("search_document", sa.column("entry_id", sa.Integer), sa.column("body", sa.Text))
    rows = [{"entry_id": entry_id,
             "body": _CONTROL.sub(" ", "\n".join(str(p).strip() for p in texts if p and str(p).strip()))}
            for entry_id, texts in parts.items()]
    for start in range(0, len(rows), 1000):
        conn.execute(document.insert(), rows[start:start + 1000])
