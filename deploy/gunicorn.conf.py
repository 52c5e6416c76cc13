"""gunicorn settings for Gardien. Command-line flags (`-b`, `-w`) override these.

No access log: gunicorn's would write the client address. The app logs one JSON line
per request without it (webhook_app/logs.py).
"""

import os

bind = os.environ.get("GARDIEN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GARDIEN_WORKERS", "2"))
# gunicorn's sync worker, answering what gunicorn refuses by itself (a malformed or
# oversized request line or headers) in the contract's JSON shape, without quoting the
# request or logging the sender's address.
worker_class = "webhook_app.worker.SyncWorker"
# A request gives up waiting for the database after GARDIEN_DB_TIMEOUT_SECONDS (default 5)
# and answers 503: keep that well under this timeout, after which the worker is killed.
timeout = 30
graceful_timeout = 20
accesslog = None
# "warning": gunicorn's info/debug lines about connections can name the peer address (its
# warning about a bad request does too; the worker above replaces it).
loglevel = "warning"
errorlog = "-"
forwarded_allow_ips = "127.0.0.1"
wsgi_app = "webhook_app:create_app()"
