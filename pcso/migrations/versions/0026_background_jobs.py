"""Background jobs: one row per job, shared by every app server and worker

job: what was asked (kind, plain parameters), by whom, its state and progress, the heartbeat a stale job is
told by (a worker killed mid-job), and the file it made (a random key under JOBS_DIR, kept until
file_expires_at, offered only to the user who asked).

Revision ID: 0026
Revises: 0024
Create Date: 2026-12-03 16:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import pcso.models.types


# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'done', 'failed', name='jobstate', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('message', sa.String(length=200), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.Column('created_at', pcso.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', pcso.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', pcso.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', pcso.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('file_key', sa.String(length=80), nullable=True),
    sa.Column('file_name', sa.String(length=120), nullable=True),
    sa.Column('file_type', sa.String(length=80), nullable=True),
    sa.Column('file_expires_at', pcso.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_job_requested_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job'))
    )
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index('ix_job_requested_by_created', ['requested_by_id', 'created_at'], unique=False)
        batch_op.create_index('ix_job_state_heartbeat', ['state', 'heartbeat_at'], unique=False)


def downgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index('ix_job_state_heartbeat')
        batch_op.drop_index('ix_job_requested_by_created')
    op.drop_table('job')
