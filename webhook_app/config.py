"""Configuration: defaults, then the instance file, then ``GARDIEN_*`` variables, then tests.

Secrets are never defaulted to a constant: a service started without them refuses to
start and says which ones are missing. ``make run`` writes them once into
``instance/config.toml`` (mode 0600) with :func:`write_instance_config`.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import tomllib
from pathlib import Path

from cryptography.fernet import Fernet
from flask import Flask

from . import durability, policy, systemd
from .files import private_file, private_folder
from .stats import redact

INSTANCE_FILE = "config.toml"
SECRET_SETTINGS = ("SECRET_KEY", "WEBHOOK_SECRET", "DATA_KEYS", "INDEX_KEY")
# Either names the blind-index keys: INDEX_KEYS (new first, then old) during a rotation.
INDEX_SETTINGS = ("INDEX_KEY", "INDEX_KEYS")
WEBHOOK_SECRET_PREFIX = "whsec_"
MIN_WEBHOOK_KEY_BYTES = 24
MIN_INDEX_KEY_CHARS = 32

DEFAULTS = {
    "DATABASE_URL": None,
    "POLICY_FILE": str(policy.DEFAULT_POLICY_FILE),
    "SIGNATURE_TOLERANCE_SECONDS": 300,
    "RATE_LIMIT": "1200/minute",
    # Where the per-site counters live: memory:// counts in each worker process (so the
    # limit applies per worker); redis://HOST:PORT counts once across workers and app
    # servers (deploy/README.md). The sign-in limits: LOGIN_LIMIT_STORAGE_URI.
    "RATE_LIMIT_STORAGE_URI": "memory://",
    "SITE_CACHE_SECONDS": 10,
    # When the daily purge runs (UTC); deploy/gardien-purge.timer uses the same time.
    "PURGE_AT": "03:30",
    # Labels of exports and erasure messages; empty means the policy file's language.
    "LANGUAGE": "",
    # A MaxMind/DB-IP .mmdb country database; empty means the embedded iptocc data.
    "GEOIP_DB": "",
    # Visit statistics replace phone numbers (read as numbers of this region when written
    # without a country code) and runs of this many digits or more (0: off).
    "STATS_PHONE_REGION": redact.DEFAULT_REGION,
    "STATS_DIGIT_RUN": redact.DEFAULT_DIGIT_RUN,
    # Statistics batches on SQLite: NORMAL survives any crash of the service, only a power
    # cut or a crash of the system can undo the last ones. Every other write is committed
    # with FULL (EXTRA if this says EXTRA) before its answer (webhook_app/durability.py).
    "SQLITE_SYNCHRONOUS": "NORMAL",
    # PostgreSQL's synchronous_commit for every write but statistics batches (those: off).
    "PG_SYNCHRONOUS_COMMIT": "on",
    "LOG_LEVEL": "INFO",
    # How long a request waits for the database (a connection, a lock) before it answers
    # 503: well under gunicorn's 30 s worker timeout. Commands such as the purge wait
    # longer (webhook_app/timeouts.py).
    "DB_TIMEOUT_SECONDS": 5,
    "CLI_DB_TIMEOUT_SECONDS": 60,
    # Where managers reach the dashboard: the links the command line prints start here.
    "BASE_URL": "http://127.0.0.1:8000",
    # A dashboard session ends after this long without a request, or this long after
    # sign-in, whichever comes first (on the service clock).
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_MAX_HOURS": 12,
    # Sign-in attempts per account (by blind index) and per client address (in memory).
    "LOGIN_LIMIT_ACCOUNT": "5 per 15 minutes",
    "LOGIN_LIMIT_CLIENT": "30 per 15 minutes",
    # Where those attempts are counted: this worker's memory on the service clock, or the
    # redis:// of RATE_LIMIT_STORAGE_URI for one count across workers and app servers.
    "LOGIN_LIMIT_STORAGE_URI": "gardien-clock://",
    # Behind a reverse proxy on the loopback (deploy/nginx.conf), the header that carries
    # the client's address to the sign-in pages, for their per-client limit only; empty:
    # the connection's own address (then, behind a proxy, every client shares one limit).
    "CLIENT_ADDRESS_HEADER": "",
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Public age keys (age1…) that `flask backup` encrypts to; docs/BACKUPS.md.
    "BACKUP_RECIPIENTS": "",
}
# Environment variables are read as text; these settings are numbers.
INTEGER_SETTINGS = (
    "SIGNATURE_TOLERANCE_SECONDS", "SITE_CACHE_SECONDS", "DB_TIMEOUT_SECONDS",
    "CLI_DB_TIMEOUT_SECONDS", "STATS_DIGIT_RUN", "SESSION_IDLE_MINUTES", "SESSION_MAX_HOURS",
)
# Waits of zero would mean "for ever" to PostgreSQL and "not at all" to SQLite.
POSITIVE_SETTINGS = ("DB_TIMEOUT_SECONDS", "CLI_DB_TIMEOUT_SECONDS")


class ConfigError(RuntimeError):
    """The service cannot start with this configuration."""


def load(app: Flask, test_config: dict | None) -> None:
    """Fill ``app.config`` in order: defaults, instance file, systemd credentials,
    environment, test config."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_file(INSTANCE_FILE, load=tomllib.load, text=False, silent=True)
    app.config.from_mapping(systemd.credentials())  # LoadCredential= (deploy/)
    # Values stay strings: secrets must never be reinterpreted as JSON numbers.
    app.config.from_prefixed_env("GARDIEN", loads=str)
    if test_config:
        app.config.from_mapping(test_config)
    for name in INTEGER_SETTINGS:
        try:
            app.config[name] = int(app.config[name])
        except (TypeError, ValueError):
            raise ConfigError(f"GARDIEN_{name} must be a whole number") from None
    for name in POSITIVE_SETTINGS:
        if app.config[name] < 1:
            raise ConfigError(f"GARDIEN_{name} must be at least 1")
    check_statistics(app.config)
    check_durability(app.config)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = systemd.state_database_url() or (
            f"sqlite:///{Path(app.instance_path) / 'gardien.db'}"
        )
    check_secrets(app.config)
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config["DATABASE_URL"])


