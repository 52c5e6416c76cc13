"""Channel and referrer host of a visit, from the Snowplow referer-parser database.

The channel rule, first match wins:

1. ``internal``: the referrer's host is the site's own host.
2. The page URL's ``utm_medium``, when it names a channel: ``organic``, ``cpc``, ``ppc``,
   ``sem``... give ``search``; ``social``, ``paid-social``... give ``social``;
   ``referral``, ``email``, ``newsletter``, ``display``, ``affiliate``... give ``website``.
3. The page URL's ``utm_source``, then ``ref``, when the database knows it as a host
   (``google.fr``, ``t.co``) or a source name (``google``, ``facebook``).
4. The referrer's host in the database: a search engine gives ``search``, a social network
   ``social``, anything else it lists (webmail, ad server, news app) ``website``.
5. ``website``: any other referrer with a host.
6. ``direct``: no referrer (or one with no host, like ``about:blank``).

Campaign parameters outrank the referrer because they are the site owner's own statement
of where the link was placed. Only the referrer's host is kept: its path and query can
carry personal data (search words, e-mail addresses, session tokens).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

REFERRERS_FILE = Path(__file__).resolve().parent.parent / "data" / "referrers.json"

CHANNELS = ("search", "social", "website", "direct", "internal")
MAX_HOST = 253

# Which channel a medium of the database becomes; the others (email, unknown, paid,
# referral) are links from somewhere that is neither a search engine nor a social network.
MEDIUM_CHANNEL = {"search": "search", "social": "social"}
# When a host or name is listed under several media, the most specific channel wins.
CHANNEL_RANK = {"search": 0, "social": 1, "website": 2}

UTM_MEDIUM_CHANNEL = {
    **dict.fromkeys(
        ("organic", "cpc", "ppc", "sem", "seo", "search", "paidsearch", "paid-search",
         "paid_search"),
        "search",
    ),
    **dict.fromkeys(
        ("social", "social-media", "social_media", "social-network", "social_network",
         "sm", "paid-social", "paid_social", "paidsocial"),
        "social",
    ),
    **dict.fromkeys(
        ("referral", "email", "e-mail", "newsletter", "display", "banner", "cpm",
         "affiliate"),
        "website",
    ),
}  # fmt: skip


class ReferrerDatabase:
    """Known referrer hosts and source names with their channel, loaded once."""

    def __init__(self, entries: Mapping[str, Mapping[str, str]]) -> None:
        """Index ``{"www.google.fr": {"medium": "search", "source": "Google"}, ...}``."""
        self.hosts: dict[str, str] = {}
        self.sources: dict[str, str] = {}
        for listed, entry in entries.items():
            channel = MEDIUM_CHANNEL.get(entry["medium"], "website")
            # Entries with a path (google.fr/imgres) refine a host we only keep whole.
            if "/" not in listed:
                _keep_best(self.hosts, normalise_host(listed), channel)
            name = entry["source"].lower()
            _keep_best(self.sources, name, channel)
            _keep_best(self.sources, "".join(filter(str.isalnum, name)), channel)

    @classmethod
    def load(cls, path: Path = REFERRERS_FILE) -> ReferrerDatabase:
        """Read the vendored `referrers.json` (host → medium and source)."""
        with path.open(encoding="utf-8") as file:
            return cls(json.load(file))

    def host_channel(self, host: str) -> str | None:
        """Channel of a normalised host, trying its parent domains (l.facebook.com →
        facebook.com) down to two labels; ``None`` when not listed."""
        hosts = self.hosts
        while True:
            channel = hosts.get(host)
            if channel is not None:
                return channel
            dot = host.find(".")
            if dot < 0 or host.find(".", dot + 1) < 0:
                return None
            host = host[dot + 1 :]

    def source_channel(self, source: str) -> str | None:
        """Channel of a campaign source given as a host (``google.fr``) or a name."""
        value = source.strip().lower()
        if value in self.sources:
            return self.sources[value]
        host = normalise_host(value)
        return self.host_channel(host) if host else None

    def channel(
        self, referring_host: str | None, own: str | None, params: Mapping[str, str]
    ) -> str:
        """The channel of a visit from the referrer's host, the site's own host and the
        page URL's query parameters; see the module docstring for the rule."""
        if referring_host is not None and referring_host == own:
            return "internal"
        if params:
            medium = params.get("utm_medium")
            if medium and (channel := UTM_MEDIUM_CHANNEL.get(medium.strip().lower())):
                return channel
            for key in ("utm_source", "ref"):
                source = params.get(key)
                if source and (channel := self.source_channel(source)):
                    return channel
        if referring_host is None:
            return "direct"
        return self.host_channel(referring_host) or "website"


def _keep_best(index: dict[str, str], key: str | None, channel: str) -> None:
    if not key:
        return
    current = index.get(key)
    if current is None or CHANNEL_RANK[channel] < CHANNEL_RANK[current]:
        index[key] = channel


def normalise_host(host: str | None) -> str | None:
    """Lower-case, without trailing dot or a leading ``www.``; ``None`` when empty."""
    if not host:
        return None
    host = host.lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    return host or None


def referrer_host(referrer: str | None) -> str | None:
    """The normalised host of a referrer URL, never its path or query.

    ``None`` for an empty referrer and for one without a host (``about:blank``).
    """
    if not referrer or "//" not in referrer:
        return None
    host = _host_of(referrer.strip())
    # Longer than any DNS name: garbage, not worth a row in the referrer report.
    return host if host is None or len(host) <= MAX_HOST else None


@lru_cache(maxsize=1024)
def own_host(site: str | None) -> str | None:
    """Normalise the site's own host, given as ``example.fr``, ``example.fr:8080`` or a URL.

    Cached: a service serves a handful of sites, and a site's host is not personal data.
    """
    if not site:
        return None
    site = site.strip()
    return _host_of(site if "//" in site else "//" + site)


def _host_of(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        # Malformed brackets or the like: no host to keep.
        return None
    return normalise_host(host)
