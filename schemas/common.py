"""Building blocks shared by every schema: strict fields, pagination, problems."""

import re
from datetime import MAXYEAR, MINYEAR, UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

UUID_RE = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
SHA256_RE = r"^[0-9a-f]{64}$"
UNIT_CODE_RE = r"^[0-9A-Za-z][0-9A-Za-z-]{0,39}$"


class Regexp(validate.Regexp):
    """validate.Regexp over the whole value: with re.match, '$' lets a trailing newline
    through ("<uuid>\\n" would pass). Documented in OpenAPI like validate.Regexp."""

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


# Control characters (Unicode Cc) other than tab, line feed and carriage return.
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _holds_control_character(value):
    if isinstance(value, str):
        return CONTROL_CHARACTER.search(value) is not None
    if isinstance(value, list):
        return any(isinstance(v, str) and CONTROL_CHARACTER.search(v) for v in value)
    return False


class StrictSchema(Schema):
    """The base of every request body schema: unknown fields are an error (marshmallow 4's
    default, spelled out), and no text field holds a control character other than tab, line
    feed and carriage return (Appendix B). Emoji and every CJK character are text."""

    class Meta:
        unknown = "raise"

    @pre_load
    def _refuse_control_characters(self, data, **kwargs):
        if isinstance(data, dict):
            errors = {
                key: [
                    "Control characters other than tab, line feed and carriage "
                    "return are not allowed."
                ]
                for key, value in data.items()
                if _holds_control_character(value)
            }
            if errors:
                raise ValidationError(errors)
        return data


class AwareDateTime(fields.AwareDateTime):
    """An ISO 8601 datetime that must carry its offset."""

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        dt = super()._deserialize(value, attr, data, **kwargs)
        _check_in_range(dt)  # year 1 / 9999 with an offset cannot be stored as UTC
        return dt


def Uuid(**kwargs):
    """A UUID kept as its lowercase string."""
    return fields.String(validate=Regexp(UUID_RE, error="Not a valid UUID."), **kwargs)


_SPACED_OFFSET = re.compile(r"(?<=\d) (\d{2}:?\d{2})$")


_SHANGHAI = ZoneInfo("Asia/Shanghai")


def _check_in_range(dt):
    """A datetime must convert to UTC, and so must its day and the day after (a period bound
    of year 1 or 9999 would overflow there). A UTC offset is less than a day, so only a
    datetime of year 1 or 9999 can fail (the common case costs no arithmetic)."""
    if MINYEAR < dt.year < MAXYEAR:
        return
    try:
        (dt - timedelta(days=2)).astimezone(UTC)
        (dt + timedelta(days=2)).astimezone(UTC)
    except OverflowError:
        raise ValidationError("The date is out of range.") from None


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
                day = date.fromisoformat(value)
                _check_in_range(datetime.combine(day, datetime.min.time(), _SHANGHAI))
                return day
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError("Use YYYY-MM-DD or an ISO 8601 datetime with offset.") from None
        if dt.tzinfo is None:
            raise ValidationError("A datetime needs a timezone offset.")
        _check_in_range(dt)
        return dt

    def _jsonschema_type_mapping(self):
        return {"type": "string"}


def _first_instant(value):
    """A `from`: a datetime, or the start of an Asia/Shanghai day."""
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, datetime.min.time(), _SHANGHAI)


def _last_instant(value):
    """A `to`: a datetime, or the last microsecond of an Asia/Shanghai day (inclusive)."""
    if isinstance(value, datetime):
        return value
    return _first_instant(value) + timedelta(days=1, microseconds=-1)


class Query(Schema):
    """The base of every query schema. `from` after `to` is a 422 naming both (Appendix B).
    Unknown query parameters are refused for every endpoint in request_body.check_query."""

    @validates_schema
    def _period_in_order(self, data, **kwargs):
        start, end = data.get("from_"), data.get("to")
        if start is not None and end is not None and _first_instant(start) > _last_instant(end):
            message = ["`from` is after `to`."]
            raise ValidationError({"from": message, "to": message})


class PageQuery(Query):
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
