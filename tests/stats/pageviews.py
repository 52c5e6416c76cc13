"""Page views as the WordPress plugin posts them, for the statistics tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from webhook_app import clock

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
# The day most statistics tests happen on, at noon UTC.
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def page_view(url: str = "https://example.fr/", *, at: datetime | None = None,
              ip: str | None = "90.0.0.1", user_agent: str | None = CHROME,
              referrer: str | None = None, **extra) -> dict:  # fmt: skip
    """One page view as the plugin posts it (``ts`` a second before ``at`` or now)."""
    moment = (at or clock.now()) - timedelta(seconds=1)
    event = {"ts": moment.strftime("%Y-%m-%dT%H:%M:%SZ"), "url": url, **extra}
    for key, value in (("ip", ip), ("user_agent", user_agent), ("referrer", referrer)):
        if value is not None:
            event[key] = value
    return event

