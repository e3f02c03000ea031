"""MoPI retention: review dates, retention decisions and tombstones

Every entry and POLE record gets `review_due` (the date it is next reviewed), backfilled here from its
occurrence (entries) or creation (POLE records) and the provisional default rules as they stand at this
revision (pcso/data/retention.toml; frozen below, as a migration must be): a welfare check not before its
child's 25th birthday; a POLE record never before the latest entry linked to it. `retention_decision`
holds each retain/dispose decision; `erased_record` the metadata-only tombstone of a record disposed of.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 09:59:41.236815

"""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa

import pcso.models.types

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

LONDON = ZoneInfo("Europe/London")
# The default rules at this revision: (years, until_age).
ENTRY_RULES = {"welfare_check": (10, 25), "intelligence_report": (6, None), "asb_incident": (6, None),
               "patrol": (7, None), "school_visit": (7, None)}
SENSITIVE = (6, None)  # any other OFFICIAL-SENSITIVE entry
POLE_RULES = {"person": (6, None), "vehicle": (6, None), "location": (7, None), "organisation": (7, None)}
WELFARE_CHILD = (10, 25)  # a person linked to a welfare check
BATCH = 2000
POLE_TABLES = ("location", "organisation", "person", "vehicle")


def _add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _day(value):
    if value is None:
        return datetime.now(timezone.utc).astimezone(LONDON).date()
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(LONDON).date()


def _due(start, rule, born_on=None):
    years, until_age = rule
    due = _add_years(_day(start), years)
    if until_age is not None and born_on is not None:
        due = max(due, _add_years(born_on, until_age))
    return due


def _rows(bind, table, columns):
    """Every row of `table` in id order, in batches (UTCDateTime and Date columns come back typed)."""
    del table  # the columns name it
    last = 0
    while True:
        batch = bind.execute(sa.select(*columns).where(columns[0] > last).order_by(columns[0]).limit(BATCH)).all()
        if not batch:
            return
        yield batch
        last = batch[-1][0]


def _write(bind, table, values):
    if values:
        bind.execute(sa.update(table).where(table.c.id == sa.bindparam("row_id"))
                     .values(review_due=sa.bindparam("due")), [{"row_id": i, "due": d} for i, d in values])


def _backfill():
    bind = op.get_bind()
    utc = pcso.models.types.UTCDateTime()
    entry = sa.table("entry", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                     sa.column("marking", sa.String), sa.column("occurred_at", utc), sa.column("review_due", sa.Date))
    link = sa.table("link", *(sa.column(f"{name}_id", sa.Integer) for name in ("entry", *POLE_TABLES)),
                    sa.column("role", sa.String))
    person = sa.table("person", sa.column("id", sa.Integer), sa.column("born_on", sa.Date))
    children = dict(bind.execute(sa.select(link.c.entry_id, sa.func.max(person.c.born_on))
                                 .join(person, person.c.id == link.c.person_id)
                                 .where(link.c.role == "subject").group_by(link.c.entry_id)).all())
    for batch in _rows(bind, entry, [entry.c.id, entry.c.kind, entry.c.marking, entry.c.occurred_at]):
        values = []
        for row_id, kind, marking, occurred_at in batch:
            rule = ENTRY_RULES[kind]
            if kind not in ("welfare_check", "intelligence_report") and marking == "OFFICIAL-SENSITIVE":
                rule = SENSITIVE
            values.append((row_id, _due(occurred_at, rule, children.get(row_id) if kind == "welfare_check" else None)))
        _write(bind, entry, values)
    for name in POLE_TABLES:
        column = link.c[f"{name}_id"]
        latest = dict(bind.execute(sa.select(column, sa.func.max(entry.c.review_due))
                                   .join(entry, entry.c.id == link.c.entry_id)
                                   .where(column.is_not(None)).group_by(column)).all())
        in_welfare = set(bind.scalars(sa.select(column).join(entry, entry.c.id == link.c.entry_id)
                                      .where(entry.c.kind == "welfare_check", column.is_not(None))))
        extra = [sa.column("born_on", sa.Date)] if name == "person" else []
        table = sa.table(name, sa.column("id", sa.Integer), sa.column("created_at", utc),
                         sa.column("review_due", sa.Date), *extra)
        for batch in _rows(bind, table, [table.c.id, table.c.created_at, *(table.c[c.name] for c in extra)]):
            values = []
            for row in batch:
                rule = WELFARE_CHILD if row[0] in in_welfare and name == "person" else POLE_RULES[name]
                due = _due(row[1], rule, row[2] if extra else None)
                values.append((row[0], max(due, latest.get(row[0]) or due)))
            _write(bind, table, values)


