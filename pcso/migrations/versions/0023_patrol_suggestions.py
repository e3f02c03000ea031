"""Patrol suggestions: what was suggested, when, to whom and why; and the patrols started from one

patrol_suggestion keeps each suggestion an officer was shown (one row per officer, London day and
place-and-window), so the dashboard's measure counts the places not patrolled as well as those that were.
patrol.suggestion_id points at the suggestion a patrol was started from.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 16:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import pcso.models.types

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('patrol_suggestion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('beat_id', sa.Integer(), nullable=False),
    sa.Column('suggested_on', sa.Date(), nullable=False),
    sa.Column('created_at', pcso.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('radius_m', sa.Float(), nullable=False),
    sa.Column('postcode', sa.String(length=10), nullable=True),
    sa.Column('days', sa.String(length=20), nullable=False),
    sa.Column('hour_from', sa.Integer(), nullable=False),
    sa.Column('hours', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('basis', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['beat_id'], ['beat.id'], name=op.f('fk_patrol_suggestion_beat_id_beat'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_patrol_suggestion_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrol_suggestion')),
    sa.UniqueConstraint('user_id', 'suggested_on', 'key', name='uq_patrol_suggestion_user_day_key')
    )
    with op.batch_alter_table('patrol_suggestion', schema=None) as batch_op:
        batch_op.create_index('ix_patrol_suggestion_beat_on', ['beat_id', 'suggested_on'], unique=False)

    with op.batch_alter_table('patrol', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suggestion_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_patrol_suggestion_id'), ['suggestion_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_patrol_suggestion_id_patrol_suggestion'), 'patrol_suggestion',
                                    ['suggestion_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('patrol', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_patrol_suggestion_id_patrol_suggestion'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_patrol_suggestion_id'))
        batch_op.drop_column('suggestion_id')
    with op.batch_alter_table('patrol_suggestion', schema=None) as batch_op:
        batch_op.drop_index('ix_patrol_suggestion_beat_on')
    op.drop_table('patrol_suggestion')
