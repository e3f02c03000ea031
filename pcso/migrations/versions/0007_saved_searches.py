"""Saved searches

A search's terms kept for a shift under an opaque, per-user id, so its results page is a GET that
Back, reload and bookmarks open again without resubmitting the form (pcso/models/saved_search.py).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 17:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

import pcso.models.types


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('saved_search',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('form_data', sa.JSON(), nullable=False),
    sa.Column('created_at', pcso.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', pcso.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_saved_search_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_search'))
    )
    with op.batch_alter_table('saved_search', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_search_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_saved_search_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('saved_search', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_search_user_id'))
        batch_op.drop_index(batch_op.f('ix_saved_search_expires_at'))

    op.drop_table('saved_search')
