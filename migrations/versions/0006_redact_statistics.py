"""redact e-mail addresses, phone numbers and long numbers already in visit statistics

Ingest now replaces them before anything is stored (webhook_app.stats.redact); this
rewrites what was stored before: the path and search terms of raw page views, and the
values of page and search rollups, with the same rules and GARDIEN_STATS_* settings.
Rows are read by primary key, CHUNK at a time, so memory stays flat on big tables.
Rollup rows of one day that become equal are merged into one: visits added, visitors
added too (an upper bound: one visitor may have been counted in both). The downgrade
changes nothing: what was replaced is gone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00

"""
from alembic import context, op
import sqlalchemy as sa
from flask import current_app

from webhook_app.stats.pages import MAX_PATH, MAX_SEARCH_TERMS
from webhook_app.stats.redact import Redactor


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

CHUNK = 10_000
TYPED = ('page', 'search')

events = sa.table(
    'stats_events',
    sa.column('id', sa.BigInteger),
    sa.column('path', sa.Text),
    sa.column('search_terms', sa.String),
)
rollups = sa.table(
    'stats_rollups',
    sa.column('id', sa.BigInteger),
    sa.column('site_id', sa.Integer),
    sa.column('day', sa.Date),
    sa.column('dimension', sa.String),
    sa.column('value', sa.Text),
    sa.column('visits', sa.Integer),
    sa.column('visitors', sa.Integer),
)


def upgrade():
    if context.is_offline_mode():
        raise RuntimeError('0006 redacts stored rows in Python: run it online, not with --sql')
    config = current_app.config
    redactor = Redactor(config['STATS_PHONE_REGION'], config['STATS_DIGIT_RUN'])
    connection = op.get_bind()
    _redact_events(connection, redactor.redact)
    _redact_rollups(connection, redactor.redact)


def downgrade():
    pass


def _terms(redacted: str) -> str | None:
    return redacted[:MAX_SEARCH_TERMS].rstrip() or None


def _chunks(connection, query, key):
    """The rows of ``query``, CHUNK at a time in ``key`` order."""
    last = None
    while True:
        page = query if last is None else query.where(key > last)
        rows = connection.execute(page.order_by(key).limit(CHUNK)).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def _redact_events(connection, redact) -> None:
    rewrite = (
        events.update()
        .where(events.c.id == sa.bindparam('key'))
        .values(path=sa.bindparam('new_path'), search_terms=sa.bindparam('new_terms'))
    )
    query = sa.select(events.c.id, events.c.path, events.c.search_terms)
    for rows in _chunks(connection, query, events.c.id):
        changed = []
        for row in rows:
            path = redact(row.path)[:MAX_PATH]
            terms = None if row.search_terms is None else _terms(redact(row.search_terms))
            if (path, terms) != (row.path, row.search_terms):
                changed.append({'key': row.id, 'new_path': path, 'new_terms': terms})
        if changed:
            connection.execute(rewrite, changed)


def _redact_rollups(connection, redact) -> None:
    query = sa.select(rollups).where(
        rollups.c.dimension.in_(TYPED), rollups.c.value.is_not(None)
    )
    for rows in _chunks(connection, query, rollups.c.id):
        for row in rows:
            redacted = redact(row.value)
            value = redacted[:MAX_PATH] if row.dimension == 'page' else _terms(redacted)
            if value != row.value:
                _rename(connection, row, value)


def _rename(connection, row, value) -> None:
    """Give a rollup row its redacted value, or add it to the day's row that has it."""
    twin = connection.scalar(
        sa.select(rollups.c.id).where(
            rollups.c.site_id == row.site_id, rollups.c.day == row.day,
            rollups.c.dimension == row.dimension, rollups.c.value == value,
            rollups.c.id != row.id,
        ).limit(1)
    )
    if twin is None:
        connection.execute(rollups.update().where(rollups.c.id == row.id).values(value=value))
        return
    connection.execute(
        rollups.update().where(rollups.c.id == twin).values(
            visits=rollups.c.visits + row.visits, visitors=rollups.c.visitors + row.visitors
        )
    )
    connection.execute(rollups.delete().where(rollups.c.id == row.id))
