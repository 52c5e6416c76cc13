"""Command line: ``flask --app webhook_app sites …``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from . import sites
from .config import ConfigError, webhook_key


def init_app(app: Flask) -> None:
    """Register the command groups."""
    app.cli.add_command(sites_group)


@click.group("sites", cls=AppGroup)
def sites_group() -> None:
    """Manage the WordPress sites allowed to send, and their secrets."""


def _checked_secret(secret: str | None) -> str | None:
    if secret is None:
        return None
    try:
        webhook_key(secret)
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from None
    return secret


@sites_group.command("add")
@click.argument("slug")
@click.option("--secret", help="Use this whsec_… secret instead of generating one.")
def sites_add(slug: str, secret: str | None) -> None:
    """Add a site and print its webhook secret (shown once)."""
    try:
        made = sites.add(slug, _checked_secret(secret))
    except sites.SiteError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"site {slug} added; webhook secret (shown once):\n{made}")


@sites_group.command("list")
def sites_list() -> None:
    """List sites with the fingerprints of their secrets (never the secrets)."""
    for slug, prints in sites.listing():
        click.echo(f"{slug}\t{' '.join(prints) or '-'}")


@sites_group.command("rotate")
@click.argument("slug")
@click.option("--secret", help="Use this whsec_… secret instead of generating one.")
def sites_rotate(slug: str, secret: str | None) -> None:
    """Add a new secret to a site; the old ones stay valid until removed."""
    try:
        made = sites.rotate(slug, _checked_secret(secret))
    except sites.SiteError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"new webhook secret of {slug} (shown once):\n{made}")


@sites_group.command("remove-secret")
@click.argument("slug")
@click.argument("fingerprint")
def sites_remove_secret(slug: str, fingerprint: str) -> None:
    """Retire the secret of a site whose fingerprint `sites list` shows."""
    try:
        sites.remove_secret(slug, fingerprint)
    except sites.SiteError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"secret {fingerprint} of {slug} removed")
