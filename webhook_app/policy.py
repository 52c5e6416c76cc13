"""The retention policy, read from ``policy.toml``.

This module is the only place that turns a category into a period or an expiry date.
The file path can be replaced with ``GARDIEN_POLICY_FILE`` (``POLICY_FILE`` in config).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, cached_property
from pathlib import Path

import isodate

DEFAULT_POLICY_FILE = Path(__file__).with_name("policy.toml")
LANGUAGES = ("fr", "en")
AT_END = ("delete", "anonymise")

# The categories the code applies: keys of ``policy.toml``, named once here.
CONTACT = "contact"
LEGAL_HOLD = "legal_hold"
CLIENT = "client"
INVOICE = "invoice"
STATS_EVENT = "stats_event"
STATS_ROLLUP = "stats_rollup"
IDEMPOTENCY_KEY = "idempotency_key"
AUDIT = "audit"
PRIVACY_REQUEST = "privacy_request"
ERASURE_TOMBSTONE = "erasure_tombstone"
REQUIRED = (
    CONTACT, LEGAL_HOLD, CLIENT, INVOICE, STATS_EVENT, STATS_ROLLUP, IDEMPOTENCY_KEY, AUDIT,
    PRIVACY_REQUEST, ERASURE_TOMBSTONE,
)


class PolicyError(ValueError):
    """The policy file is missing a category or holds an invalid value."""


@dataclass(frozen=True)
class Category:
    """One retention rule: how long a kind of record lives and what happens then."""

    key: str
    period: str
    starts: str
    at_end: str
    published: bool
    label: dict[str, str]
    data: dict[str, list[str]]
    purpose: dict[str, str]
    legal_basis: dict[str, str]
    recipients: tuple[dict[str, str], ...]

    @cached_property
    def duration(self) -> timedelta | isodate.Duration:
        """The period as something that can be added to a datetime (months and years too)."""
        return isodate.parse_duration(self.period)

    def expires(self, start: datetime) -> datetime:
        """The moment a record whose period started at ``start`` must be gone."""
        return start + self.duration

    def cutoff(self, now: datetime) -> datetime:
        """Records whose period started before this moment have ended at ``now``."""
        return now - self.duration


@dataclass(frozen=True)
class Policy:
    """All categories of the policy file, plus its default language."""

    language: str
    categories: dict[str, Category]

    def __getitem__(self, key: str) -> Category:
        try:
            return self.categories[key]
        except KeyError:
            raise PolicyError(f"the policy has no category {key!r}") from None


def current() -> Policy:
    """The policy file of the running app (``POLICY_FILE``)."""
    from flask import current_app

    return load(current_app.config["POLICY_FILE"])


@cache
def load(path: str | Path = DEFAULT_POLICY_FILE) -> Policy:
    """Read and check a policy file (cached per path)."""
    with open(path, "rb") as handle:
        raw = tomllib.load(handle)
    language = raw.get("language", "fr")
    if language not in LANGUAGES:
        raise PolicyError(f"language must be one of {LANGUAGES}")
    categories = {key: _category(key, entry) for key, entry in raw["categories"].items()}
    missing = [key for key in REQUIRED if key not in categories]
    if missing:
        raise PolicyError(f"the policy lacks the categories {', '.join(missing)}")
    return Policy(language=language, categories=categories)


def _category(key: str, entry: dict) -> Category:
    try:
        isodate.parse_duration(entry["period"])
    except (KeyError, isodate.ISO8601Error) as exc:
        raise PolicyError(f"category {key!r}: period must be an ISO 8601 duration") from exc
    if entry.get("at_end") not in AT_END:
        raise PolicyError(f"category {key!r}: at_end must be one of {AT_END}")
    for field in ("label", "data", "purpose", "legal_basis"):
        missing = [lang for lang in LANGUAGES if lang not in entry.get(field, {})]
        if missing:
            raise PolicyError(f"category {key!r}: {field} lacks {', '.join(missing)}")
    return Category(
        key=key,
        period=entry["period"],
        starts=entry["starts"],
        at_end=entry["at_end"],
        published=bool(entry.get("published", True)),
        label=dict(entry["label"]),
        data={lang: list(items) for lang, items in entry["data"].items()},
        purpose=dict(entry["purpose"]),
        legal_basis=dict(entry["legal_basis"]),
        recipients=tuple(dict(r) for r in entry.get("recipients", ())),
    )
