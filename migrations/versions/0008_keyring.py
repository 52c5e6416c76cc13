"""keyring: which keys stored values may need; no export page kept in clear

The ``keyring`` table records the data and blind-index keys by fingerprint, so the
service can refuse to start without a key that stored data needs (webhook_app.keys).
It is seeded with the keys configured now: the first of each kind is in use, the others
are recorded as replaced, and all as possibly needed until a rotation says otherwise.

Migration 0005 used to decrypt export pages kept before 0004 into clear JSON; it no
longer does, and this migration drops any such page already written (only the key of
the request is kept, as for every export since 0004).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 05:00:00

"""
from datetime import UTC, datetime

from alembic import context, op
import sqlalchemy as sa
from flask import current_app

from webhook_app.config import data_keys, index_keys
from webhook_app.crypto import DATA, INDEX, fingerprint


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

answers = sa.table(
    'idempotency_keys',
    sa.column('site_id', sa.Integer),
    sa.column('webhook_id', sa.String),
    sa.column('response', sa.JSON),
)


def is_export_page(answer: object) -> bool:
    """Whether a kept answer is a page of a personal-data export (``data`` and ``done``)."""
    return isinstance(answer, dict) and set(answer) == {'data', 'done'}


def upgrade():
    if context.is_offline_mode():
        raise RuntimeError('0008 reads the configured keys and the kept answers: run it online')
    keyring = op.create_table('keyring',
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('fingerprint', sa.String(length=16), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(), nullable=False),
    sa.Column('replaced_at', sa.DateTime(), nullable=True),
    sa.Column('rotated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('kind', 'fingerprint', name=op.f('pk_keyring'))
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    for kind, keys in ((DATA, data_keys(current_app.config)),
                       (INDEX, index_keys(current_app.config))):
        rows += [{'kind': kind, 'fingerprint': fingerprint(kind, key), 'first_seen_at': now,
                  'replaced_at': None if position == 0 else now, 'rotated_at': None}
                 for position, key in enumerate(dict.fromkeys(keys))]
    op.bulk_insert(keyring, rows)

    connection = op.get_bind()
    kept = connection.execute(
        sa.select(answers.c.site_id, answers.c.webhook_id, answers.c.response)
        .where(answers.c.response.is_not(None))
    ).all()
    for site_id, webhook_id, response in kept:
        if is_export_page(response):
            connection.execute(
                answers.update()
                .where(answers.c.site_id == site_id, answers.c.webhook_id == webhook_id)
                .values(response=sa.null())
            )


def downgrade():
    op.drop_table('keyring')
