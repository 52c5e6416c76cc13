"""Command line: ``flask --app webhook_app sites|messages|clients|purge|legal-hold …``.

Each command parses its options, calls one domain function and returns the text to
print. :class:`GardienGroup` does the rest once for all: the app context, one
transaction committed when the command succeeds (then the text is printed), and a
:class:`~webhook_app.errors.DomainError` turned into a one-line error and exit code 1.
The one exception is ``legal-hold verify``, which needs no app at all.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from . import (
    audit,
    backup,
    clients,
    clock,
    incidents,
    keys,
    legal_hold,
    managers,
    messages,
    retention,
    sites,
    verify_bundle,
)
from .config import ConfigError, webhook_key
from .errors import DomainError
from .extensions import db
from .models import orm_transaction


class GardienGroup(AppGroup):
    """A command group whose commands run in one transaction and print what they return.

    Before a command, the keys are checked as at the service's start
    (:func:`webhook_app.keys.check`), except in the ``keys`` group, which repairs them.
    """

    def __init__(self, *args, check_keys: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.check_keys = check_keys

    # click's `Group.command` is overloaded to work bare too (`@group.command`); this one
    # is only called, as every command here is declared: `@group.command("name")`.
    def command(self, *args, **kwargs) -> Callable[[Callable], click.Command]:  # type: ignore[override]
        def decorator(function: Callable) -> click.Command:
            wrapped = _committed(function, self.check_keys)
            return super(GardienGroup, self).command(*args, **kwargs)(wrapped)

        return decorator


def _committed(function: Callable, check_keys: bool = True) -> Callable:
    """Run ``function`` in a transaction, commit, then print the text it returned."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs) -> None:
        try:
            if check_keys:
                keys.check(current_app)
            with orm_transaction():
                text = function(*args, **kwargs)
        except (DomainError, ConfigError) as error:
            raise click.ClickException(str(error)) from None
        if text:
            click.echo(text)

    return wrapper


def gardien_command(name: str, check_keys: bool = True, **kwargs) -> Callable:
    """A top-level command treated as the groups' commands are."""

    def decorator(function: Callable) -> click.Command:
        wrapped = _committed(function, check_keys)
        return click.command(name, **kwargs)(with_appcontext(wrapped))

    return decorator


def init_app(app: Flask) -> None:
    """Register the command groups."""
    for command in (sites_group, messages_group, clients_group, purge_command,
                    legal_hold_group, keys_group, managers_group, incidents_group,
                    backup_command, restore_command):
        app.cli.add_command(command)


@click.group("sites", cls=GardienGroup)
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
def sites_add(slug: str, secret: str | None) -> str:
    """Add a site and print its webhook secret (shown once)."""
    made = sites.add(slug, _checked_secret(secret))
    return f"site {slug} added; webhook secret (shown once):\n{made}"


@sites_group.command("list")
def sites_list() -> str:
    """List sites, enabled or disabled, with the fingerprints of their secrets."""
    return "\n".join(
        f"{site.slug}\t{'enabled' if site.enabled else 'disabled'}\t"
        f"{' '.join(site.fingerprints) or '-'}"
        for site in sites.listing()
    )


@sites_group.command("rotate")
@click.argument("slug")
@click.option("--secret", help="Use this whsec_… secret instead of generating one.")
def sites_rotate(slug: str, secret: str | None) -> str:
    """Add a new secret to a site; the old ones stay valid until removed."""
    made = sites.rotate(slug, _checked_secret(secret))
    return f"new webhook secret of {slug} (shown once):\n{made}"


@sites_group.command("remove-secret")
@click.argument("slug")
@click.argument("fingerprint")
def sites_remove_secret(slug: str, fingerprint: str) -> str:
    """Retire the secret of a site whose fingerprint `sites list` shows."""
    sites.remove_secret(slug, fingerprint)
    return f"secret {fingerprint} of {slug} removed"


@sites_group.command("disable")
@click.argument("slug")
def sites_disable(slug: str) -> str:
    """Refuse a site's requests (401, as for an unknown site); its data is kept."""
    sites.disable(slug, audit.cli_actor())
    return f"site {slug} disabled; every worker refuses it within {_cache_period()}"


