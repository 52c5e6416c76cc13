"""erasure tombstones: the ids of what erasures removed, for restores to re-apply

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('erasure_tombstones',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('record_id', sa.String(length=64), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('day', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erasure_tombstones'))
    )
    with op.batch_alter_table('erasure_tombstones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erasure_tombstones_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index('ix_erasure_tombstones_site', ['site_id'], unique=False)


def downgrade():
    with op.batch_alter_table('erasure_tombstones', schema=None) as batch_op:
        batch_op.drop_index('ix_erasure_tombstones_site')
        batch_op.drop_index(batch_op.f('ix_erasure_tombstones_expires_at'))
    op.drop_table('erasure_tombstones')
