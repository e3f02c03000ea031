"""Photos of entries

One row per photo: its entry (deleted with it), the random key of the stripped image in the photo store
(pcso/photos/storage.py; the bytes are never in the database), its type, size, SHA-256 (one image once
per entry), who uploaded it, and the EXIF time and place offered for the entry until the author decides.
The unique (entry_id, sha256) also serves lookups by entry.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 17:11:08.822809

"""
from alembic import op
import sqlalchemy as sa

import pcso.models.types


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('byte_size', sa.Integer(), nullable=False),
    sa.Column('thumbnail_size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', pcso.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('offered_at', pcso.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('offered_lat', sa.Float(), nullable=True),
    sa.Column('offered_lon', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_photo_entry_id_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_photo_uploaded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photo')),
    sa.UniqueConstraint('entry_id', 'sha256', name='uq_photo_entry_id_sha256'),
    sa.UniqueConstraint('storage_key', name=op.f('uq_photo_storage_key'))
    )



def downgrade():
    op.drop_table('photo')
