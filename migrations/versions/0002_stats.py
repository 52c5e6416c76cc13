"""visit statistics: page views, daily salts, days and rollups

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 08:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stats_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('search_terms', sa.String(length=100), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('referrer_host', sa.String(length=253), nullable=True),
    sa.Column('visitor_hash', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_stats_events_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stats_events'))
    )
    with op.batch_alter_table('stats_events', schema=None) as batch_op:
        batch_op.create_index('ix_stats_events_site_occurred', ['site_id', 'occurred_at'], unique=False)

    op.create_table('stats_salts',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('salt', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_stats_salts'))
    )
    op.create_table('stats_days',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('changes', sa.Integer(), nullable=False),
    sa.Column('rolled_changes', sa.Integer(), nullable=True),
    sa.Column('visits', sa.Integer(), nullable=True),
    sa.Column('visitors', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_stats_days_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('site_id', 'day', name=op.f('pk_stats_days'))
    )
    op.create_table('stats_rollups',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('dimension', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.Column('visitors', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_stats_rollups_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stats_rollups'))
    )
    with op.batch_alter_table('stats_rollups', schema=None) as batch_op:
        batch_op.create_index('ix_stats_rollups_site_day', ['site_id', 'day'], unique=False)


def downgrade():
    with op.batch_alter_table('stats_rollups', schema=None) as batch_op:
        batch_op.drop_index('ix_stats_rollups_site_day')

    op.drop_table('stats_rollups')
    op.drop_table('stats_days')
    op.drop_table('stats_salts')
    with op.batch_alter_table('stats_events', schema=None) as batch_op:
        batch_op.drop_index('ix_stats_events_site_occurred')

    op.drop_table('stats_events')
