"""Gardien: the privacy back office a WordPress site plugs into."""

from __future__ import annotations

from flask import Flask

__version__ = "0.1.0"


def create_app(test_config: dict | None = None) -> Flask:
    """Build the service: configuration, extensions, blueprints, CLI. Wiring only."""
    from . import api, cli, config, crypto, errors, logs, ratelimit, timeouts
    from .extensions import db, init_sqlite, migrate
    from .sessions import CookieSessions
    from .stats import api as stats_api
    from .stats import cli as stats_cli

    app = Flask(__name__, instance_path=config.instance_path(), instance_relative_config=True)
    config.load(app, test_config)
    app.session_interface = CookieSessions()
    logs.init_app(app)
    db.init_app(app)
    init_sqlite(app)
    timeouts.init_app(app)
    migrate.init_app(app, db, directory=config.migrations_directory())
    crypto.init_app(app)
    ratelimit.init_app(app)
    errors.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(api.health)
    app.register_blueprint(stats_api.bp)
    cli.init_app(app)
    app.cli.add_command(stats_cli.stats_group)
    return app
