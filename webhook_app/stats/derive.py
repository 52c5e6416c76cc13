"""From a raw page view to a :class:`Visit`, after which the IP and user agent are forgotten.

A :class:`Deriver` holds the data sets (crawler patterns, referrer database, geolocation)
and the redaction settings, loaded once per process; :func:`get_deriver` gives the shared
one of a setting. Nothing here logs, stores or puts the IP or user agent in an exception
message: a page URL that cannot be parsed raises a ``ValueError`` that names no value. The
path and search terms come out with e-mail addresses, phone numbers and long numbers
replaced (:mod:`.redact`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import SplitResult, urlsplit

from .channels import ReferrerDatabase, normalise_host, own_host, referrer_host
from .crawlers import CrawlerList
from .geo import Attribution, CountryLocator, parse_address
from .pages import page_of, query_parameters
from .redact import DEFAULT_DIGIT_RUN, DEFAULT_REGION, Redactor
from .visitor import visitor_hash


@dataclass(frozen=True, slots=True)
class Visit:
    """A page view as stored: nothing in it is the IP or the user agent.

    ``visitor_hash`` is a 64-character hex string. ``referrer_host`` is ``None`` for
    ``direct`` and ``internal`` visits (the site's own host says nothing in a referrer
    report).
    """

    path: str
    search_terms: str | None
    country: str | None
    channel: str
    referrer_host: str | None
    visitor_hash: str


class Deriver:
    """The data sets a derivation needs, loaded once and read-only afterwards."""

    def __init__(
        self,
        geoip_db: str | None = None,
        *,
        crawlers: CrawlerList | None = None,
        referrers: ReferrerDatabase | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        """Load the vendored data sets; ``geoip_db`` is the ``.mmdb`` path of
        ``GARDIEN_GEOIP_DB``, if set (otherwise `iptocc` locates countries). ``redactor``
        defaults to phone numbers of France and runs of nine digits."""
        self.crawlers = crawlers or CrawlerList.load()
        self.referrers = referrers or ReferrerDatabase.load()
        self.locator = CountryLocator(geoip_db)
        self.redactor = redactor or Redactor()

    @property
    def geo_attribution(self) -> Attribution | None:
        """The credit the geolocation database asks for, to show where countries are."""
        return self.locator.attribution

    def derive(
        self,
        url: str,
        ip: str | None,
        user_agent: str | None,
        referrer: str | None,
        site_host: str | None,
        salt: bytes,
        site: str,
    ) -> Visit | None:
        """Derive the visit of one page view; ``None`` when the user agent is a crawler.

        ``site_host`` is the site's own host (for ``internal``); when ``None``, the host
        of ``url`` stands in. ``salt`` is the current day's salt, ``site`` the site's id.
        """
        if self.crawlers.is_crawler(user_agent):
            return None
        page = _split(url)
        if page is None:
            # Raised outside the handler so that no chained exception holds the URL.
            raise ValueError("the page URL cannot be parsed")
        parameters = query_parameters(page.query)
        path, terms = page_of(page.path, parameters, self.redactor.redact)
        address = parse_address(ip) if ip else None
        referring = referrer_host(referrer)
        own = own_host(site_host) if site_host else normalise_host(page.hostname)
        channel = self.referrers.channel(referring, own, parameters)
        return Visit(
            path=path,
            search_terms=terms,
            country=self.locator.country(address),
            channel=channel,
            referrer_host=None if channel == "internal" else referring,
            # The canonical form, so ::ffff:192.0.2.1 and 192.0.2.1 are one visitor.
            visitor_hash=visitor_hash(salt, site, address.text if address else ip, user_agent),
        )


def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:
        return None


def get_deriver(
    geoip_db: str | None = None,
    phone_region: str = DEFAULT_REGION,
    digit_run: int = DEFAULT_DIGIT_RUN,
) -> Deriver:
    """The process-wide :class:`Deriver` for a geolocation and redaction setting (built
    on first use).

    An empty ``GARDIEN_GEOIP_DB`` means no file, like an unset one.
    """
    return _shared_deriver(geoip_db or None, phone_region, digit_run)


@lru_cache(maxsize=4)
def _shared_deriver(geoip_db: str | None, phone_region: str, digit_run: int) -> Deriver:
    return Deriver(geoip_db, redactor=Redactor(phone_region, digit_run))
