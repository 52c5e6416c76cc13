"""First-run setup for ``make run``: ``python -m webhook_app.instance``.

Creates ``instance/config.toml`` with generated secrets (mode 0600, in a folder made 0700;
``GARDIEN_INSTANCE_PATH`` names another folder) if it is missing and
prints the webhook secret of the site ``default`` once. Does nothing on later runs.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from .config import INSTANCE_FILE, instance_path, write_instance_config


def main() -> None:
    """Write the instance secrets on first run and show the webhook secret once."""
    app = Flask("webhook_app", instance_path=instance_path(), instance_relative_config=True)
    instance = Path(app.instance_path)
    written = write_instance_config(instance)
    if written is None:
        print(f"Using the secrets of {instance / INSTANCE_FILE}.")
        return
    print(
        f"Created {instance / INSTANCE_FILE} (mode 0600) with new secrets.\n"
        "Webhook secret of the site 'default' (shown once; put it in wp-config.php as\n"
        "GARDIEN_WEBHOOK_SECRET or in Settings > Gardien):\n\n"
        f"    {written['WEBHOOK_SECRET']}\n"
    )


if __name__ == "__main__":
    main()
