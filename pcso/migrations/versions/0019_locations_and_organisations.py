"""Locations and organisations as whole records

A location is an address (house number or name, street, town, postcode) or a named place, with keys to match
it by (number_key, name_key); an organisation gains a name key and its address (a Location). Either may be made
on its own page (is_listed: any reader may find it) and says who made it. Links gain the roles places,
vehicles and organisations play (seen, scene, venue, keeper, involved); organisations gain more kinds.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 16:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

ROLES = ('victim', 'witness', 'reporter', 'suspect', 'subject', 'associate', 'mentioned')
NEW_ROLES = ('seen', 'scene', 'venue', 'keeper', 'involved')
KINDS = ('school', 'shop', 'club', 'other')
NEW_KINDS = ('licensed_premises', 'takeaway', 'housing_provider', 'business', 'charity', 'public_body')


def _check(column, values):
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


# Plain ADD COLUMN where it can be (no table rebuild); the CHECK constraints need batch mode on SQLite.

def upgrade():
    for name, kind in (('place_name', sa.String(120)), ('house', sa.String(60)), ('street', sa.String(120)),
                       ('town', sa.String(60)), ('number_key', sa.String(60)), ('name_key', sa.String(200))):
        op.add_column('location', sa.Column(name, kind, nullable=True))
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_listed', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_location_created_by_id_user'), 'user', ['created_by_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_location_name_key'), ['name_key'], unique=False)
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(200), nullable=True))
        batch_op.add_column(sa.Column('location_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('is_listed', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_organisation_location_id_location'), 'location',
                                    ['location_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_organisation_created_by_id_user'), 'user', ['created_by_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_organisation_name_key'), ['name_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_location_id'), ['location_id'], unique=False)
        batch_op.drop_constraint(op.f('ck_organisation_organisationtype'), type_='check')
        batch_op.create_check_constraint('organisationtype', _check('org_type', KINDS + NEW_KINDS))
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_link_linkrole'), type_='check')
        batch_op.create_check_constraint('linkrole', _check('role', ROLES + NEW_ROLES))
    # Names already there are matched like new ones (lower case, single spaces: pcso/models/pole.py name_key,
    # close enough in SQL for the names made so far, which came from schools).
    op.execute("UPDATE organisation SET name_key = lower(trim(name)) WHERE name_key IS NULL")


def downgrade():
    op.execute("UPDATE link SET role = 'mentioned' WHERE role IN ('seen', 'scene', 'venue', 'keeper', 'involved')")
    op.execute("UPDATE organisation SET org_type = 'other' WHERE org_type NOT IN ('school', 'shop', 'club', 'other')")
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_link_linkrole'), type_='check')
        batch_op.create_check_constraint('linkrole', _check('role', ROLES))
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_organisation_organisationtype'), type_='check')
        batch_op.create_check_constraint('organisationtype', _check('org_type', KINDS))
        batch_op.drop_index(batch_op.f('ix_organisation_location_id'))
        batch_op.drop_index(batch_op.f('ix_organisation_name_key'))
        batch_op.drop_constraint(batch_op.f('fk_organisation_created_by_id_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_organisation_location_id_location'), type_='foreignkey')
        batch_op.drop_column('created_by_id')
        batch_op.drop_column('is_listed')
        batch_op.drop_column('location_id')
        batch_op.drop_column('name_key')
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_location_name_key'))
        batch_op.drop_constraint(batch_op.f('fk_location_created_by_id_user'), type_='foreignkey')
        for name in ('created_by_id', 'is_listed', 'name_key', 'number_key', 'town', 'street', 'house', 'place_name'):
            batch_op.drop_column(name)
