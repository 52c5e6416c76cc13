"""Gardien: the privacy back office a WordPress site plugs into.

Where things are (``docs/ARCHITECTURE.md`` tells why):

==================  ========================================================================
wiring              ``__init__`` (this factory), ``config`` (defaults, instance file,
                    ``GARDIEN_*``), ``extensions`` (``db``, ``Model``, ``migrate``, SQLite
                    pragmas), ``timeouts`` (how long a caller waits for the database),
                    ``durability`` (which commits are on disk before their answer),
                    ``files`` (private files and folders), ``instance`` (first-run secrets
                    for ``make run``), ``worker`` (gunicorn's own refusals as JSON),
                    ``serverlog`` (gunicorn's log lines without addresses), ``systemd``
                    (credentials and the state folder under systemd), ``dbcopy`` (``flask
                    db copy``: one database into another, SQLite to PostgreSQL)
time and rules      ``clock`` (the one ``now()``), ``policy`` + ``policy.toml`` (periods,
                    category names), ``notice`` (the published notice)
storage             ``models`` (tables), ``crypto`` (encrypted columns, blind index),
                    ``keys`` (key status, rotations, the start-up check), ``addresses``
                    (what an e-mail address is), ``service_keys`` (keys the service makes
                    for itself), ``locks`` (one run of a job at a time)
the wire            ``wire`` (what every signed view shares), ``signing`` (Standard
                    Webhooks, idempotency), ``schemas`` (marshmallow), ``errors`` (the JSON
                    error shape, :class:`~webhook_app.errors.DomainError`), ``ratelimit``,
                    ``sessions``, ``logs``, ``openapi`` (writes ``schemas/``)
blueprints          ``api`` (``/v1``, ``/healthz``), ``stats.api`` (``/v1/stats``)
domain              ``sites`` (sites, their secrets and lifecycle), ``messages`` (a
                    message's lifecycle), ``clients`` (client records), ``privacy``
                    (export, erasure), ``legal_hold`` (bundles for the authorities;
                    ``verify_bundle`` checks one with the public key alone),
                    ``retention`` (the purge), ``audit`` (the audit log), ``tombstones``
                    (what erasures removed, by id), ``backup`` (encrypted backups,
                    restores that keep erasures), ``status``,
                    ``stats`` (visits; ``stats.redact`` keeps addresses and numbers out,
                    ``stats.subjects`` finds the rows that still name someone)
command line        ``cli`` (every group; commands return text, the group commits)
==================  ========================================================================

Domain functions add to the caller's transaction and never commit: the ``/v1`` wrapper,
the CLI and the dashboard do. A refusal is a :class:`~webhook_app.errors.DomainError`.
"""

from __future__ import annotations

from flask import Flask

__version__ = "0.1.0"


def create_app(test_config: dict | None = None) -> Flask:
    """Build the service: configuration, extensions, blueprints, CLI. Wiring only.

    Serving (not under ``flask`` commands, which check before each command but
    ``keys …``), it refuses to start without a key that stored data needs.
    """
    import click

    from . import (
        api,
        cli,
        config,
        crypto,
        dashboard,
        dbcopy,
        durability,
        errors,
        intake,
        keys,
        logs,
        ratelimit,
        timeouts,
    )
    from .extensions import db, init_sqlite, migrate
    from .sessions import CookieSessions
    from .stats import api as stats_api
    from .stats import cli as stats_cli

    # No app-wide static route: it would shadow the dashboard's /static/ (the only one).
    app = Flask(__name__, instance_path=config.instance_path(), instance_relative_config=True,
                static_folder=None)
    config.load(app, test_config)
    app.session_interface = CookieSessions()
    logs.init_app(app)
    db.init_app(app)
    init_sqlite(app)
    timeouts.init_app(app)
    durability.init_app(app)
    intake.init_app(app)
    migrate.init_app(app, db, directory=config.migrations_directory())
    crypto.init_app(app)
    ratelimit.init_app(app)
    errors.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(api.health)
    app.register_blueprint(stats_api.bp)
    dashboard.init_app(app, api_blueprints=(api.bp, api.health, stats_api.bp))
    cli.init_app(app)
    dbcopy.init_app(app)
    app.cli.add_command(stats_cli.stats_group)
    if click.get_current_context(silent=True) is None:
        keys.check(app)
    return app
