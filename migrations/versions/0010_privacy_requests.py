"""privacy requests; indexes for the dashboard's list of messages

The record of each export and erasure request (``privacy_requests``), and three indexes
the messages list seeks on, newest first: all messages, one site's, the held ones
(partial), and one the overview counts per policy category on. Building them reads ``contact_messages`` once, and intake waits meanwhile
(5 s for a million messages on SQLite, measured by ``make bench``).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 08:06:55.481842

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('privacy_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('email_index', sa.String(length=64), nullable=False),
    sa.Column('personal', sa.Text(), nullable=True),
    sa.Column('requested_by', sa.String(length=100), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('items_retained', sa.Boolean(), nullable=False),
    sa.Column('explanations', sa.JSON(), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_privacy_requests_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_requests'))
    )
    with op.batch_alter_table('privacy_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacy_requests_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index('ix_privacy_requests_site_email', ['site_id', 'email_index'], unique=False)
        batch_op.create_index('ix_privacy_requests_started', ['started_at', 'id'], unique=False)

    with op.batch_alter_table('contact_messages', schema=None) as batch_op:
        batch_op.create_index('ix_contact_messages_held', ['received_at', 'id'], unique=False, sqlite_where=sa.text('legal_hold_at IS NOT NULL'), postgresql_where=sa.text('legal_hold_at IS NOT NULL'))
        batch_op.create_index('ix_contact_messages_received', ['received_at', 'id'], unique=False)
        batch_op.create_index('ix_contact_messages_site_received', ['site_id', 'received_at', 'id'], unique=False)
        batch_op.create_index('ix_contact_messages_retention', ['retention', 'expires_at'], unique=False)



def downgrade():
    with op.batch_alter_table('contact_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_messages_retention')
        batch_op.drop_index('ix_contact_messages_site_received')
        batch_op.drop_index('ix_contact_messages_received')
        batch_op.drop_index('ix_contact_messages_held', sqlite_where=sa.text('legal_hold_at IS NOT NULL'), postgresql_where=sa.text('legal_hold_at IS NOT NULL'))

    with op.batch_alter_table('privacy_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_privacy_requests_started')
        batch_op.drop_index('ix_privacy_requests_site_email')
        batch_op.drop_index(batch_op.f('ix_privacy_requests_expires_at'))

    op.drop_table('privacy_requests')
