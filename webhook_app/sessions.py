"""Flask's signed-cookie sessions, at no cost to the requests that carry none.

The plugin never sends a session cookie, yet Flask's interface parses the cookies and
builds a signer for each of its calls, and reads every cookie setting on the way out:
about 5 % of the cost of a contact submission. A request with a session cookie, or one that uses
``session``, is handled by Flask's own code.
"""

from __future__ import annotations

from flask import Flask, Request, Response
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

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified and not session.accessed:
            return
        super().save_session(app, session, response)