@sites_group.command("enable")
@click.argument("slug")
def sites_enable(slug: str) -> str:
    """Accept a disabled site's requests again."""
    sites.enable(slug, audit.cli_actor())
    return f"site {slug} enabled; every worker accepts it within {_cache_period()}"


@sites_group.command("remove")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
def sites_remove(slug: str, yes: bool) -> str:
    """Delete a site and everything stored for it, after confirmation."""
    if not yes:
        held = sites.holdings(slug)
        # No transaction stays open while the operator reads: the removal starts afresh.
        db.session.rollback()
        kept = {kind: held.pop(kind) for kind in ("legal_holds", "invoices_in_period")}
        click.echo(f"site {slug} holds:\n" + "\n".join(
            f"  {kind:<18} {count}" for kind, count in held.items()
        ))
        if any(kept.values()):
            click.echo(f"of which {kept['legal_holds']} message(s) under legal hold and "
                       f"{kept['invoices_in_period']} invoice(s) in their keeping period, "
                       "which the law would otherwise keep: export what must be kept first.")
        click.confirm(f"Delete site {slug} and all of this for good?", abort=True)
    counts = sites.remove(slug, audit.cli_actor())
    deleted = ", ".join(f"{count} {kind}" for kind, count in counts.items())
    return f"site {slug} removed: {deleted}"


def _cache_period() -> str:
    return f"{current_app.config['SITE_CACHE_SECONDS']} s"


def _pairs(values: tuple[str, ...]) -> dict[str, str]:
    """``name=value`` options into a dict."""
    pairs = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep:
            raise click.BadParameter(f"expected name=value, got {key!r}")
        pairs[key.strip()] = text
    return pairs


def _date(value: str) -> datetime:
    try:
        return clock.parse_rfc3339(value if "T" in value else f"{value}T00:00:00Z")
    except ValueError:
        raise click.BadParameter("expected YYYY-MM-DD or an RFC 3339 time") from None


def _cents(value: str) -> int:
    try:
        return clients.cents(value)
    except clients.ClientError as error:
        raise click.BadParameter(str(error)) from None


@click.group("messages", cls=GardienGroup)
def messages_group() -> None:
    """Legal holds, conversion to clients, corrections and erasure of contact messages."""


@messages_group.command("flag")
@click.argument("message_id")
@click.option("--reason", required=True, help="Why the message is kept for the authorities.")
def messages_flag(message_id: str, reason: str) -> str:
    """Put a message under legal hold (illegal content): kept for the legal-hold period."""
    message = messages.hold(message_id, reason, audit.cli_actor())
    assert message.expires_at is not None, "a held message ends with the legal-hold period"
    return (f"message {message.id} under legal hold until "
            f"{clock.format_rfc3339(message.expires_at)}")


@messages_group.command("unflag")
@click.argument("message_id")
def messages_unflag(message_id: str) -> str:
    """Lift a legal hold: the message ends as a contact message would."""
    message = messages.release(message_id, audit.cli_actor())
    assert message.expires_at is not None, "a released message ends as a contact message"
    return f"message {message.id} kept until {clock.format_rfc3339(message.expires_at)}"


@messages_group.command("to-client")
@click.argument("message_id")
@click.option("--field", "fields", multiple=True, metavar="NAME=VALUE",
              help="Client field (siret, role, phone, address, …); repeatable.")
def messages_to_client(message_id: str, fields: tuple[str, ...]) -> str:
    """Turn a message into a client relationship (it then follows the client rules)."""
    client = messages.attach_to_client(message_id, audit.cli_actor(), _pairs(fields))
    assert client.anonymise_at is not None, "an open client record has an anonymisation date"
    return (f"client {client.id}; anonymised on "
            f"{clock.format_rfc3339(client.anonymise_at)} unless there is new activity")


@messages_group.command("rectify")
@click.argument("message_id")
@click.option("--field", "fields", multiple=True, required=True, metavar="NAME=VALUE",
              help="Corrected field (name, email, company, message); repeatable.")
def messages_rectify(message_id: str, fields: tuple[str, ...]) -> str:
    """Correct a message at its author's request."""
    message = messages.rectify(message_id, _pairs(fields), audit.cli_actor())
    return f"message {message.id} corrected"


