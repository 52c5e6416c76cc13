"""incidents: the breach register and its history; site secrets that expire

``incidents`` and ``incident_events`` (the register of GDPR article 33(5), never purged)
and ``site_secrets.expires_at``: after a containment the old secret of a site stays valid
for a grace period, then is refused.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('nature', sa.Text(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('people_count', sa.Integer(), nullable=True),
    sa.Column('records_count', sa.Integer(), nullable=True),
    sa.Column('consequences', sa.Text(), nullable=True),
    sa.Column('measures', sa.Text(), nullable=True),
    sa.Column('contact', sa.Text(), nullable=True),
    sa.Column('detected_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('authority_reference', sa.String(length=100), nullable=True),
    sa.Column('authority_notified_at', sa.DateTime(), nullable=True),
    sa.Column('authority_reasoning', sa.Text(), nullable=True),
    sa.Column('delay_reasons', sa.Text(), nullable=True),
    sa.Column('people_notified_at', sa.DateTime(), nullable=True),
    sa.Column('people_reasoning', sa.Text(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('contain_at', sa.DateTime(), nullable=True),
    sa.Column('contain_by', sa.String(length=100), nullable=True),
    sa.Column('people_at', sa.DateTime(), nullable=True),
    sa.Column('people_by', sa.String(length=100), nullable=True),
    sa.Column('authority_at', sa.DateTime(), nullable=True),
    sa.Column('authority_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_status_detected', ['status', 'detected_at'], unique=False)

    op.create_table('incident_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_events_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_events'))
    )
    with op.batch_alter_table('incident_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_events_incident_id'), ['incident_id'], unique=False)

    with op.batch_alter_table('site_secrets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('site_secrets', schema=None) as batch_op:
        batch_op.drop_column('expires_at')

    with op.batch_alter_table('incident_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_events_incident_id'))

    op.drop_table('incident_events')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_status_detected')

    op.drop_table('incidents')
