"""The bare-Flask baseline: the same gunicorn settings serving a small JSON answer."""

from flask import Flask, request

from webhook_app.config import DEFAULTS


def create_app() -> Flask:
    """A Flask app with one endpoint that reads the body and answers a small JSON."""
    app = Flask(__name__)
    # What deploy/gunicorn.conf.py's worker reads from the app it serves.
    app.config["DB_TIMEOUT_SECONDS"] = DEFAULTS["DB_TIMEOUT_SECONDS"]

    @app.post("/hello")
    def hello():
        request.get_data()
        return {"status": "ok"}, 201

    return app
