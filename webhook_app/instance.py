"""First-run setup for ``make run``: ``python -m webhook_app.instance``.

Creates ``instance/config.toml`` with generated secrets (mode 0600, in a folder made 0700;
``GARDIEN_INSTANCE_PATH`` names another folder) if it is missing and
prints the webhook secret of the site ``default`` once. Does nothing on later runs, but
to give an instance made before backups existed its backup key.

The backup identity (``instance/backup-identity.txt``, 0600) and its public recipient (in
``config.toml``) make ``flask backup`` work out of the box on a developer's machine. On a
server the identity belongs elsewhere (docs/BACKUPS.md): only the recipient is needed there.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from flask import Flask

from .backup import new_identity
from .config import INSTANCE_FILE, instance_path, write_instance_config
from .files import private_file

BACKUP_IDENTITY = "backup-identity.txt"


def main() -> None:
    """Write the instance secrets on first run and show the webhook secret once."""
    app = Flask("webhook_app", instance_path=instance_path(), instance_relative_config=True)
    instance = Path(app.instance_path)
    written = write_instance_config(instance)
    identity = backup_identity(instance)
    if identity is not None:
        print(
            f"Created the backup identity {identity} (mode 0600): `flask --app webhook_app "
            f"restore FILE --identity {identity}` restores a backup."
        )
    if written is None:
        print(f"Using the secrets of {instance / INSTANCE_FILE}.")
        return
    print(
        f"Created {instance / INSTANCE_FILE} (mode 0600) with new secrets.\n"
        "Webhook secret of the site 'default' (shown once; put it in wp-config.php as\n"
        "GARDIEN_WEBHOOK_SECRET or in Settings > Gardien):\n\n"
        f"    {written['WEBHOOK_SECRET']}\n"
    )


def backup_identity(instance: Path) -> Path | None:
    """Give the instance a backup identity file and its recipient in ``config.toml``
    unless it has a recipient already; return the identity file made, or None."""
    config = instance / INSTANCE_FILE
    with config.open("rb") as handle:
        if tomllib.load(handle).get("BACKUP_RECIPIENTS"):
            return None
    path = instance / BACKUP_IDENTITY
    fd = private_file(path)
    if fd is None:
        return None  # an identity without its recipient: someone's choice, left alone
    text, recipient = new_identity()
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    with config.open("a") as handle:
        handle.write(f'BACKUP_RECIPIENTS = "{recipient}"\n')
    return path


if __name__ == "__main__":
    main()
