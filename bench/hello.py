"""The bare-Flask baseline: the same gunicorn settings serving a small JSON answer."""

from flask import Flask, request


def create_app() -> Flask:
    """A Flask app with one endpoint that reads the body and answers a small JSON."""
    app = Flask(__name__)

    @app.post("/hello")
    def hello():
        request.get_data()
        return {"status": "ok"}, 201

    return app
