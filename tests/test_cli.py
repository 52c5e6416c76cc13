"""The sites CLI, through Click as an operator types it."""

from __future__ import annotations

from webhook_app import messages
from webhook_app.extensions import db
from webhook_app.models import Site
from webhook_app.sites import SHOWN_FINGERPRINT, fingerprint

SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="


def run(runner, *args, input=None):
    result = runner.invoke(args=list(args), input=input)
    return result.exit_code, result.output


def shown(app, secret: str) -> str:
    with app.app_context():
        return fingerprint(secret)[:SHOWN_FINGERPRINT]


def test_sites_lifecycle(app, runner, secrets):
    code, output = run(runner, "sites", "add", "atelier")
    assert code == 0
    first = output.strip().splitlines()[-1]
    assert first.startswith("whsec_")

    code, output = run(runner, "sites", "rotate", "atelier")
    second = output.strip().splitlines()[-1]
    assert code == 0 and second.startswith("whsec_") and second != first

    code, listing = run(runner, "sites", "list")
    assert code == 0
    assert f"atelier\tenabled\t{shown(app, first)} {shown(app, second)}" in listing
    assert f"default\tenabled\t{shown(app, secrets['WEBHOOK_SECRET'])}(config)" in listing
    assert first not in listing and second not in listing

    assert run(runner, "sites", "remove-secret", "atelier", shown(app, first))[0] == 0
    code, output = run(runner, "sites", "remove-secret", "atelier", shown(app, second))
    assert code != 0 and "at least one secret" in output

    code, output = run(runner, "sites", "disable", "atelier")
    assert code == 0 and "disabled" in output
    assert f"atelier\tdisabled\t{shown(app, second)}" in run(runner, "sites", "list")[1]
    code, output = run(runner, "sites", "disable", "atelier")
    assert code != 0 and "disabled already" in output
    assert run(runner, "sites", "enable", "atelier")[0] == 0
    assert "atelier\tenabled" in run(runner, "sites", "list")[1]
    assert run(runner, "sites", "enable", "atelier")[0] != 0


def test_add_with_given_secret_and_refusals(runner):
    code, output = run(runner, "sites", "add", "shop", "--secret", SECRET)
    assert code == 0 and SECRET in output
    assert run(runner, "sites", "add", "shop")[0] != 0
    assert run(runner, "sites", "add", "Not A Slug")[0] != 0
    assert run(runner, "sites", "add", "other", "--secret", "whsec_short")[0] != 0
    assert run(runner, "sites", "rotate", "nowhere")[0] != 0
    assert run(runner, "sites", "disable", "nowhere")[0] != 0


def test_a_secret_already_in_use_is_refused_without_being_named(runner, secrets):
    """Reproduced: `sites add sitec --secret <default's>` was accepted."""
    configured = secrets["WEBHOOK_SECRET"]
    for args in (("add", "sitec", "--secret", configured),
                 ("rotate", "default", "--secret", configured)):
        code, output = run(runner, "sites", *args)
        assert code != 0 and "already signs for a site" in output
        assert configured not in output
    assert run(runner, "sites", "add", "shop", "--secret", SECRET)[0] == 0
    for args in (("add", "other", "--secret", SECRET), ("rotate", "shop", "--secret", SECRET),
                 ("rotate", "default", "--secret", SECRET)):
        code, output = run(runner, "sites", *args)
        assert code != 0 and "already signs for a site" in output and SECRET not in output
    assert "sitec" not in run(runner, "sites", "list")[1]


def test_remove_asks_first_and_refuses_default(app, runner, store_message):
    run(runner, "sites", "add", "shop")
    with app.app_context():
        shop = db.session.scalar(db.select(Site.id).where(Site.slug == "shop"))
        held = store_message(site_id=shop)
        messages.hold(held, "menaces", "cli:test")
        db.session.commit()
    code, output = run(runner, "sites", "remove", "shop", input="n\n")
    assert code != 0 and "Delete site shop" in output
    assert "  messages           1\n" in output and "  secrets            1\n" in output
    assert "1 message(s) under legal hold" in output
    assert "shop\tenabled" in run(runner, "sites", "list")[1]

    code, output = run(runner, "sites", "remove", "shop", input="y\n")
    assert code == 0 and output.strip().endswith("site shop removed: 0 quotes, 0 invoices, "
                                                  "1 messages, 0 clients, 0 privacy_requests, "
                                                  "0 stats_events, 0 stats_rollups, "
                                                  "0 stats_day_visitors, 0 stats_days, "
                                                  "0 idempotency_keys, 1 secrets, "
                                                  "0 erasure_tombstones")
    with app.app_context():
        assert db.session.scalar(db.select(Site).where(Site.slug == "shop")) is None

    run(runner, "sites", "add", "scripted")
    code, output = run(runner, "sites", "remove", "scripted", "--yes")
    assert code == 0 and "site scripted removed" in output

    for confirm in ((), ("--yes",)):
        code, output = run(runner, "sites", "remove", "default", *confirm)
        assert code != 0 and "sites disable default" in output
    assert run(runner, "sites", "remove", "nowhere", "--yes")[0] != 0
