"""Export requests (two-person approval) and amendments to approved entries

export_request: an OFFICIAL-SENSITIVE list export asked for with its purpose and recipient, its filter frozen
(GET parameters and the highest entry id), approved or refused by a second supervisor or analyst, then
downloaded. entry_amendment: a change to an approved entry proposed by its author with a reason, approved
or refused by a supervisor; at most one pending per entry.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 09:52:57.612617

"""
from alembic import op
import sqlalchemy as sa

import pcso.models.types


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('created_at', pcso.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('max_id', sa.Integer(), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('marking', sa.String(length=32), nullable=False),
    sa.Column('purpose', sa.String(length=500), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'refused', 'downloaded', name='exportrequeststatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', pcso.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('expires_at', pcso.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('downloads', sa.Integer(), nullable=False),
    sa.Column('last_download_at', pcso.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status = 'pending' OR decided_by_id IS NOT NULL", name=op.f('ck_export_request_decided_by_someone')),
    sa.CheckConstraint('decided_by_id IS NULL OR decided_by_id != requester_id', name=op.f('ck_export_request_two_people')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_export_request_decided_by_id_user')),
    sa.ForeignKeyConstraint(['requester_id'], ['user.id'], name=op.f('fk_export_request_requester_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_request'))
    )
    with op.batch_alter_table('export_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_request_requester_id'), ['requester_id'], unique=False)
        batch_op.create_index('ix_export_request_status_created', ['status', 'created_at'], unique=False)

    op.create_table('entry_amendment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('proposed_at', pcso.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('form', sa.JSON(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'refused', name='amendmentstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', pcso.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('revision_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status = 'pending' OR decided_by_id IS NOT NULL", name=op.f('ck_entry_amendment_decided_by_someone')),
    sa.CheckConstraint('decided_by_id IS NULL OR decided_by_id != author_id', name=op.f('ck_entry_amendment_not_own')),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_entry_amendment_author_id_user')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_entry_amendment_decided_by_id_user')),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_entry_amendment_entry_id_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['revision_id'], ['entry_revision.id'], name=op.f('fk_entry_amendment_revision_id_entry_revision'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entry_amendment'))
    )
    with op.batch_alter_table('entry_amendment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entry_amendment_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index('ix_entry_amendment_status_proposed', ['status', 'proposed_at'], unique=False)
        batch_op.create_index('uq_entry_amendment_one_pending', ['entry_id'], unique=True, sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))



def downgrade():
    with op.batch_alter_table('entry_amendment', schema=None) as batch_op:
        batch_op.drop_index('uq_entry_amendment_one_pending', sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
        batch_op.drop_index('ix_entry_amendment_status_proposed')
        batch_op.drop_index(batch_op.f('ix_entry_amendment_entry_id'))

    op.drop_table('entry_amendment')
    with op.batch_alter_table('export_request', schema=None) as batch_op:
        batch_op.drop_index('ix_export_request_status_created')
        batch_op.drop_index(batch_op.f('ix_export_request_requester_id'))

    op.drop_table('export_request')
