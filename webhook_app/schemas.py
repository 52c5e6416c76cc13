"""What crosses the wire (CONTRACT §3). The OpenAPI document in ``schemas/`` is made from these."""

from __future__ import annotations

import unicodedata
from datetime import UTC
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from .errors import ApiError

MAX_EXTRA_FIELDS = 20
SCHEMA = "_schema"
UNKNOWN_FIELD = "Unknown field."


class StrictSchema(Schema):
    """Unknown fields are an error, as the contract says, reported under ``_schema``.

    The name of an unknown field is never repeated back: whoever filled the form may have
    typed personal data into it (``Jeanne_Martin_0612345678``). So every key of this
    schema's errors is one it declares (a ``data_key``), ``_schema``, or an index of
    ``many``; nested schemas are strict too, so that holds at every depth.
    """

    class Meta:
        unknown = RAISE

    def handle_error(self, error: ValidationError, data: Any, *, many: bool, **kwargs):
        """Raise ``error`` again with unknown field names folded into ``_schema``."""
        declared = {field.data_key or name for name, field in self.load_fields.items()}
        messages = _declared_only(error.messages, declared, many)
        raise ValidationError(messages, data=data, valid_data=error.valid_data)


def _declared_only(messages: dict | list, declared: set[str], many: bool) -> dict | list:
    if not isinstance(messages, dict):
        return messages
    kept: dict = {}
    for name, problems in messages.items():
        if many and isinstance(name, int):
            kept[name] = _declared_only(problems, declared, False)
        elif name in declared or name == SCHEMA:
            kept[name] = problems
        elif UNKNOWN_FIELD not in kept.get(SCHEMA, []):
            kept[SCHEMA] = [*kept.get(SCHEMA, []), UNKNOWN_FIELD]
    return kept


class FormFields(fields.Dict):
    """Extra form fields as name → text. Their names are typed by a site owner, not
    declared here: a problem with one is reported under this field, without its name."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ValidationError as error:
            raise ValidationError(sorted(_sentences(error.messages))) from None


def _sentences(messages: dict | list | str) -> set[str]:
    if isinstance(messages, dict):
        return set().union(*map(_sentences, messages.values()))
    if isinstance(messages, list):
        return set().union(*map(_sentences, messages))
    return {str(messages)}


def not_blank(value: str) -> None:
    """Reject a string made of white space only."""
    if not value.strip():
        raise ValidationError("Must not be blank.")


class UtcDateTime(fields.AwareDateTime):
    """An RFC 3339 time with a zone, converted to UTC; out-of-range years are invalid."""

    def __init__(self, **kwargs) -> None:
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:
            raise ValidationError("Not a valid datetime.") from None
        if not 1970 <= moment.year <= 9998:
            raise ValidationError("Not a valid datetime.")
        return moment


class PlainText(fields.String):
    """Text stored unencrypted (a form name, …): no control characters, NUL included."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if any(unicodedata.category(char) == "Cc" for char in text):
            raise ValidationError("Must not contain control characters.")
        return text


