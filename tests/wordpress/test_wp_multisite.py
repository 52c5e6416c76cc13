"""Gardien on a multisite network: network activation, new and deleted sites, network
deactivation and uninstall act on every site, and each site signs as its own Gardien site."""

from __future__ import annotations

import hashlib
import sqlite3
import time
import uuid
from collections.abc import Iterator

import pytest
from wp_stack import PHP_DIR, PrivateWordPress, ensure_running

TABLES = ["gardien_outbox", "gardien_visits"]
# The site slug of the network (GARDIEN_SITE): the main site signs as it, site 2 as reseau-2.
NETWORK_SLUG = "reseau"


def register(gardien, slug: str) -> str:
    """Add ``slug`` to the service; its new secret."""
    return gardien.flask("sites", "add", slug).stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def network(mariadb, gardien, tmp_path_factory) -> Iterator[PrivateWordPress]:
    """A subdirectory network (main site and /site2/) in its own database, Gardien installed
    but not active; the service knows both sites, each with its own secret."""
    ensure_running(gardien)
    registered = time.monotonic()
    secrets = {1: register(gardien, NETWORK_SLUG), 2: register(gardien, f"{NETWORK_SLUG}-2")}
    config = (
        f"define('GARDIEN_SITE', '{NETWORK_SLUG}');\n"
        "define('GARDIEN_WEBHOOK_SECRETS', ["
        + ", ".join(f"{blog} => '{secret}'" for blog, secret in secrets.items())
        + "]);"
    )
    wp = PrivateWordPress(
        tmp_path_factory.mktemp("network"), mariadb, gardien.url, gardien.webhook_secret,
        multisite=True, extra_config=config, database_name="wordpress_network",
    )
    wp.provision()
    # The service's workers read their sites again after SITE_CACHE_SECONDS (10).
    time.sleep(max(0.0, 11 - (time.monotonic() - registered)))
    yield wp


def tables_of(state: dict, blog: int) -> list[str]:
    prefix = "wp_" if blog == 1 else f"wp_{blog}_"
    return sorted(table.removeprefix(prefix) for table in state["sites"][str(blog)]["tables"])


def test_network_activation_installs_every_site_and_new_sites_deleted_sites_lose_tables(network):
    network.network("activate", {"network": True})
    state = network.network("state")
    assert set(state["sites"]) == {"1", "2"}
    for blog in (1, 2):
        assert tables_of(state, blog) == TABLES
        assert "gardien_outbox_delivery" in state["sites"][str(blog)]["cron"]
        assert "gardien_db_version" in state["sites"][str(blog)]["options"]

    created = network.network("create-site", {"slug": f"new{uuid.uuid4().hex[:6]}"})["id"]
    state = network.network("state")
    assert tables_of(state, created) == TABLES
    assert "gardien_outbox_delivery" in state["sites"][str(created)]["cron"]

    network.network("delete-site", {"id": created})
    state = network.network("state")
    assert str(created) not in state["sites"]
    assert not [table for table in state["tables"] if table.startswith(f"wp_{created}_")]
    # The other sites keep theirs.
    assert tables_of(state, 1) == TABLES and tables_of(state, 2) == TABLES


def test_network_deactivation_clears_cron_on_every_site(network):
    network.network("activate", {"network": True})
    # Site 2 used, so its init has run: its delivery event is scheduled.
    network.network("state", path="/site2/")
    assert network.network("state")["sites"]["2"]["cron"]

    network.network("deactivate", {"network": True})
    state = network.network("state")
    assert {"1", "2"} <= set(state["sites"])
    assert {blog: site["cron"] for blog, site in state["sites"].items()} == {
        blog: [] for blog in state["sites"]}
    network.network("activate", {"network": True})


def cf7(tag: str, email: str) -> dict:
    return {
        "posted": {
            "your-name": "Paul Durand",
            "your-email": email,
            "your-message": f"Pouvez-vous passer mardi ? {tag}",
            "_wpcf7_container_post": "0",
        },
        "tags": {"your-name": "text", "your-email": "email", "your-message": "textarea"},
    }


def messages_per_site(gardien) -> dict[str, int]:
    """How many contact messages the service holds for each site of the network."""
    with sqlite3.connect(gardien.database_path) as db:
        return dict(db.execute(
            "SELECT sites.slug, COUNT(*) FROM contact_messages"
            " JOIN sites ON sites.id = contact_messages.site_id"
            " WHERE sites.slug LIKE ? GROUP BY sites.slug", (f"{NETWORK_SLUG}%",),
        ).fetchall())


def test_each_site_signs_as_its_own_gardien_site(network, gardien):
    network.network("activate", {"network": True})
    main = network.network("signing")
    second = network.network("signing", path="/site2/")
    assert (main["blog_id"], main["site"], main["configured"]) == (1, NETWORK_SLUG, True)
    assert (second["blog_id"], second["site"], second["configured"]) == (
        2, f"{NETWORK_SLUG}-2", True)
    assert main["secret_fingerprint"] != second["secret_fingerprint"]
    # The filters have the last word.
    filtered = network.network("signing", {"filtered": "boutique"}, path="/site2/")
    assert filtered["site"] == "boutique-2"
    assert filtered["secret_fingerprint"] == hashlib.sha256(b"whsec_filtered").hexdigest()[:12]

    # One person writes on both sites; each message reaches the service under its own site.
    ensure_running(gardien)
    before = messages_per_site(gardien)
    email = f"paul.{uuid.uuid4().hex[:10]}@example.fr"
    tags = {path: uuid.uuid4().hex[:10] for path in ("/", "/site2/")}
    for path, tag in tags.items():
        network.cli("cf7", cf7(tag, email), GARDIEN_TEST_PATH=path)
        network.php(PHP_DIR / "cron.php", env=network.env(GARDIEN_TEST_PATH=path))
        assert network.cli("outbox", GARDIEN_TEST_PATH=path)["rows"] == []
    after = messages_per_site(gardien)
    for slug in (NETWORK_SLUG, f"{NETWORK_SLUG}-2"):
        assert after.get(slug, 0) == before.get(slug, 0) + 1

    # Site 2's export for the address holds its own message only, not the main site's.
    export = network.network("export", {"email": email}, path="/site2/")
    exported = repr(export["data"])
    assert tags["/site2/"] in exported
    assert tags["/"] not in exported
    main_export = repr(network.network("export", {"email": email})["data"])
    assert tags["/"] in main_export and tags["/site2/"] not in main_export


def test_network_uninstall_removes_everything_from_every_site(network):
    env = {"GARDIEN_TEST_DB": "wordpress_network_uninstall"}
    network.database.sql("CREATE DATABASE wordpress_network_uninstall CHARACTER SET utf8mb4")
    network.install_network("wordpress_network_uninstall")
    network.network("activate", {"network": True}, **env)
    for path in ("/", "/site2/"):
        network.network("traces", path=path, **env)
    before = network.network("state", **env)
    for blog in ("1", "2"):
        assert len(before["sites"][blog]["tables"]) == 2
        assert {"gardien_db_version", "gardien_last_error",
                "_transient_gardien_policy_retry_fr"} <= set(before["sites"][blog]["options"])
        assert before["sites"][blog]["cron"]

    network.network("uninstall", **env)
    after = network.network("state", **env)
    assert after["tables"] == [] and after["network_options"] == []
    assert after["sites"] == {
        blog: {"tables": [], "options": [], "cron": []} for blog in ("1", "2")
    }
