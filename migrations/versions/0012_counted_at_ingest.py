"""statistics counted at ingest: each day's visitor hashes, one rollup row per key

``stats_day_visitors`` holds the visitor hashes a day has counted while it is counted at
ingest (deleted by its rollup), and ``stats_rollups`` gets a unique key, the conflict
target of ingest's counters, with an unknown country (``NULL``) counted as ``''``; it
replaces the index on ``(site_id, day)``, a prefix of it.

Days stored before keep ``NULL`` counters (``NULL`` plus anything stays ``NULL``): the
summary counts them from their raw events until their next rollup, as before.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stats_day_visitors',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('visitor_hash', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_stats_day_visitors_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('site_id', 'day', 'visitor_hash', name=op.f('pk_stats_day_visitors')),
    sqlite_with_rowid=False,
    )
    # Days never rolled up have no rollup rows, and a rollup writes one row per key: no
    # stored row breaks the key.
    op.create_index('uq_stats_rollups_key', 'stats_rollups',
                    ['site_id', 'day', 'dimension', sa.text("coalesce(value, '')")], unique=True)
    op.drop_index('ix_stats_rollups_site_day', table_name='stats_rollups')


def downgrade():
    op.create_index('ix_stats_rollups_site_day', 'stats_rollups', ['site_id', 'day'], unique=False)
    op.drop_index('uq_stats_rollups_key', table_name='stats_rollups')
    op.drop_table('stats_day_visitors')
