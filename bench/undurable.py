"""The service with contact intake committed as statistics batches are (SQLite
``synchronous=NORMAL``, no sync before the ``201``): only to measure what the durable
answer costs, next to the service as shipped. Never a way to serve: the plugin deletes a
message on that ``201``.
"""

from flask import Flask

from webhook_app import create_app as create_service
from webhook_app import durability


def create_app() -> Flask:
    """The service, its contact view marked as relaxed in this process only."""
    app = create_service()
    durability.relaxed(app.view_functions["api.post_contact"])
    return app
