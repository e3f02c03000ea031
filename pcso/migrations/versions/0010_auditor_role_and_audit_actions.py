"""Auditor role and the combine and deny audit actions

Professional standards get an `auditor` role; the audit log gains `combine` (s.62 combination: merges and
searches that join records) and `deny` (a record asked for that the user may not see).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 09:55:00.000000

"""
from alembic import op

ROLES = ("pcso", "supervisor", "analyst", "safeguarding", "admin")
ACTIONS = ("create", "update", "view", "search", "disclose", "erase", "login", "login_failed", "logout", "import",
           "review")


def _check(column, values):
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_role'), type_='check')
        batch_op.create_check_constraint('role', _check('role', ROLES + ('auditor',)))
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_audit_event_auditaction'), type_='check')
        batch_op.create_check_constraint('auditaction', _check('action', ACTIONS + ('combine', 'deny')))


def downgrade():
    # Auditors lose their accounts' role (disabled admins-without-rights would be worse): they are disabled
    # analysts until re-roled. Combine and deny events read as the nearest older action.
    op.execute("UPDATE \"user\" SET role = 'analyst', is_enabled = false WHERE role = 'auditor'")
    op.execute("UPDATE audit_event SET action = 'update' WHERE action = 'combine'")
    op.execute("UPDATE audit_event SET action = 'view' WHERE action = 'deny'")
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_audit_event_auditaction'), type_='check')
        batch_op.create_check_constraint('auditaction', _check('action', ACTIONS))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_role'), type_='check')
        batch_op.create_check_constraint('role', _check('role', ROLES))
