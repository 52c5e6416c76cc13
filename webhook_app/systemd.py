"""What systemd hands the service (``deploy/gardien.service``): secrets and a state folder.

- Secrets through ``LoadCredential=gardien:/etc/gardien/credentials``: systemd copies each
  file of that folder (root's, mode 0600) into ``$CREDENTIALS_DIRECTORY`` as
  ``gardien_<file>``, readable by the service's user alone, in memory that is never swapped,
  and never in the process environment (``/proc/<pid>/environ``). A file named after a
  secret setting in lower case (``data_keys``, ``database_url``…) gives that setting. The
  ``GARDIEN_*`` environment variables, read after, still win.
- ``StateDirectory=gardien``: systemd makes ``/var/lib/gardien`` (``$STATE_DIRECTORY``),
  owned by the service's user; with no database URL configured, the SQLite database lives
  there rather than in ``instance/`` (read-only under ``ProtectSystem=strict``).

Outside systemd neither variable is set and nothing changes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

CREDENTIAL_PREFIX = "gardien_"
# Settings a credential may give: the secrets, and the database URL (it may hold a password).
CREDENTIAL_SETTINGS = (
    "SECRET_KEY",
    "WEBHOOK_SECRET",
    "DATA_KEYS",
    "INDEX_KEY",
    "INDEX_KEYS",
    "DATABASE_URL",
)
DATABASE_FILE = "gardien.db"


def credentials(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The settings found in ``$CREDENTIALS_DIRECTORY`` (none when it is not set)."""
    folder = environ.get("CREDENTIALS_DIRECTORY")
    if not folder:
        return {}
    found = {}
    for name in CREDENTIAL_SETTINGS:
        path = Path(folder) / f"{CREDENTIAL_PREFIX}{name.lower()}"
        if path.is_file() and (value := path.read_text().strip()):
            found[name] = value
    return found


def state_database_url(environ: Mapping[str, str] = os.environ) -> str | None:
    """The SQLite URL in the first ``$STATE_DIRECTORY``, or None outside systemd."""
    folder = environ.get("STATE_DIRECTORY", "").split(":")[0]
    return f"sqlite:///{Path(folder) / DATABASE_FILE}" if folder else None