# SQLite rebuilds a table to change a column; the FTS5 trigram triggers of person and vehicle (0004) go
# with the old table and are made again here, as 0004 made them.
TRIGRAM = {"person": ("name_key", "aliases"), "vehicle": ("vrm",)}


def _trigram_triggers():
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table, columns in TRIGRAM.items():
        cols = ", ".join(columns)
        new, old = ", ".join(f"new.{c}" for c in columns), ", ".join(f"old.{c}" for c in columns)
        fts = f"{table}_fts"
        # Table and column names from TRIGRAM above (constants), as in 0004_search.
        for statement in (
            f"DROP TRIGGER IF EXISTS {table}_fts_ai", f"DROP TRIGGER IF EXISTS {table}_fts_ad",
            f"DROP TRIGGER IF EXISTS {table}_fts_au",
            f"CREATE TRIGGER {table}_fts_ai AFTER INSERT ON {table} BEGIN "  # nosec B608
            f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
            f"CREATE TRIGGER {table}_fts_ad AFTER DELETE ON {table} BEGIN "  # nosec B608
            f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END",
            f"CREATE TRIGGER {table}_fts_au AFTER UPDATE ON {table} BEGIN "  # nosec B608
            f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
            f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
            f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",  # nosec B608
        ):
            bind.exec_driver_sql(statement)


def upgrade():
    op.create_table('retention_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_type', sa.String(length=20), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.Enum('retain', 'dispose', name='retentiondecisiontype', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('rule', sa.String(length=60), nullable=False),
    sa.Column('mopi_group', sa.String(length=2), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('safeguarding_note', sa.Text(), nullable=True),
    sa.Column('next_review', sa.Date(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', pcso.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('carried_out_at', pcso.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("decision != 'retain' OR next_review IS NOT NULL", name=op.f('ck_retention_decision_retain_has_next_review')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_retention_decision_decided_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_decision'))
    )
    with op.batch_alter_table('retention_decision', schema=None) as batch_op:
        batch_op.create_index('ix_retention_decision_record', ['record_type', 'record_id', 'decided_at'], unique=False)

    op.create_table('erased_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_type', sa.String(length=20), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('patrol', 'asb_incident', 'school_visit', 'welfare_check', 'intelligence_report', name='entrykind', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('beat_id', sa.Integer(), nullable=True),
    sa.Column('marking', sa.Enum('OFFICIAL', 'OFFICIAL-SENSITIVE', name='securitymarking', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('created_month', sa.String(length=7), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('spoc_id', sa.Integer(), nullable=True),
    sa.Column('was_draft', sa.Boolean(), nullable=False),
    sa.Column('erased_at', pcso.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('pending_files', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_erased_record_author_id_user')),
    sa.ForeignKeyConstraint(['beat_id'], ['beat.id'], name=op.f('fk_erased_record_beat_id_beat')),
    sa.ForeignKeyConstraint(['decision_id'], ['retention_decision.id'], name=op.f('fk_erased_record_decision_id_retention_decision')),
    sa.ForeignKeyConstraint(['spoc_id'], ['user.id'], name=op.f('fk_erased_record_spoc_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erased_record')),
    sa.UniqueConstraint('record_type', 'record_id', name='uq_erased_record_type_id')
    )
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_due', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_entry_review_due'), ['review_due'], unique=False)

    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_due', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_location_review_due'), ['review_due'], unique=False)

    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_due', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_organisation_review_due'), ['review_due'], unique=False)

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_due', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_person_review_due'), ['review_due'], unique=False)

    with op.batch_alter_table('vehicle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_due', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_vehicle_review_due'), ['review_due'], unique=False)

    _backfill()
    for name in ("entry", *POLE_TABLES):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column('review_due', existing_type=sa.Date(), nullable=False)
    _trigram_triggers()


def downgrade():
    with op.batch_alter_table('vehicle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vehicle_review_due'))
        batch_op.drop_column('review_due')

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_review_due'))
        batch_op.drop_column('review_due')

    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_review_due'))
        batch_op.drop_column('review_due')

    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_location_review_due'))
        batch_op.drop_column('review_due')

    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entry_review_due'))
        batch_op.drop_column('review_due')

    _trigram_triggers()
    op.drop_table('erased_record')
    with op.batch_alter_table('retention_decision', schema=None) as batch_op:
        batch_op.drop_index('ix_retention_decision_record')

    op.drop_table('retention_decision')
