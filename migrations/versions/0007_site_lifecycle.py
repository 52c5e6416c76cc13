"""site lifecycle: disabled sites, one secret per site, keys the service keeps

- ``sites.disabled_at``: a disabled site is answered as an unknown one.
- ``service_keys``: keys the service makes for itself, encrypted with GARDIEN_DATA_KEYS
  (the fingerprint key, made here; the legal-hold signing key, made on first use).
- ``site_secrets.fingerprint``: a keyed HMAC-SHA256 of the secret's decoded key instead
  of a bare SHA-256 prefix of its text, and unique, so one secret never signs for two
  sites. Stored secrets are decrypted to compute it. The same secret stored twice for one
  site is kept once; the same secret stored for two sites stops the upgrade (naming the
  sites, never the secret) until one of them is rotated.
- ``audit_log.detail`` grows to 500 characters (a removed site's slug and counts).

The downgrade refuses while a site is disabled (it would be accepted again), shortens
longer audit details to 200 characters, and drops ``service_keys``: bundles already
signed still verify with the public key handed out, new ones get a new key.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 09:00:00

"""
import base64
import hashlib
import hmac
import secrets
from collections import defaultdict
from datetime import UTC, datetime

from alembic import context, op
import sqlalchemy as sa
from cryptography.fernet import Fernet, MultiFernet
from flask import current_app

from webhook_app.config import data_keys


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

FINGERPRINT_KEY = 'sites.fingerprint'
WEBHOOK_SECRET_PREFIX = 'whsec_'

sites = sa.table(
    'sites',
    sa.column('id', sa.Integer),
    sa.column('slug', sa.String),
    sa.column('disabled_at', sa.DateTime),
)
site_secrets = sa.table(
    'site_secrets',
    sa.column('id', sa.Integer),
    sa.column('site_id', sa.Integer),
    sa.column('secret', sa.Text),
    sa.column('fingerprint', sa.String),
)
service_keys = sa.table(
    'service_keys',
    sa.column('name', sa.String),
    sa.column('value', sa.Text),
    sa.column('created_at', sa.DateTime),
)
audit_log = sa.table('audit_log', sa.column('detail', sa.String))


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in data_keys(current_app.config)])


def _refuse_offline() -> None:
    if context.is_offline_mode():
        raise RuntimeError('0007 decrypts the stored site secrets: run it online, not with --sql')


def _key_of(secret: str) -> bytes:
    return base64.b64decode(secret[len(WEBHOOK_SECRET_PREFIX):])


def upgrade():
    _refuse_offline()
    connection = op.get_bind()
    fernet = _fernet()
    # Checked before any change: SQLite's DDL is not transactional.
    slugs = dict(connection.execute(sa.select(sites.c.id, sites.c.slug)).all())
    holders = defaultdict(list)
    for secret_id, site_id, token in connection.execute(
        sa.select(site_secrets.c.id, site_secrets.c.site_id, site_secrets.c.secret)
        .order_by(site_secrets.c.id)
    ).all():
        holders[_key_of(fernet.decrypt(token.encode()).decode())].append((secret_id, site_id))
    # The configured secret (GARDIEN_WEBHOOK_SECRET) signs for the site default.
    configured = _key_of(current_app.config['WEBHOOK_SECRET'])
    default = next((site_id for site_id, slug in slugs.items() if slug == 'default'), None)

    def signing_sites(key: bytes, held: list) -> set:
        found = {site_id for _, site_id in held}
        return found | {default} if key == configured and default is not None else found

    shared = sorted({
        ' and '.join(sorted(slugs[site_id] for site_id in signing))
        for key, held in holders.items() if len(signing := signing_sites(key, held)) > 1
    })
    if shared:
        raise RuntimeError(
            'one secret signs for several sites (' + '; '.join(shared) + '): rotate all but '
            'one of them and remove the shared secret (`sites remove-secret`), then upgrade'
        )

    op.create_table('service_keys',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_service_keys'))
    )
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.alter_column('detail', existing_type=sa.String(length=200),
                              type_=sa.String(length=500), existing_nullable=True)
    with op.batch_alter_table('site_secrets', schema=None) as batch_op:
        batch_op.alter_column('fingerprint', existing_type=sa.String(length=16),
                              type_=sa.String(length=64), existing_nullable=False)

    fingerprint_key = secrets.token_bytes(32)
    connection.execute(service_keys.insert().values(
        name=FINGERPRINT_KEY,
        value=fernet.encrypt(base64.b64encode(fingerprint_key)).decode(),
        created_at=datetime.now(UTC).replace(tzinfo=None),
    ))
    for key, held in holders.items():
        (kept, _), *repeated = held
        connection.execute(
            site_secrets.update().where(site_secrets.c.id == kept)
            .values(fingerprint=hmac.new(fingerprint_key, key, hashlib.sha256).hexdigest())
        )
        for secret_id, _ in repeated:  # the same secret twice for one site: once is enough
            connection.execute(site_secrets.delete().where(site_secrets.c.id == secret_id))

    with op.batch_alter_table('site_secrets', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_site_secrets_fingerprint'),
                                          ['fingerprint'])


def downgrade():
    _refuse_offline()
    connection = op.get_bind()
    disabled = connection.execute(
        sa.select(sites.c.slug).where(sites.c.disabled_at.is_not(None)).order_by(sites.c.slug)
    ).scalars().all()
    if disabled:
        raise RuntimeError(
            'disabled sites (' + ', '.join(disabled) + ') would be accepted again before 0007: '
            'enable or remove them first'
        )
    with op.batch_alter_table('site_secrets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_site_secrets_fingerprint'), type_='unique')
    fernet = _fernet()
    for secret_id, token in connection.execute(
        sa.select(site_secrets.c.id, site_secrets.c.secret)
    ).all():
        secret = fernet.decrypt(token.encode()).decode()
        connection.execute(
            site_secrets.update().where(site_secrets.c.id == secret_id)
            .values(fingerprint=hashlib.sha256(secret.encode()).hexdigest()[:12])
        )
    with op.batch_alter_table('site_secrets', schema=None) as batch_op:
        batch_op.alter_column('fingerprint', existing_type=sa.String(length=64),
                              type_=sa.String(length=16), existing_nullable=False)
    connection.execute(
        audit_log.update().where(sa.func.length(audit_log.c.detail) > 200)
        .values(detail=sa.func.substr(audit_log.c.detail, 1, 200))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.alter_column('detail', existing_type=sa.String(length=500),
                              type_=sa.String(length=200), existing_nullable=True)
    # Never by copying `sites` on SQLite: with foreign keys on, dropping the old table
    # would cascade to every row of every site (SQLite 3.35+ drops a column in place).
    with op.batch_alter_table('sites', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('disabled_at')
    op.drop_table('service_keys')
