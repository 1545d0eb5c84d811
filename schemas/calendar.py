"""The working calendar: which days count for deadlines, and why."""

from marshmallow import Schema, fields, validate

from .common import DateOrDateTime, PageQuery, PageSchema, StrictSchema
from .problem_actions import StrictBoolean

SOURCES = ("override", "package", "estimated")


class CalendarDaySchema(Schema):
    date = fields.String(metadata={"description": "YYYY-MM-DD (Asia/Shanghai)"})
    is_workday = fields.Boolean()
    source = fields.String(
        validate=validate.OneOf(SOURCES),
        metadata={
            "description": "override (admin table), package (chinesecalendar), estimated "
            "(Monday–Friday where neither has data)"
        },
    )
    name = fields.String(allow_none=True)


class CalendarQuery(PageQuery):
    """from defaults to today (Asia/Shanghai), to to one year after from."""

    from_ = DateOrDateTime(data_key="from", load_default=None)
    to = DateOrDateTime(load_default=None)


class CalendarPutSchema(StrictSchema):
    is_workday = StrictBoolean(required=True)
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50))


class CalendarPageSchema(PageSchema):
    items = fields.List(fields.Nested(CalendarDaySchema))
