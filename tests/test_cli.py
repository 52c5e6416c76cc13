"""The sites CLI, through Click as an operator types it."""

from __future__ import annotations

from webhook_app.sites import fingerprint


def run(runner, *args):
    result = runner.invoke(args=list(args))
    return result.exit_code, result.output


def test_sites_lifecycle(runner, secrets):
    code, output = run(runner, "sites", "add", "atelier")
    assert code == 0
    first = output.strip().splitlines()[-1]
    assert first.startswith("whsec_")

    code, output = run(runner, "sites", "rotate", "atelier")
    second = output.strip().splitlines()[-1]
    assert code == 0 and second.startswith("whsec_") and second != first

    code, listing = run(runner, "sites", "list")
    assert code == 0
    assert f"atelier\t{fingerprint(first)} {fingerprint(second)}" in listing
    assert f"default\t{fingerprint(secrets['WEBHOOK_SECRET'])}(config)" in listing
    assert first not in listing and second not in listing

    assert run(runner, "sites", "remove-secret", "atelier", fingerprint(first))[0] == 0
    code, output = run(runner, "sites", "remove-secret", "atelier", fingerprint(second))
    assert code != 0 and "at least one secret" in output


def test_add_with_given_secret_and_refusals(runner):
    secret = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
    code, output = run(runner, "sites", "add", "shop", "--secret", secret)
    assert code == 0 and secret in output
    assert run(runner, "sites", "add", "shop")[0] != 0
    assert run(runner, "sites", "add", "Not A Slug")[0] != 0
    assert run(runner, "sites", "add", "other", "--secret", "whsec_short")[0] != 0
    assert run(runner, "sites", "rotate", "nowhere")[0] != 0
