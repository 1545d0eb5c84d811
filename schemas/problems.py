"""Problems (问题): creation and reads. The lifecycle actions have their own schemas."""

from marshmallow import Schema, fields, validate

from survey_api.statuses import STATUSES

from .common import UNIT_CODE_RE, PageSchema, PeriodQuery, Regexp, StrictSchema, Uuid
from .visits import LocationSchema, Photos

SOURCES = ("visit", "hotline", "window", "inspection", "resident")
URGENCIES = ("normal", "urgent")
CATEGORY_RE = r"^[a-z_]+(\.[a-z_]+)?$"


class ProblemCreateSchema(StrictSchema):
    """POST /problems and push `problem` create data."""

    id = Uuid()
    grid_code = fields.String(
        required=True, validate=Regexp(UNIT_CODE_RE, error="Not a unit code.")
    )
    category = fields.String(required=True, validate=Regexp(CATEGORY_RE))
    description = fields.String(required=True, validate=validate.Length(1, 2000))
    visit_id = Uuid(allow_none=True)
    household_id = Uuid(allow_none=True)
    source = fields.String(load_default="visit", validate=validate.OneOf(SOURCES))
    urgency = fields.String(load_default="normal", validate=validate.OneOf(URGENCIES))
    location = fields.Nested(LocationSchema, allow_none=True)
    photos_before = Photos()


class ProblemPatchSchema(StrictSchema):
    """Push `problem` update data: editable only while the problem is still `reported`."""

    category = fields.String(validate=Regexp(CATEGORY_RE))
    description = fields.String(validate=validate.Length(1, 2000))
    urgency = fields.String(validate=validate.OneOf(URGENCIES))
    source = fields.String(validate=validate.OneOf(SOURCES))
    location = fields.Nested(LocationSchema, allow_none=True)
    photos_before = Photos()


class EventSchema(Schema):
    id = fields.String()
    action = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    actor_id = fields.String(allow_none=True)
    at = fields.String()
    note = fields.String(allow_none=True)
    payload = fields.Dict()


class ProblemSchema(Schema):
    id = fields.String()
    number = fields.String()
    visit_id = fields.String(allow_none=True)
    household_id = fields.String(allow_none=True)
    grid_code = fields.String()
    source = fields.String()
    category = fields.String()
    description = fields.String()
    urgency = fields.String()
    location = fields.Dict(allow_none=True)
    photos_before = fields.List(fields.String())
    status = fields.String()
    level = fields.String()
    responsible_unit = fields.String(allow_none=True)
    responsible_person = fields.String(allow_none=True)
    responsible_user_id = fields.String(allow_none=True)
    measures = fields.String(allow_none=True)
    accepted_at = fields.String(allow_none=True)
    due_at = fields.String(allow_none=True)
    due_estimated = fields.Boolean()
    overdue = fields.Boolean()
    rectified_at = fields.String(allow_none=True)
    photos_after = fields.List(fields.String())
    verified_by = fields.String(allow_none=True)
    verified_at = fields.String(allow_none=True)
    closed_at = fields.String(allow_none=True)
    rating = fields.Integer(allow_none=True)
    rating_comment = fields.String(allow_none=True)
    cost_share = fields.Dict(allow_none=True)
    supervised = fields.Boolean()
    version = fields.Integer()
    reported_at = fields.String()
    created_at = fields.String()
    updated_at = fields.String()
    created_at_client = fields.String(allow_none=True)
    updated_at_client = fields.String(allow_none=True)
    photos_missing = fields.List(fields.String())
    events = fields.List(fields.Nested(EventSchema))


class ProblemListQuery(PeriodQuery):
    unit = fields.String(validate=Regexp(UNIT_CODE_RE))
    status = fields.String(validate=validate.OneOf(STATUSES))
    category = fields.String(validate=Regexp(CATEGORY_RE))
    overdue = fields.Boolean(truthy={"true", "1"}, falsy={"false", "0"})
    due_soon = fields.Boolean(truthy={"true", "1"}, falsy={"false", "0"})


class ProblemPageSchema(PageSchema):
    items = fields.List(fields.Nested(ProblemSchema))
