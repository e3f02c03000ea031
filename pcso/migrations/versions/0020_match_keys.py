"""Match keys: people and vehicles found by phonetic name keys and look-alike registrations

Two new tables (pcso/models/match_key.py): person_match_key (key, person_id) and vehicle_match_key
(key, vehicle_id), each with its primary key as the lookup index and an index on the record for rewrites.
Existing people and vehicles get their keys here, made by pcso/pole/matching.py as it is today; if that
changes, `flask pole-match-keys` rebuilds them. The person and vehicle tables are not altered.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 16:40:00.000000

"""
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'person_match_key',
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], name='fk_person_match_key_person_id_person',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('key', 'person_id', name='pk_person_match_key'),
    )
    op.create_index('ix_person_match_key_person', 'person_match_key', ['person_id'])
    op.create_table(
        'vehicle_match_key',
        sa.Column('key', sa.String(length=20), nullable=False),
        sa.Column('vehicle_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['vehicle_id'], ['vehicle.id'], name='fk_vehicle_match_key_vehicle_id_vehicle',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('key', 'vehicle_id', name='pk_vehicle_match_key'),
    )
    op.create_index('ix_vehicle_match_key_vehicle', 'vehicle_match_key', ['vehicle_id'])
    _fill()


def _fill():
    from pcso.pole.matching import birth_year, person_keys, vrm_shape

    bind = op.get_bind()
    person = sa.table('person', sa.column('id'), sa.column('full_name'), sa.column('aliases', sa.JSON),
                      sa.column('born_on', sa.Date), sa.column('approx_age'), sa.column('created_at'))
    keys = sa.table('person_match_key', sa.column('key'), sa.column('person_id'))
    rows = []
    for record in bind.execute(sa.select(person)):
        created = record.created_at
        recorded_on = created.date() if isinstance(created, datetime) else (
            date.fromisoformat(str(created)[:10]) if created else None)
        year = birth_year(record.born_on, record.approx_age, recorded_on)
        rows += [{"key": key, "person_id": record.id}
                 for key in person_keys([record.full_name, *(record.aliases or [])], year)]
        if len(rows) > 5000:
            bind.execute(sa.insert(keys), rows)
            rows = []
    if rows:
        bind.execute(sa.insert(keys), rows)
    vehicle = sa.table('vehicle', sa.column('id'), sa.column('vrm'))
    vehicle_keys = sa.table('vehicle_match_key', sa.column('key'), sa.column('vehicle_id'))
    rows = [{"key": vrm_shape(v.vrm)[:20], "vehicle_id": v.id} for v in bind.execute(sa.select(vehicle)) if v.vrm]
    if rows:
        bind.execute(sa.insert(vehicle_keys), rows)


def downgrade():
    op.drop_table('vehicle_match_key')
    op.drop_table('person_match_key')
