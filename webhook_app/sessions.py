"""Flask's signed-cookie sessions, at no cost to the requests that carry none.

The plugin never sends a session cookie, yet Flask's interface parses the cookies and
builds a signer for each of its calls, and reads every cookie setting on the way out:
about 5 % of the cost of a contact submission. A request with a session cookie, or one that uses
``session``, is handled by Flask's own code.
"""

from __future__ import annotations

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin


class CookieSessions(SecureCookieSessionInterface):
    """:class:`SecureCookieSessionInterface` that skips the work when there is no cookie."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # The raw header first: parsing the cookies of every request costs more than this.
        if app.secret_key and (
            "HTTP_COOKIE" not in request.environ
            or not request.cookies.get(self.get_cookie_name(app))
        ):
            return self.session_class()
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        """``Secure`` (sent over HTTPS only) except on the loopback, where ``make run``
        serves plain HTTP to the manager's own browser."""
        return app.config["SESSION_COOKIE_SECURE"] or not is_loopback(request.host)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        # An empty, unchanged session needs no cookie and no ``Vary: Cookie``, even when
        # something looked into it (Flask-Login does on every response): the signed API
        # never has one, and dashboard pages are never cached (``no-store``).
        if not session and not session.modified:
            return
        super().save_session(app, session, response)


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def is_loopback(host: str) -> bool:
    """Whether a ``Host`` header (with or without port) names this machine's loopback."""
    name = host.rsplit("]", 1)[0].lstrip("[") if host.startswith("[") else host.split(":")[0]
    return name in LOOPBACK_HOSTS
