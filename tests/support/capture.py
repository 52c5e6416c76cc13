"""An app whose log lines a test can read with ``capsys``."""

from __future__ import annotations

from flask import Flask

from webhook_app import create_app


def app_logging_here(database_url: str, secrets: dict[str, str], **config) -> Flask:
    """The app on ``database_url``, made in the test's own body.

    Its log handler writes to the ``sys.stderr`` of the moment it is made: made here, that
    is the stream ``capsys`` reads. An app made by a fixture writes to a stream of the
    setup phase, closed by the time the test reads, and its lines are lost (with a
    "Logging error" on the real stderr), so a test that looks for what is *not* logged
    would pass without reading anything.
    """
    return create_app({**secrets, "DATABASE_URL": database_url, "TESTING": True, **config})
