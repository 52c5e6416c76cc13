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

from . import policy
from .stats import redact

INSTANCE_FILE = "config.toml"
SECRET_SETTINGS = ("SECRET_KEY", "WEBHOOK_SECRET", "DATA_KEYS", "INDEX_KEY")
WEBHOOK_SECRET_PREFIX = "whsec_"
MIN_WEBHOOK_KEY_BYTES = 24
MIN_INDEX_KEY_CHARS = 32

DEFAULTS = {
    "DATABASE_URL": None,
    "POLICY_FILE": str(policy.DEFAULT_POLICY_FILE),
    "SIGNATURE_TOLERANCE_SECONDS": 300,
    "RATE_LIMIT": "1200/minute",
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
    # WAL with NORMAL survives any crash of the service; only a power cut can undo the
    # last commits. FULL adds an fsync to every commit.
    "SQLITE_SYNCHRONOUS": "NORMAL",
    "LOG_LEVEL": "INFO",
}
# Environment variables are read as text; these settings are numbers.
INTEGER_SETTINGS = ("SIGNATURE_TOLERANCE_SECONDS", "SITE_CACHE_SECONDS", "STATS_DIGIT_RUN")


class ConfigError(RuntimeError):
    """The service cannot start with this configuration."""


def load(app: Flask, test_config: dict | None) -> None:
    """Fill ``app.config`` in order: defaults, instance file, environment, test config."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_file(INSTANCE_FILE, load=tomllib.load, text=False, silent=True)
    # Values stay strings: secrets must never be reinterpreted as JSON numbers.
    app.config.from_prefixed_env("GARDIEN", loads=str)
    if test_config:
        app.config.from_mapping(test_config)
    for name in INTEGER_SETTINGS:
        try:
            app.config[name] = int(app.config[name])
        except (TypeError, ValueError):
            raise ConfigError(f"GARDIEN_{name} must be a whole number") from None
    check_statistics(app.config)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'gardien.db'}"
    check_secrets(app.config)
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config["DATABASE_URL"])


def engine_options(url: str) -> dict:
    """Engine settings: never put statement parameters (personal data) in exceptions."""
    options: dict = {"hide_parameters": True, "pool_pre_ping": not url.startswith("sqlite")}
    if url.startswith("sqlite"):
        options["connect_args"] = {"timeout": 30}
    return options


def check_secrets(config: dict) -> None:
    """Refuse to start when a secret is missing or malformed, naming only the setting."""
    missing = [name for name in SECRET_SETTINGS if not config.get(name)]
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
    if len(config["INDEX_KEY"]) < MIN_INDEX_KEY_CHARS:
        raise ConfigError(f"GARDIEN_INDEX_KEY must be at least {MIN_INDEX_KEY_CHARS} characters")


def check_statistics(config: dict) -> None:
    """Refuse an unknown phone region or a negative digit run; upper-case the region."""
    region = str(config["STATS_PHONE_REGION"]).strip().upper()
    if region not in redact.SUPPORTED_REGIONS:
        raise ConfigError("GARDIEN_STATS_PHONE_REGION must be a region code such as FR or BE")
    if config["STATS_DIGIT_RUN"] < 0:
        raise ConfigError("GARDIEN_STATS_DIGIT_RUN must be 0 (off) or a number of digits")
    config["STATS_PHONE_REGION"] = region


def data_keys(config: dict) -> list[str]:
    """The Fernet keys, first one encrypts, all decrypt."""
    raw = config["DATA_KEYS"]
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
    """Create ``instance/config.toml`` with new secrets (mode 0600) unless it exists.

    Returns the secrets written, or None when the file was already there.
    """
    instance_path.mkdir(parents=True, exist_ok=True)
    target = instance_path / INSTANCE_FILE
    values = new_secrets()
    lines = ["# Generated by `make run`. Keep secret: mode 0600, never commit."]
    lines += [f'{name} = "{value}"' for name, value in values.items()]
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return values


def migrations_directory() -> str:
    """Alembic scripts, beside the package in the repository (``migrations/``)."""
    return str(Path(__file__).resolve().parent.parent / "migrations")
