"""Fixtures for statistics: the derivation data sets (loaded once), page views to post."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from webhook_app.stats.derive import Deriver, get_deriver


@pytest.fixture(scope="session")
def deriver() -> Deriver:
    """The shared deriver, the one :func:`derive` uses without a geolocation file."""
    return get_deriver()


@pytest.fixture
def post_events(send) -> Callable:
    """Post a batch of page views (signed, as site ``default``); return the response."""

    def post(events: list, **options):
        return send("/v1/stats/events", {"events": events}, **options)

    return post
