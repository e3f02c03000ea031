"""Beats: a version number for the beat index, so every app server notices a beat changed by another

One row (id 1) in `beat_index_version`, bumped in the same transaction as any insert, update or delete of a beat
(pcso/beats/services.py listens to the session's flushes). Each server reads it once per request by its primary key
and rebuilds its in-process STRtree when it moved.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 16:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "beat_index_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_beat_index_version")),
    )
    op.bulk_insert(table, [{"id": 1, "version": 1}])


def downgrade():
    op.drop_table("beat_index_version")
