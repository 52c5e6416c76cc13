"""What crosses the wire for statistics (CONTRACT §3, ``/v1/stats/...``).

Each page view of a batch is loaded on its own with :data:`page_view`, so a bad one
becomes a rejection of its index while the rest are kept; only the envelope
(:data:`event_batch`) can fail the whole request. No error message quotes a value: the
IP address, user agent and URLs are never repeated back.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from marshmallow import ValidationError, fields, validate, validates_schema

from webhook_app.schemas import PlainText, StrictSchema, UtcDateTime

from .channels import CHANNELS
from .geo import parse_address
from .summary import range_problems

MAX_EVENTS = 500
MAX_URL = 4096
MAX_REFERRER = 2048
MAX_USER_AGENT = 1000
PAGE_SCHEMES = ("http", "https")
FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class IPAddress(fields.String):
    """An IPv4 or IPv6 address, kept as sent; an empty string counts as absent."""

    default_error_messages = {"invalid_ip": "Not a valid IP address."}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if text == "":
            return None
        if parse_address(text) is None:
            raise self.make_error("invalid_ip")
        return text


class PageUrl(PlainText):
    """An absolute ``http(s)`` URL of a page of the site.

    Checked with ``urlsplit`` (what the derivation reads) rather than marshmallow's URL
    pattern: a page address with unescaped accents is still a page view worth counting.
    """

    default_error_messages = {"invalid_url": "Not a valid http(s) URL."}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not _is_page_url(text):
            raise self.make_error("invalid_url")
        return text


def _is_page_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme.lower() in PAGE_SCHEMES and bool(parts.hostname)


class PageViewSchema(StrictSchema):
    """One page view of ``POST /v1/stats/events``."""

    ts = UtcDateTime(required=True, metadata={"description": "RFC 3339, with a zone."})
    url = PageUrl(
        required=True,
        validate=validate.Length(max=MAX_URL),
        metadata={"format": "uri", "description": "Absolute http(s) URL of the page."},
    )
    ip = IPAddress(
        allow_none=True,
        metadata={"description": "IPv4 or IPv6; used for the country, then forgotten."},
    )
    user_agent = fields.String(
        allow_none=True,
        validate=validate.Length(max=MAX_USER_AGENT),
        metadata={"description": "Used for crawler detection, then forgotten."},
    )
    referrer = PlainText(allow_none=True, validate=validate.Length(max=MAX_REFERRER))


class PageViewList(fields.List):
    """The ``events`` array: only its shape is checked here; each page view is loaded
    apart, so that one bad page view never refuses the batch."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise self.make_error("invalid")
        return value


class EventBatchSchema(StrictSchema):
    """``POST /v1/stats/events`` request body (limit 1 MiB)."""

    events = PageViewList(
        fields.Nested(PageViewSchema),
        required=True,
        validate=validate.Length(max=MAX_EVENTS, error="At most {max} events."),
    )


class RejectionSchema(StrictSchema):
    """A page view that was not kept: its index in ``events`` and what was wrong."""

    index = fields.Integer(required=True)
    fields_ = fields.Dict(
        data_key="fields",
        attribute="fields",
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
    )


class EventsAcceptedSchema(StrictSchema):
    """``202`` answer of ``POST /v1/stats/events``: accepted + bots + rejected = events."""

    accepted = fields.Integer(required=True, metadata={"description": "Visits stored."})
    bots = fields.Integer(required=True, metadata={"description": "Crawlers, not stored."})
    rejected = fields.List(fields.Nested(RejectionSchema), required=True)


class CalendarDate(fields.Date):
    """A date written ``YYYY-MM-DD`` exactly (RFC 3339 ``full-date``), nothing looser."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not (isinstance(value, str) and FULL_DATE.fullmatch(value)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class SummaryQuerySchema(StrictSchema):
    """``GET /v1/stats/summary`` query string: inclusive UTC dates."""

    from_ = CalendarDate(data_key="from", attribute="from", required=True)
    to = CalendarDate(required=True)

    @validates_schema
    def _sensible_range(self, data: dict, **_: object) -> None:
        problems = range_problems(data["from"], data["to"])
        if problems:
            raise ValidationError(problems)


class DayVisitsSchema(StrictSchema):
    """Visits and distinct visitors of one day."""

    date = fields.Date(required=True)
    visits = fields.Integer(required=True)
    visitors = fields.Integer(required=True)


class PageVisitsSchema(StrictSchema):
    """Visits of one page (its path, without query string)."""

    path = fields.String(required=True)
    visits = fields.Integer(required=True)


class CountryVisitsSchema(StrictSchema):
    """Visits from one country."""

    country = fields.String(
        required=True, allow_none=True,
        metadata={"description": "ISO 3166-1 alpha-2; null when unknown."},
    )
    visits = fields.Integer(required=True)


class ChannelVisitsSchema(StrictSchema):
    """Visits by one of the five channels."""

    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    visits = fields.Integer(required=True)


class ReferrerVisitsSchema(StrictSchema):
    """Visits from one referrer host."""

    host = fields.String(required=True)
    visits = fields.Integer(required=True)


class SearchVisitsSchema(StrictSchema):
    """Visits of the site's own search results for some terms."""

    terms = fields.String(required=True)
    visits = fields.Integer(required=True)


class SummarySchema(StrictSchema):
    """``200`` answer of ``GET /v1/stats/summary``; lists by visits, at most 100 each."""

    from_ = fields.Date(data_key="from", attribute="from", required=True)
    to = fields.Date(required=True)
    visits = fields.Integer(required=True, metadata={"description": "Page views."})
    visitors = fields.Integer(
        required=True, metadata={"description": "Sum over the days of distinct visitors."}
    )
    days = fields.List(fields.Nested(DayVisitsSchema), required=True)
    pages = fields.List(fields.Nested(PageVisitsSchema), required=True)
    countries = fields.List(fields.Nested(CountryVisitsSchema), required=True)
    channels = fields.List(fields.Nested(ChannelVisitsSchema), required=True)
    referrers = fields.List(fields.Nested(ReferrerVisitsSchema), required=True)
    searches = fields.List(fields.Nested(SearchVisitsSchema), required=True)


page_view = PageViewSchema()
event_batch = EventBatchSchema()
summary_query = SummaryQuerySchema()