class TrimmedEmail(fields.Email):
    """An e-mail address; white space around it (pasted from somewhere) is dropped first."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.strip()
        return super()._deserialize(value, attr, data, **kwargs)


class ContactSubmissionSchema(StrictSchema):
    """``POST /v1/contact`` request body."""

    form = PlainText(validate=validate.Length(max=100), allow_none=True)
    submitted_at = UtcDateTime(allow_none=True)
    name = fields.String(required=True, validate=[validate.Length(min=1, max=200), not_blank])
    email = TrimmedEmail(required=True, validate=validate.Length(max=254))
    company = fields.String(validate=validate.Length(max=200), allow_none=True)
    message = fields.String(
        required=True, validate=[validate.Length(min=1, max=20_000), not_blank]
    )
    ip = fields.IP(allow_none=True)
    page = fields.String(
        validate=[
            validate.Length(max=2048),
            validate.URL(require_tld=False, schemes={"http", "https"}),
        ],
        allow_none=True,
    )
    consent = fields.Boolean(allow_none=True)
    fields_ = FormFields(
        data_key="fields",
        attribute="fields",
        keys=fields.String(validate=validate.Length(min=1, max=100)),
        values=fields.String(validate=validate.Length(max=5_000)),
        allow_none=True,
    )

    @validates("fields_")
    def _few_extra_fields(self, value: dict, **_: object) -> None:
        if value is not None and len(value) > MAX_EXTRA_FIELDS:
            raise ValidationError(f"At most {MAX_EXTRA_FIELDS} extra fields.")


class ContactAcceptedSchema(Schema):
    """``201`` answer of ``POST /v1/contact``."""

    id = fields.UUID(required=True)
    received_at = fields.String(required=True, metadata={"format": "date-time"})
    expires_at = fields.String(required=True, metadata={"format": "date-time"})
    retention = fields.String(required=True)


class ErrorSchema(Schema):
    """Every error answer (CONTRACT §2)."""

    error = fields.String(required=True)
    message = fields.String(required=True)
    fields_ = fields.Dict(
        data_key="fields", keys=fields.String(), values=fields.List(fields.String())
    )


class HealthSchema(Schema):
    """``GET /healthz`` answer."""

    status = fields.String(required=True)


contact_submission = ContactSubmissionSchema()


def load(schema: StrictSchema, payload: object) -> dict:
    """Validate ``payload`` or raise a 422 :class:`ApiError` naming declared fields only."""
    if not isinstance(schema, StrictSchema):
        # Only a strict schema keeps unknown names out of its errors.
        raise TypeError("load() takes a StrictSchema")
    if not isinstance(payload, dict):
        raise ApiError(422, fields={SCHEMA: ["The body must be a JSON object."]})
    try:
        return schema.load(payload)
    except ValidationError as exc:
        raise ApiError(422, fields=flatten(exc.normalized_messages())) from None


def flatten(messages: dict | list, prefix: str = "") -> dict[str, list[str]]:
    """Turn a :class:`StrictSchema`'s nested messages into ``{"a.b": ["problem"]}``.

    Their keys are declared names, ``_schema`` and list indexes only (unknown names were
    folded into ``_schema`` where they were found), so a path never quotes input.
    """
    flat: dict[str, list[str]] = {}
    if isinstance(messages, list):
        flat.setdefault(prefix or SCHEMA, []).extend(str(m) for m in messages)
        return flat
    for key, value in messages.items():
        name = str(key)
        path = f"{prefix}.{name}" if prefix else name
        for field, problems in flatten(value, path).items():
            flat.setdefault(field, []).extend(problems)
    return flat


class PrivacyRequestSchema(StrictSchema):
    """``POST /v1/privacy/export`` and ``/erase`` request body."""

    email = TrimmedEmail(required=True, validate=validate.Length(max=254))
    page = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000))


class ExportPairSchema(Schema):
    name = fields.String(required=True)
    value = fields.String(required=True)


class ExportItemSchema(Schema):
    group_id = fields.String(required=True)
    group_label = fields.String(required=True)
    group_description = fields.String(required=True)
    item_id = fields.String(required=True)
    data = fields.List(fields.Nested(ExportPairSchema), required=True)


class ExportPageSchema(Schema):
    """``200`` answer of export: a WordPress exporter callback result."""

    data = fields.List(fields.Nested(ExportItemSchema), required=True)
    done = fields.Boolean(required=True)


class ErasePageSchema(Schema):
    """``200`` answer of erase: a WordPress eraser callback result."""

    items_removed = fields.Boolean(required=True)
    items_retained = fields.Boolean(required=True)
    messages = fields.List(fields.String(), required=True)
    done = fields.Boolean(required=True)


class PolicyQuerySchema(StrictSchema):
    """``GET /v1/policy`` query string."""

    lang = fields.String(validate=validate.OneOf(["fr", "en"]))


class RecipientSchema(Schema):
    name = fields.String(required=True)
    country = fields.String(required=True, metadata={"description": "ISO 3166-1 alpha-2"})


class PolicyCategorySchema(Schema):
    key = fields.String(required=True)
    label = fields.String(required=True)
    data = fields.List(fields.String(), required=True)
    purpose = fields.String(required=True)
    legal_basis = fields.String(required=True)
    period = fields.String(required=True, metadata={"description": "ISO 8601 duration"})
    period_label = fields.String(required=True)
    starts = fields.String(required=True)
    at_end = fields.String(required=True, validate=validate.OneOf(["delete", "anonymise"]))
    recipients = fields.List(fields.Nested(RecipientSchema), required=True)


class PolicySchema(Schema):
    """``200`` answer of ``GET /v1/policy``."""

    language = fields.String(required=True)
    categories = fields.List(fields.Nested(PolicyCategorySchema), required=True)
    html = fields.String(required=True)


class StatusSchema(Schema):
    """``200`` answer of ``GET /v1/status``."""

    version = fields.String(required=True)
    site = fields.String(required=True)
    messages = fields.Integer(required=True)
    legal_holds = fields.Integer(required=True)
    clients = fields.Integer(required=True)
    stats_events = fields.Integer(required=True)
    last_purge_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    next_purge_at = fields.String(required=True, metadata={"format": "date-time"})


privacy_request = PrivacyRequestSchema()
policy_query = PolicyQuerySchema()
