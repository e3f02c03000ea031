"""Each child's latest welfare check kept on write; audit_event partitioned by month on PostgreSQL

welfare_latest: one row per child, the latest welfare check that is not a draft (pcso/models/latest_check.py
keeps it on every flush), backfilled here from every check. PostgreSQL only: audit_event becomes a table
partitioned by month of `at` (pcso/auditlog/partitions.py), its rows copied across, with a default partition,
the months from its first event to three months ahead, the primary key (id, at), the same indexes,
append-only triggers and the app role's grants; and search_document.body_tsv keeps statistics on 10,000 lexemes
(target 1000), so the planner's estimate of a word's matches is close enough for search to list 100,000+
matches newest first (pcso/search/statements.py). SQLite's audit_event is unchanged.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 02:00:00.000000

"""
import os
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

from pcso.auditlog import partitions, protection
from pcso.models.latest_check import rebuild_all

# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

TSV_STATISTICS = 1000


def upgrade():
    op.create_table('welfare_latest',
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('check_id', sa.Integer(), nullable=False),
    sa.Column('beat_id', sa.Integer(), nullable=False),
    sa.Column('next_visit_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['beat_id'], ['beat.id'], name=op.f('fk_welfare_latest_beat_id_beat')),
    sa.ForeignKeyConstraint(['check_id'], ['entry.id'], name=op.f('fk_welfare_latest_check_id_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['child_id'], ['person.id'], name=op.f('fk_welfare_latest_child_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('child_id', name=op.f('pk_welfare_latest'))
    )
    with op.batch_alter_table('welfare_latest', schema=None) as batch_op:
        batch_op.create_index('ix_welfare_latest_beat_next_visit', ['beat_id', 'next_visit_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_welfare_latest_check_id'), ['check_id'], unique=False)
    bind = op.get_bind()
    rebuild_all(bind)
    if bind.dialect.name == "postgresql":
        # the planner's estimate of a word's matches (search: newest first past 100,000) from 10,000 lexemes
        op.execute(f"ALTER TABLE search_document ALTER COLUMN body_tsv SET STATISTICS {TSV_STATISTICS}")
        op.execute("ANALYZE search_document")
        partitions.partition(bind, datetime.now(timezone.utc).date(),
                             app_role=os.environ.get("BEATBOOK_APP_ROLE", protection.DEFAULT_APP_ROLE))


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE search_document ALTER COLUMN body_tsv SET STATISTICS -1")
    if bind.dialect.name == "postgresql" and partitions.is_partitioned(bind):
        partitions.unpartition(bind, app_role=os.environ.get("BEATBOOK_APP_ROLE", protection.DEFAULT_APP_ROLE))
    with op.batch_alter_table('welfare_latest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_welfare_latest_check_id'))
        batch_op.drop_index('ix_welfare_latest_beat_next_visit')
    op.drop_table('welfare_latest')
