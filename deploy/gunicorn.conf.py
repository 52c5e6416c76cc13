"""gunicorn settings for Gardien. Command-line flags (`-b`, `-w`) override these.

No access log: gunicorn's would write the client address. The app logs one JSON line
per request without it (webhook_app/logs.py), and gunicorn's own lines go through a
logger that takes every address out of them, at every level (webhook_app/serverlog.py).
"""

import os

bind = os.environ.get("GARDIEN_BIND", "127.0.0.1:8000")
# Sync workers: one request at a time each, mostly waiting on the database and the
# network, so two per core and one more (gunicorn's advice), capped so that a large
# machine does not open more database connections than a small PostgreSQL allows.
# GARDIEN_WORKERS sets the number outright.
# The cores this process may run on (a container's or systemd's CPU set), else all.
cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
workers = int(os.environ.get("GARDIEN_WORKERS", min(2 * cores + 1, 9)))
# gunicorn's sync worker, answering what gunicorn refuses by itself (a malformed or
# oversized request line or headers) in the contract's JSON shape, without quoting the
# request or logging the sender's address. Each worker logs an error when it starts if a
# request's database wait (GARDIEN_DB_TIMEOUT_SECONDS, default 5) is over half of
# `timeout`: a request must give up and answer 503 long before gunicorn kills its worker.
worker_class = "webhook_app.worker.SyncWorker"
timeout = int(os.environ.get("GARDIEN_WORKER_TIMEOUT", "30"))
# On HUP (systemctl reload) or TERM, a worker finishes the request it is serving within
# this time; new workers serve meanwhile (HUP).
graceful_timeout = 20
accesslog = None
logger_class = "webhook_app.serverlog.PrivateLogger"
# Even at "debug" (`--log-level debug`), no line names an address.
loglevel = "warning"
errorlog = "-"
forwarded_allow_ips = "127.0.0.1"
# No control socket (gunicorn 25 and later; older ones ignore the name): systemd manages
# the service, and every gunicorn of a user would otherwise share ~/.gunicorn/gunicorn.ctl.
control_socket_disable = True
wsgi_app = "webhook_app:create_app()"


def pre_request(worker, req):
    """gunicorn's default hook logs each request's path at debug: a path can name someone."""
    worker.log.debug("%s request", req.method)
