"""Whole people and vehicles: warning markers with their history, addresses, sex, estimated age, keeper

- person_warning_marker: one row per marker set on a person (who, when, a note, a review date; removal keeps the
  row). Markers already on people (person.warning_markers, a JSON list of codes) become rows, set when the
  person was made, by nobody known; the JSON list stays as the codes in force.
- person_address: a person's link to a Location with a role (home, previous, frequents, work ...).
- person.sex (female/male/unknown; existing people: unknown), person.approx_age_on (the day an age was
  estimated; unknown for estimates made before).
- vehicle.description (free text) and vehicle.keeper_id (a person).

SQLite rebuilds vehicle to add its foreign key (and person, going down): their FTS5 trigram triggers (0004) go
with the old table and are made again here, as 0012 does.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 16:18:27.226398

"""
from alembic import op
import sqlalchemy as sa

import pcso.models.types


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


TRIGRAM = {"person": ("name_key", "aliases"), "vehicle": ("vrm",)}


def _trigram_triggers(tables):
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table in tables:
        columns = TRIGRAM[table]
        cols = ", ".join(columns)
        new, old = ", ".join(f"new.{c}" for c in columns), ", ".join(f"old.{c}" for c in columns)
        fts = f"{table}_fts"
        # Table and column names from TRIGRAM above (constants), as in 0004_search and 0012.
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


def _markers_into_rows():
    """Each code in person.warning_markers becomes a marker row, set when the person was made."""
    bind = op.get_bind()
    person = sa.table("person", sa.column("id", sa.Integer), sa.column("warning_markers", sa.JSON),
                      sa.column("created_at", pcso.models.types.UTCDateTime(timezone=True)))
    marker = sa.table("person_warning_marker", sa.column("person_id", sa.Integer), sa.column("marker", sa.String),
                      sa.column("set_at", pcso.models.types.UTCDateTime(timezone=True)))
    rows = []
    for person_id, codes, created_at in bind.execute(sa.select(person.c.id, person.c.warning_markers,
                                                               person.c.created_at)):
        for code in dict.fromkeys(codes or []):
            if isinstance(code, str) and code:
                rows.append({"person_id": person_id, "marker": code[:40], "set_at": created_at})
    if rows:
        bind.execute(marker.insert(), rows)


def upgrade():
    op.create_table('person_warning_marker',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('marker', sa.String(length=40), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('set_at', pcso.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('review_on', sa.Date(), nullable=True),
    sa.Column('reviewed_at', pcso.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('removed_at', pcso.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('removed_by_id', sa.Integer(), nullable=True),
    sa.Column('removed_note', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_warning_marker_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['removed_by_id'], ['user.id'], name=op.f('fk_person_warning_marker_removed_by_id_user')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['user.id'], name=op.f('fk_person_warning_marker_reviewed_by_id_user')),
    sa.ForeignKeyConstraint(['set_by_id'], ['user.id'], name=op.f('fk_person_warning_marker_set_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_warning_marker'))
    )
    with op.batch_alter_table('person_warning_marker', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_warning_marker_person_id'), ['person_id'], unique=False)

    op.create_table('person_address',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('home', 'previous', 'frequents', 'work', 'school', 'other', name='addressrole', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('created_at', pcso.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_person_address_created_by_id_user')),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_person_address_location_id_location'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_address_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_address')),
    sa.UniqueConstraint('person_id', 'location_id', 'role', name='uq_person_address')
    )
    with op.batch_alter_table('person_address', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_address_location_id'), ['location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_address_person_id'), ['person_id'], unique=False)

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approx_age_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('sex', sa.Enum('female', 'male', 'unknown', name='sex', native_enum=False, create_constraint=True, length=16), server_default='unknown', nullable=False))

    with op.batch_alter_table('vehicle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('description', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('keeper_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_vehicle_keeper_id'), ['keeper_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_vehicle_keeper_id_person'), 'person', ['keeper_id'], ['id'], ondelete='SET NULL')

    _trigram_triggers(["person", "vehicle"])
    _markers_into_rows()


def downgrade():
    with op.batch_alter_table('person_address', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_address_person_id'))
        batch_op.drop_index(batch_op.f('ix_person_address_location_id'))

    op.drop_table('person_address')
    with op.batch_alter_table('person_warning_marker', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_warning_marker_person_id'))

    op.drop_table('person_warning_marker')
    with op.batch_alter_table('vehicle', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_vehicle_keeper_id_person'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_vehicle_keeper_id'))
        batch_op.drop_column('keeper_id')
        batch_op.drop_column('description')

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_person_sex'), type_='check')
        batch_op.drop_column('sex')
        batch_op.drop_column('approx_age_on')

    _trigram_triggers(["person", "vehicle"])