@messages_group.command("erase")
@click.argument("message_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
def messages_erase(message_id: str, yes: bool) -> str:
    """Delete one message now (not a held one, nor a client's), after confirmation."""
    if not yes:
        click.confirm(f"Delete message {message_id} for good?", abort=True)
    messages.erase_one(message_id, audit.cli_actor())
    return f"message {message_id} erased"


@click.group("clients", cls=GardienGroup)
def clients_group() -> None:
    """Client records: show, correct, quotes, invoices, payments, reminders."""


@clients_group.command("show")
@click.argument("client_id")
def clients_show(client_id: str) -> str:
    """Print a client record with its quotes and invoices."""
    client = clients.get(client_id)
    lines = [f"client {client.id}"]
    lines += [f"  {key}: {client.personal.get(key) or '-'}" for key in clients.CLIENT_FIELDS]
    lines.append(f"  last activity: {clock.format_rfc3339(client.last_activity_at)}")
    if client.anonymised_at:
        lines.append(f"  anonymised: {clock.format_rfc3339(client.anonymised_at)}")
    else:
        assert client.anonymise_at is not None, "an open client record has an anonymisation date"
        lines.append(f"  anonymised on: {clock.format_rfc3339(client.anonymise_at)}")
    for quote in client.quotes:
        lines.append(f"  quote {quote.id} {quote.number} {quote.issued_on.date()} "
                     f"{quote.amount_cents / 100:.2f} {quote.status}")
    for invoice in client.invoices:
        paid = f"paid {invoice.paid_on.date()} ({invoice.payment_method})" if invoice.paid_on \
            else f"unpaid, {invoice.reminders_sent} reminder(s)"
        lines.append(f"  invoice {invoice.id} {invoice.number} {invoice.issued_on.date()} "
                     f"{invoice.amount_cents / 100:.2f} {paid}; kept until "
                     f"{invoice.expires_at.date()}")
    return "\n".join(lines)


@clients_group.command("add")
@click.argument("site")
@click.option("--field", "fields", multiple=True, required=True, metavar="NAME=VALUE",
              help=f"One of {', '.join(clients.CLIENT_FIELDS)}; repeatable; name is required.")
def clients_add(site: str, fields: tuple[str, ...]) -> str:
    """Enter a client record by hand for a site (the SIRET number is checked)."""
    client = clients.add(site, _pairs(fields), audit.cli_actor())
    assert client.anonymise_at is not None, "an open client record has an anonymisation date"
    return (f"client {client.id}; anonymised on "
            f"{clock.format_rfc3339(client.anonymise_at)} unless there is new activity")


@clients_group.command("rectify")
@click.argument("client_id")
@click.option("--field", "fields", multiple=True, required=True, metavar="NAME=VALUE",
              help=f"One of {', '.join(clients.CLIENT_FIELDS)}; repeatable.")
def clients_rectify(client_id: str, fields: tuple[str, ...]) -> str:
    """Correct a client record (the SIRET number is checked)."""
    clients.rectify(client_id, _pairs(fields), audit.cli_actor())
    return f"client {client_id} corrected"


@clients_group.command("add-quote")
@click.argument("client_id")
@click.option("--number", required=True)
@click.option("--date", "issued_on", required=True, type=_date)
@click.option("--amount", required=True, type=_cents, help="In euros, e.g. 120.50.")
@click.option("--status", default="sent", type=click.Choice(clients.QUOTE_STATUSES))
def clients_add_quote(client_id, number, issued_on, amount, status) -> str:
    """Add a quote to a client (counts as activity)."""
    quote = clients.add_quote(client_id, number, issued_on, amount, status,
                              actor=audit.cli_actor())
    return f"quote {quote.id} added"


@clients_group.command("add-invoice")
@click.argument("client_id")
@click.option("--number", required=True)
@click.option("--date", "issued_on", required=True, type=_date)
@click.option("--amount", required=True, type=_cents, help="In euros, e.g. 120.50.")
def clients_add_invoice(client_id, number, issued_on, amount) -> str:
    """Add an invoice to a client (counts as activity; kept for the invoice period)."""
    invoice = clients.add_invoice(client_id, number, issued_on, amount, actor=audit.cli_actor())
    return f"invoice {invoice.id} added; kept until {invoice.expires_at.date()}"


@clients_group.command("add-payment")
@click.argument("invoice_id", type=int)
@click.option("--date", "paid_on", required=True, type=_date)
@click.option("--method", required=True, type=click.Choice(clients.PAYMENT_METHODS))
def clients_add_payment(invoice_id, paid_on, method) -> str:
    """Record the payment of an invoice (counts as activity)."""
    clients.record_payment(invoice_id, paid_on, method, actor=audit.cli_actor())
    return f"invoice {invoice_id} paid"


@clients_group.command("add-reminder")
@click.argument("invoice_id", type=int)
@click.option("--date", "sent_on", required=True, type=_date)
def clients_add_reminder(invoice_id, sent_on) -> str:
    """Count a payment reminder sent for an invoice."""
    invoice = clients.record_reminder(invoice_id, sent_on, actor=audit.cli_actor())
    return f"invoice {invoice_id}: {invoice.reminders_sent} reminder(s)"


# Not held back by a missing key: ending what has ended needs none (nothing is decrypted),
# and a period must not be overrun while the keys are being put right.
@gardien_command("purge", check_keys=False)
@click.option("--now", "at", type=_date, help="Act as if it were this time (RFC 3339).")
@click.option("--dry-run", is_flag=True, help="Count what would go; change nothing.")
@click.option("--chunk", default=retention.CHUNK, show_default=True, help="Rows per transaction.")
def purge_command(at: datetime | None, dry_run: bool, chunk: int) -> str:
    """Delete or anonymise what the retention policy says has ended."""
    moment = at or clock.now()
    with clock.frozen(moment):
        counts = retention.purge(moment, dry_run=dry_run, chunk=chunk)
    if counts is None:
        return "another purge is running; nothing done"
    verb = "would" if dry_run else "did"
    lines = [f"purge at {clock.format_rfc3339(moment)} ({verb}):"]
    lines += [f"  {rule:<16} {count}" for rule, count in counts.items()]
    return "\n".join(lines)


@click.command("backup")
@click.argument("outfile", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(outfile: Path) -> None:
    """Write an encrypted backup of the database (to GARDIEN_BACKUP_RECIPIENTS)."""
    try:
        manifest = backup.take(outfile)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backup of the {manifest['backend']} database at migration "
               f"{manifest['revision']} taken at {manifest['taken_at']}: {outfile}")


@click.command("restore")
@click.argument("infile", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--identity", "keyfile", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The age identity file whose public key the backup was made for.")
@click.option("--tombstones-from", "newer", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A newer backup whose erasures must be applied too (repeatable).")
@with_appcontext
def restore_command(infile: Path, keyfile: Path, newer: tuple[Path, ...]) -> None:
    """Replace the database with a backup, then re-apply later erasures and the purge.

    Stop the service (and its purge timer) first.
    """
    try:
        done = backup.restore(infile, keyfile, newer)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    lines = [f"restored the backup taken at {done.taken_at} (migration {done.revision}), "
             f"then migrated; {done.tombstones} erasure tombstone(s) brought in, which erased "
             "again:"]
    lines += [f"  {kind:<16} {count}" for kind, count in done.reapplied.items()]
    lines.append("then the purge at the current clock:")
    lines += [f"  {rule:<16} {count}" for rule, count in done.purged.items()]
    click.echo("\n".join(lines))


@click.group("legal-hold", cls=GardienGroup)
def legal_hold_group() -> None:
    """Bundles of held messages for the competent authorities."""


@legal_hold_group.command("export")
@click.argument("message_id")
@click.argument("outfile", type=click.Path(dir_okay=False, path_type=Path))
def legal_hold_export(message_id: str, outfile: Path) -> str:
    """Write a held message and its metadata to a ZIP with an Ed25519-signed manifest."""
    manifest = legal_hold.export_bundle(message_id, outfile, audit.cli_actor())
    return (f"wrote {outfile} ({len(manifest['sha256'])} files, manifest signed by key "
            f"{manifest['signed_with']['public_key_sha256']})")


@legal_hold_group.command("public-key")
def legal_hold_public_key() -> str:
    """Print the public key (PEM) that verifies the bundles, for the authorities."""
    return legal_hold.public_key_pem(audit.cli_actor()).rstrip("\n")


# Needs neither the app nor its configuration: the group is also a `flask.commands` entry
# point (pyproject.toml), so `flask` finds it without building the app.
@click.command("verify")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--public-key", "public_key_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The PEM printed by `legal-hold public-key`.")
def legal_hold_verify(bundle: Path, public_key_file: Path) -> None:
    """Check a bundle's signature and checksums with the public key alone."""
    try:
        public_key = verify_bundle.load_public_key(public_key_file.read_bytes())
        manifest = verify_bundle.verify(bundle, public_key)
    except verify_bundle.BundleError as error:
        raise click.ClickException(f"{bundle} does not verify: {error}") from None
    click.echo(verify_bundle.describe(bundle, manifest))


legal_hold_group.add_command(legal_hold_verify)


@click.group("keys", cls=GardienGroup, check_keys=False)
def keys_group() -> None:
    """Data and blind-index keys: what each protects, and rotations."""


@keys_group.command("status")
@click.option("--chunk", default=keys.CHUNK, show_default=True, help="Rows read at a time.")
def keys_status(chunk: int) -> str:
    """For each key (by fingerprint): the values it protects, and whether it can go."""
    return _key_status(keys.status(chunk))


@keys_group.command("rotate-data")
@click.option("--chunk", default=keys.CHUNK, show_default=True, help="Rows per transaction.")
def keys_rotate_data(chunk: int) -> str:
    """Re-encrypt every stored value under the first data key (resumable, safe live)."""
    return _rotation("values re-encrypted", keys.rotate_data(chunk, _progress()))


@keys_group.command("rotate-index")
@click.option("--chunk", default=keys.CHUNK, show_default=True, help="Rows per transaction.")
def keys_rotate_index(chunk: int) -> str:
    """Recompute every blind index under the first index key (resumable, safe live)."""
    return _rotation("blind indexes recomputed", keys.rotate_index(chunk, _progress()))


def _key_status(report: keys.Status) -> str:
    lines = []
    for state in report.keys:
        unit = "values" if state.kind == keys.DATA else "blind indexes"
        role = "first" if state.first else "configured" if state.configured else "NOT CONFIGURED"
        line = f"{state.kind:<5} {state.fingerprint}  {role:<14} {state.count} {unit}"
        if state.first:
            line += "; new values use it"
        elif state.removable:
            line += "; can be removed"
        for need in state.needs:
            line += f"; {keys.explain(need) if not state.configured else _needed(need)}"
        lines.append(line)
    if report.unreadable:
        lines.append(f"{report.unreadable} encrypted value(s) no configured data key opens")
    if report.unmatched:
        lines.append(f"{report.unmatched} blind index(es) no configured index key gives")
    return "\n".join(lines)


def _needed(need: keys.Need) -> str:
    if need.until is not None:
        return f"needed for {need.reason} until {clock.format_rfc3339(need.until)}"
    return f"needed for {need.reason} until `keys {keys.COMMAND[need.kind]}` has run"


def _rotation(what: str, result: keys.Rotation) -> str:
    tables = ", ".join(f"{name} {count}" for name, count in sorted(result.changed.items()))
    lines = [f"{sum(result.changed.values())} {what} ({tables or 'none needed'}) "
             f"in {result.passes} pass(es)"]
    if result.retired:
        lines.append("no stored value needs any more: " + " ".join(result.retired))
    return "\n".join(lines)


def _progress() -> keys.Progress:
    """A reporter of rows read per table, on standard error every 100,000 rows."""
    seen: Counter = Counter()

    def report(table: str, rows: int) -> None:
        before = seen[table]
        seen[table] += rows
        if seen[table] // 100_000 > before // 100_000:
            click.echo(f"{table}: {seen[table]} rows read", err=True)

    return report


@click.group("managers", cls=GardienGroup)
def managers_group() -> None:
    """The people who use the dashboard: add, list, disable, reset."""


def _link(kind: str, token: str) -> str:
    return f"{current_app.config['BASE_URL'].rstrip('/')}/{kind}/{token}"


@managers_group.command("add")
@click.argument("email")
def managers_add(email: str) -> str:
    """Add a manager and print their invitation link (one use, one hour)."""
    managers.add(email, audit.cli_actor())
    token = managers.link_token(email, managers.INVITE)
    return (f"manager added; send them this invitation link (one use, valid one hour):\n"
            f"{_link('reset', token)}")


@managers_group.command("list")
def managers_list() -> str:
    """List managers: number, state, second factor, last sign-in (addresses shown)."""
    lines = []
    for manager in managers.listing():
        state = ("disabled" if manager.disabled_at else
                 "invited" if manager.password_hash is None else "active")
        second = "2FA" if manager.totp_secret else "-"
        last = clock.format_rfc3339(manager.last_login_at) if manager.last_login_at else "never"
        lines.append(f"{manager.id}\t{manager.email}\t{state}\t{second}\t{last}")
    return "\n".join(lines) or "no manager yet: `make run` prints the setup link"


@managers_group.command("disable")
@click.argument("email")
def managers_disable(email: str) -> str:
    """Disable a manager: their sessions end at their next request."""
    managers.disable(email, audit.cli_actor())
    return "manager disabled; their sessions and links no longer work"


@managers_group.command("enable")
@click.argument("email")
def managers_enable(email: str) -> str:
    """Let a disabled manager in again."""
    managers.enable(email, audit.cli_actor())
    return "manager enabled"


@managers_group.command("reset")
@click.argument("email")
def managers_reset(email: str) -> str:
    """Print a password reset link for a manager (one use, one hour)."""
    token = managers.link_token(email, managers.RESET)
    return f"password reset link (one use, valid one hour):\n{_link('reset', token)}"


@managers_group.command("setup-link")
def managers_setup_link() -> str:
    """While no manager exists, print the link that sets up the first one."""
    token = managers.setup_token()
    if token is None:
        return ""
    return ("Open this link to set up the first manager of the dashboard (valid one hour; "
            f"`flask --app webhook_app managers setup-link` makes a new one):\n\n"
            f"    {_link('setup', token)}\n")


@click.group("incidents", cls=GardienGroup)
def incidents_group() -> None:
    """The breach register (GDPR article 33(5)): list, show, contain."""


@incidents_group.command("list")
def incidents_list() -> str:
    """Every incident, open ones first, with its deadline to notify the authority."""
    now = clock.now()
    lines = []
    for incident in incidents.listing():
        late = " LATE" if incidents.late(incident, now) else ""
        lines.append(f"{incident.id}\t{incident.status}\tdetected "
                     f"{clock.format_rfc3339(incident.detected_at)}\tdeadline "
                     f"{clock.format_rfc3339(incidents.deadline(incident))}{late}")
    return "\n".join(lines) or "no incident recorded"


@incidents_group.command("show")
@click.argument("incident_id")
def incidents_show(incident_id: str) -> str:
    """One incident's facts, checklist and history (the export's fields)."""
    incident = incidents.get(incident_id)
    values = incidents.as_dict(incident, clock.now())
    history = values.pop("history")
    lines = [f"{name}: {'' if value is None else value}" for name, value in values.items()]
    lines.append("history:")
    for event in history:  # type: ignore[attr-defined]
        lines.append(f"  {event['at']} {event['actor']} {event['action']} "
                     f"{', '.join(event['fields'])}")
    return "\n".join(lines)


@incidents_group.command("contain")
@click.argument("incident_id")
@click.option("--rotate", "rotate", multiple=True, metavar="SITE",
              help="Give this site a new secret (repeatable).")
@click.option("--grace-hours", default=0, type=int,
              help="Hours the rotated sites' old secrets keep signing.")
@click.option("--disable", "disable", multiple=True, metavar="SITE",
              help="Disable this site (repeatable).")
def incidents_contain(incident_id: str, rotate: tuple[str, ...], grace_hours: int,
                      disable: tuple[str, ...]) -> str:
    """Step 1: end every manager's session, void every password (printing a reset link
    for each), rotate and disable sites."""
    done = incidents.contain(incident_id, audit.cli_actor(), rotate=rotate,
                             grace_hours=grace_hours, disable=disable)
    lines = ["contained: every manager session ended, every password voided"]
    for slug, secret in done.secrets.items():
        lines.append(f"new secret of {slug} (shown once; the old ones sign {grace_hours} h "
                     f"more): {secret}")
    for slug in done.disabled:
        lines.append(f"site {slug} disabled")
    for manager, token in done.resets:
        link = _link("reset", token) if token else "(disabled: no link)"
        lines.append(f"reset link for {manager.email} (one use, one hour): {link}")
    return "\n".join(lines)
