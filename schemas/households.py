"""Households (户): the wire contract of /households and of push `household` items."""

from marshmallow import Schema, fields, validate

from .common import UNIT_CODE_RE, PageQuery, PageSchema, Query, Regexp, StrictSchema, Uuid

TAGS = (
    "elderly_alone",
    "elderly",
    "low_income",
    "disabled",
    "left_behind_child",
    "veteran",
    "rental",
    "vacant",
    "special_care",
)
PHONE_RE = r"^[0-9+\- ]{7,20}$"


def _text(max_len, **kwargs):
    return fields.String(allow_none=True, validate=validate.Length(max=max_len), **kwargs)


class _HouseholdFields(StrictSchema):
    grid_code = fields.String(validate=Regexp(UNIT_CODE_RE, error="Not a unit code."))
    address = fields.String(validate=validate.Length(1, 200))
    building = _text(50)
    unit_no = _text(50)
    room = _text(50)
    head_name = _text(50)
    phone = fields.String(
        allow_none=True,
        validate=Regexp(PHONE_RE, error="7 to 20 characters of digits, '+', '-' and spaces."),
    )
    members = fields.Integer(strict=True, allow_none=True, validate=validate.Range(0, 50))
    tags = fields.List(
        fields.String(validate=validate.OneOf(TAGS)), validate=validate.Length(max=len(TAGS))
    )
    notes = _text(2000)


class HouseholdCreateSchema(_HouseholdFields):
    """POST /households and push `create` data (grid_code and address required)."""

    id = Uuid()
    grid_code = fields.String(
        required=True, validate=Regexp(UNIT_CODE_RE, error="Not a unit code.")
    )
    address = fields.String(required=True, validate=validate.Length(1, 200))


class HouseholdPatchSchema(_HouseholdFields):
    """PATCH /households/{id} and push `update` data: only the changed fields."""


class HouseholdSchema(Schema):
    id = fields.String()
    grid_code = fields.String()
    address = fields.String()
    building = fields.String(allow_none=True)
    unit_no = fields.String(allow_none=True)
    room = fields.String(allow_none=True)
    head_name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    members = fields.Integer(allow_none=True)
    tags = fields.List(fields.String())
    notes = fields.String(allow_none=True)
    deleted = fields.Boolean()
    version = fields.Integer()
    created_at = fields.String()
    updated_at = fields.String()
    created_at_client = fields.String(allow_none=True)
    updated_at_client = fields.String(allow_none=True)


class UnmaskQuery(Query):
    unmask = fields.Boolean(load_default=False, truthy={"true", "1"}, falsy={"false", "0"})


class HouseholdListQuery(PageQuery, UnmaskQuery):
    grid = fields.String(validate=Regexp(UNIT_CODE_RE))
    tag = fields.String(validate=validate.OneOf(TAGS))
    q = fields.String(validate=validate.Length(1, 100))
    deleted = fields.Boolean(load_default=False, truthy={"true", "1"}, falsy={"false", "0"})


class HouseholdPageSchema(PageSchema):
    items = fields.List(fields.Nested(HouseholdSchema))
