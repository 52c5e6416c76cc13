"""gunicorn settings for Gardien. Command-line flags (`-b`, `-w`) override these.

No access log: gunicorn's would write the client address. The app logs one JSON line
per request without it (webhook_app/logs.py).
"""

import os

bind = os.environ.get("GARDIEN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GARDIEN_WORKERS", "2"))
worker_class = "sync"
# A request gives up waiting for the database after GARDIEN_DB_TIMEOUT_SECONDS (default 5)
# and answers 503: keep that well under this timeout, after which the worker is killed.
timeout = 30
graceful_timeout = 20
accesslog = None
# "warning": gunicorn's info/debug lines about bad requests can name the peer address.
loglevel = "warning"
errorlog = "-"
forwarded_allow_ips = "127.0.0.1"
wsgi_app = "webhook_app:create_app()"