def engine_options(url: str) -> dict:
    """Engine settings: never put statement parameters (personal data) in exceptions.

    How long a connection waits is set per caller by :mod:`webhook_app.timeouts`.
    """
    return {"hide_parameters": True, "pool_pre_ping": not url.startswith("sqlite")}


def check_secrets(config: dict) -> None:
    """Refuse to start when a secret is missing or malformed, naming only the setting."""
    given = {name for name in SECRET_SETTINGS if config.get(name)}
    if any(config.get(name) for name in INDEX_SETTINGS):
        given.add("INDEX_KEY")
    missing = [name for name in SECRET_SETTINGS if name not in given]
    if missing:
        names = ", ".join(f"GARDIEN_{name}" for name in missing)
        raise ConfigError(
            f"missing secret settings: {names}. Set them in the environment or in "
            f"instance/{INSTANCE_FILE} (`make run` generates one)."
        )
    webhook_key(config["WEBHOOK_SECRET"])
    for key in data_keys(config):
        try:
            Fernet(key)
        except (ValueError, binascii.Error) as exc:
            raise ConfigError("GARDIEN_DATA_KEYS must be comma-separated Fernet keys") from exc
    if any(len(key) < MIN_INDEX_KEY_CHARS for key in index_keys(config)):
        raise ConfigError(
            f"GARDIEN_INDEX_KEY(S) must be at least {MIN_INDEX_KEY_CHARS} characters each"
        )


def check_statistics(config: dict) -> None:
    """Refuse an unknown phone region or a negative digit run; upper-case the region."""
    region = str(config["STATS_PHONE_REGION"]).strip().upper()
    if region not in redact.SUPPORTED_REGIONS:
        raise ConfigError("GARDIEN_STATS_PHONE_REGION must be a region code such as FR or BE")
    if config["STATS_DIGIT_RUN"] < 0:
        raise ConfigError("GARDIEN_STATS_DIGIT_RUN must be 0 (off) or a number of digits")
    config["STATS_PHONE_REGION"] = region


def check_durability(config: dict) -> None:
    """Refuse a durability setting :mod:`durability` does not know (SQLite's ``OFF`` too)."""
    try:
        durability.sqlite_levels(config["SQLITE_SYNCHRONOUS"])
        durability.pg_level(config["PG_SYNCHRONOUS_COMMIT"])
    except ValueError as error:
        raise ConfigError(str(error)) from None


def data_keys(config: dict) -> list[str]:
    """The Fernet keys, first one encrypts, all decrypt."""
    return _key_list(config["DATA_KEYS"])


def index_keys(config: dict) -> list[str]:
    """The blind-index keys: ``INDEX_KEYS`` (first one indexes, all are looked up) if set,
    else the single ``INDEX_KEY``."""
    return _key_list(config.get("INDEX_KEYS") or config["INDEX_KEY"])


def _key_list(raw: str | list | tuple) -> list[str]:
    keys = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    return [key.strip() for key in keys if key.strip()]


def webhook_key(secret: str) -> bytes:
    """Decode a ``whsec_…`` secret into its HMAC key, or raise :class:`ConfigError`."""
    if not isinstance(secret, str) or not secret.startswith(WEBHOOK_SECRET_PREFIX):
        raise ConfigError("a webhook secret must look like whsec_<base64>")
    try:
        key = base64.b64decode(secret[len(WEBHOOK_SECRET_PREFIX) :], validate=True)
    except binascii.Error as exc:
        raise ConfigError("a webhook secret must be whsec_ followed by base64") from exc
    if len(key) < MIN_WEBHOOK_KEY_BYTES:
        raise ConfigError(f"a webhook secret must hold at least {MIN_WEBHOOK_KEY_BYTES} bytes")
    return key


def new_webhook_secret() -> str:
    """A fresh ``whsec_`` secret of 32 random bytes."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def new_secrets() -> dict[str, str]:
    """A complete, freshly generated set of secret settings."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(32),
        "WEBHOOK_SECRET": new_webhook_secret(),
        "DATA_KEYS": Fernet.generate_key().decode(),
        "INDEX_KEY": secrets.token_urlsafe(32),
    }


def write_instance_config(instance_path: Path) -> dict[str, str] | None:
    """Create ``instance/config.toml`` with new secrets (mode 0600, in a folder made 0700)
    unless it exists.

    Returns the secrets written, or None when the file was already there.
    """
    private_folder(instance_path)
    values = new_secrets()
    lines = ["# Generated by `make run`. Keep secret: mode 0600, never commit."]
    lines += [f'{name} = "{value}"' for name, value in values.items()]
    fd = private_file(instance_path / INSTANCE_FILE)
    if fd is None:
        return None
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return values


def instance_path() -> str | None:
    """The instance folder named by ``GARDIEN_INSTANCE_PATH``, or None for Flask's own
    (``instance/`` beside the package). Read from the environment only: the instance
    file, read later, lives in it."""
    named = os.environ.get("GARDIEN_INSTANCE_PATH")
    return str(Path(named).absolute()) if named else None


def migrations_directory() -> str:
    """Alembic scripts, beside the package in the repository (``migrations/``)."""
    return str(Path(__file__).resolve().parent.parent / "migrations")
