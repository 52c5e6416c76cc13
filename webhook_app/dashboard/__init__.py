"""The manager dashboard: server-rendered pages at ``/`` for the company's manager.

Every action calls the same domain function as the command line (:mod:`webhook_app.cli`)
and commits once it succeeded; no rule lives in a view or a template. French first, with
English (Flask-Babel); no script; works on a phone. :mod:`.blueprint` holds what every
page shares (sessions, language, headers), :mod:`.auth` signing in and accounts, the
other modules one part of the dashboard each.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from . import (  # noqa: F401  (their views register on the blueprint; NAV orders itself)
    audit,
    auth,
    clients,
    incidents,
    messages,
    overview,
    policy,
    requests,
    sites,
    statistics,
)
from .blueprint import babel, bp, csrf, local_time, login_manager, select_locale

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def init_app(app: Flask, api_blueprints: tuple) -> None:
    """Attach the dashboard: sign-in, CSRF (not on the signed API), language."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "fr")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    login_manager.init_app(app)
    login_manager.session_protection = None  # it would keep a hash of the client address
    csrf.init_app(app)
    for blueprint in api_blueprints:
        csrf.exempt(blueprint)  # signed requests, not forms of a browser
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["when"] = local_time
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.register_blueprint(bp)

