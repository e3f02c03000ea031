"""Held submissions

An entry sealed on a phone that the server refused is kept as its author's to fix (held_submission):
its kind, client key, body and the server's reasons, until it is resolved into an entry or discarded.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 17:10:06.200966

"""
from alembic import op
import sqlalchemy as sa

import pcso.models.types


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('held_submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('patrol', 'asb_incident', 'school_visit', 'welfare_check', 'intelligence_report', name='entrykind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('client_key', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('created_at', pcso.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_entry_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', pcso.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_held_submission_author_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolved_entry_id'], ['entry.id'], name=op.f('fk_held_submission_resolved_entry_id_entry'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_held_submission')),
    sa.UniqueConstraint('author_id', 'client_key', name='uq_held_submission_author_client_key')
    )
    with op.batch_alter_table('held_submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_held_submission_author_id'), ['author_id'], unique=False)



def downgrade():
    with op.batch_alter_table('held_submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_held_submission_author_id'))

    op.drop_table('held_submission')
