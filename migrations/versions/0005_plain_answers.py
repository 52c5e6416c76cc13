"""kept answers in plain JSON; idempotency keys without rowid on SQLite

A kept answer holds no personal data (an id, dates, counts), so it is no longer
encrypted: one Fernet token fewer per request. The answers stored so far are decrypted
with GARDIEN_DATA_KEYS (encrypted again on downgrade), except export pages kept before
0004, which are personal data: those are dropped, never written in clear. On SQLite the table is rebuilt
WITHOUT ROWID, its primary key being the table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 10:40:00

"""
import json

from alembic import context, op
import sqlalchemy as sa
from cryptography.fernet import Fernet, MultiFernet
from flask import current_app

from webhook_app.config import data_keys


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

answers = sa.table(
    'idempotency_keys',
    sa.column('site_id', sa.Integer),
    sa.column('webhook_id', sa.String),
    sa.column('response', sa.Text),
)


def is_export_page(answer: object) -> bool:
    """Whether a kept answer is a page of a personal-data export (``data`` and ``done``)."""
    return isinstance(answer, dict) and set(answer) == {'data', 'done'}


def _rewrite_answers(change) -> None:
    """Apply ``change`` (text -> text or None) to every stored answer."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(answers.c.site_id, answers.c.webhook_id, answers.c.response)
        .where(answers.c.response.is_not(None))
    ).all()
    for site_id, webhook_id, response in rows:
        connection.execute(
            answers.update()
            .where(answers.c.site_id == site_id, answers.c.webhook_id == webhook_id)
            .values(response=change(response))
        )


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in data_keys(current_app.config)])


def _refuse_offline() -> None:
    if context.is_offline_mode():
        raise RuntimeError(
            '0005 decrypts or encrypts the stored answers: run it online, not with --sql'
        )


def _plain_unless_export(fernet: MultiFernet, token: str) -> str | None:
    plain = fernet.decrypt(token.encode()).decode()
    return None if is_export_page(json.loads(plain)) else plain


def upgrade():
    _refuse_offline()
    fernet = _fernet()
    _rewrite_answers(lambda token: _plain_unless_export(fernet, token))
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table(
            'idempotency_keys', recreate='always', table_kwargs={'sqlite_with_rowid': False}
        ) as batch_op:
            batch_op.alter_column('response', existing_type=sa.Text(), type_=sa.JSON())
    else:
        op.alter_column(
            'idempotency_keys', 'response', existing_type=sa.Text(), type_=sa.JSON(),
            postgresql_using='response::json',
        )


def downgrade():
    _refuse_offline()
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table(
            'idempotency_keys', recreate='always', table_kwargs={'sqlite_with_rowid': True}
        ) as batch_op:
            batch_op.alter_column('response', existing_type=sa.JSON(), type_=sa.Text())
    else:
        op.alter_column(
            'idempotency_keys', 'response', existing_type=sa.JSON(), type_=sa.Text(),
            postgresql_using='response::text',
        )
    fernet = _fernet()
    _rewrite_answers(lambda plain: fernet.encrypt(plain.encode()).decode())
