"""Fixtures for the statistics derivation: the data sets, loaded once for the session."""

from __future__ import annotations

import pytest

from webhook_app.stats.derive import Deriver, get_deriver


@pytest.fixture(scope="session")
def deriver() -> Deriver:
    """The shared deriver, the one :func:`derive` uses without a geolocation file."""
    return get_deriver()
