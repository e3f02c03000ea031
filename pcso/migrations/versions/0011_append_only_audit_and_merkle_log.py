"""Append-only audit tables and the Merkle log over them

audit_leaf (one row per sealed event: its place in the tree and its RFC 6962 leaf hash) and audit_checkpoint
(signed tree heads). audit_event, audit_leaf and audit_checkpoint refuse UPDATE and DELETE (SQLite triggers;
PostgreSQL a trigger function, and TRUNCATE too); the trigger text lives in pcso/auditlog/protection.py.
On PostgreSQL, when the app's role exists (BEATBOOK_APP_ROLE, default beatbook_app; docs/DEPLOY.md), it keeps
INSERT and SELECT only on these tables; when it does not, nothing is granted.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:30:00.000000

"""
import os

import sqlalchemy as sa
from alembic import op

import pcso.models.types
from pcso.auditlog import protection

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_leaf',
    sa.Column('leaf_index', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('leaf_hash', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('leaf_index', name=op.f('pk_audit_leaf')),
    sa.UniqueConstraint('event_id', name=op.f('uq_audit_leaf_event_id'))
    )
    op.create_table('audit_checkpoint',
    sa.Column('tree_size', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('root_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('frontier', sa.LargeBinary(), nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=False),
    sa.Column('signed_at', pcso.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('signature', sa.LargeBinary(length=64), nullable=False),
    sa.PrimaryKeyConstraint('tree_size', name=op.f('pk_audit_checkpoint'))
    )
    bind = op.get_bind()
    protection.install(bind)
    protection.grant_app_role(bind, os.environ.get("BEATBOOK_APP_ROLE", protection.DEFAULT_APP_ROLE))


def downgrade():
    protection.uninstall(op.get_bind())
    op.drop_table('audit_checkpoint')
    op.drop_table('audit_leaf')
