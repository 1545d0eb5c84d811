"""Users and the units they are bound to."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .common import UNIT_CODE_RE, PageQuery, PageSchema, Regexp, StrictSchema

ROLES = ("grid_worker", "secretary", "street_admin", "district_admin", "admin")
UnitCode = fields.String(validate=Regexp(UNIT_CODE_RE))


class UserSchema(Schema):
    id = fields.String()
    username = fields.String()
    display_name = fields.String()
    role = fields.String()
    unit_codes = fields.List(fields.String())
    active = fields.Boolean()
    created_at = fields.String()
    updated_at = fields.String()


class _UnitsMixin:
    @validates_schema
    def _one_way_to_name_units(self, data, **kwargs):
        if "unit_code" in data and "unit_codes" in data:
            raise ValidationError("Send unit_codes or unit_code, not both.", "unit_code")


class UserCreateSchema(_UnitsMixin, StrictSchema):
    username = fields.String(required=True, validate=Regexp(r"^[\w.@+-]{1,150}$"))
    password = fields.String(required=True, validate=validate.Length(8, 1024))
    display_name = fields.String(load_default="", validate=validate.Length(max=100))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    unit_codes = fields.List(
        fields.String(validate=Regexp(UNIT_CODE_RE)), validate=validate.Length(max=100)
    )
    unit_code = fields.String(validate=Regexp(UNIT_CODE_RE))


class UserPatchSchema(_UnitsMixin, StrictSchema):
    password = fields.String(validate=validate.Length(8, 1024))
    display_name = fields.String(validate=validate.Length(max=100))
    role = fields.String(validate=validate.OneOf(ROLES))
    unit_codes = fields.List(
        fields.String(validate=Regexp(UNIT_CODE_RE)), validate=validate.Length(max=100)
    )
    unit_code = fields.String(validate=Regexp(UNIT_CODE_RE))
    active = fields.Boolean()


class UserListQuery(PageQuery):
    role = fields.String(validate=validate.OneOf(ROLES))


class UserPageSchema(PageSchema):
    items = fields.List(fields.Nested(UserSchema))
