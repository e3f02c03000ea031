"""Audit log: a GIN index on the events' details (PostgreSQL), for "who has viewed this record"

The audit viewer (pcso/audit_viewer/matching.py) finds the events naming a record in their details too: the
ids a list page showed (`details.ids`) and the records a response showed (`details.records.<type>.ids`).
Without an index PostgreSQL casts every event's details to jsonb to look: 6.6 s for one record over 300,000
events on 2 cores; with this index (containment, `@>`) 2 ms. jsonb_path_ops: the smaller GIN, containment only.
SQLite has no index into JSON arrays: there the viewer scans, within the dates the auditor gives.

On a large live log, build it by hand first with CREATE INDEX CONCURRENTLY (same name): this then finds it.
The table itself is not altered (columns, triggers and grants stay the audit log's own migration's).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 10:30:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

INDEX = "ix_audit_event_details_gin"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON audit_event USING gin ((details::jsonb) jsonb_path_ops)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
