"""POLE records carry a revision

Every person, vehicle, location and organisation counts its changes: 1 when made, one more at each change
(a vehicle's make filled in, a merge). Audit events of POLE records name the revision they made
(DPA 2018 s.62: alteration). Existing records start at 1.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 10:05:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

TABLES = ("person", "vehicle", "location", "organisation")


# Plain ALTER TABLE, not batch mode: recreating person and vehicle on SQLite would drop their search triggers.


def upgrade():
    for table in TABLES:
        op.add_column(table, sa.Column('revision', sa.Integer(), server_default=sa.text('1'), nullable=False))


def downgrade():
    for table in TABLES:
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN revision')  # SQLite 3.35+ and PostgreSQL alike
