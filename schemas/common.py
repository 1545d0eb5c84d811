"""Building blocks shared by every schema: strict fields, pagination, problems."""

import re
from datetime import datetime

from marshmallow import Schema, ValidationError, fields, validate

UUID_RE = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
SHA256_RE = r"^[0-9a-f]{64}$"
UNIT_CODE_RE = r"^[0-9A-Za-z][0-9A-Za-z-]{0,39}$"


class StrictSchema(Schema):
    """Unknown fields are an error (marshmallow 4's default, spelled out)."""

    class Meta:
        unknown = "raise"


class AwareDateTime(fields.AwareDateTime):
    """An ISO 8601 datetime that must carry its offset."""

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)


def Uuid(**kwargs):
    """A UUID kept as its lowercase string."""
    return fields.String(validate=validate.Regexp(UUID_RE, error="Not a valid UUID."), **kwargs)


_SPACED_OFFSET = re.compile(r"(?<=\d) (\d{2}:?\d{2})$")


class DateOrDateTime(fields.Field):
    """Query `from`/`to`: YYYY-MM-DD (Asia/Shanghai day) or an aware datetime."""

    def _deserialize(self, value, attr, data, **kwargs):
        from datetime import date

        if not isinstance(value, str):
            raise ValidationError("Not a valid date.")
        # An offset written unencoded in a URL ("...T09:00:00+08:00") arrives with a space.
        value = _SPACED_OFFSET.sub(r"+\1", value)
        try:
            if len(value) == 10:
                return date.fromisoformat(value)
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError("Use YYYY-MM-DD or an ISO 8601 datetime with offset.") from None
        if dt.tzinfo is None:
            raise ValidationError("A datetime needs a timezone offset.")
        return dt

    def _jsonschema_type_mapping(self):
        return {"type": "string"}


class PageQuery(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))
    cursor = fields.String(load_default=None, validate=validate.Length(max=2000))


class PeriodQuery(PageQuery):
    from_ = DateOrDateTime(data_key="from", load_default=None)
    to = DateOrDateTime(load_default=None)


class ProblemDetailSchema(Schema):
    """RFC 9457 problem details as this API sends them."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    code = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    current = fields.Dict()


class PageSchema(Schema):
    next_cursor = fields.String(allow_none=True, required=True)
