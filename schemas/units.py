"""Units of the tree: district > street > community > grid."""

from marshmallow import Schema, fields, validate

from .common import UNIT_CODE_RE, PageQuery, PageSchema, Regexp, StrictSchema

LEVELS = ("district", "street", "community", "grid")


class UnitSchema(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String()
    parent_code = fields.String(allow_none=True)


class UnitCreateSchema(StrictSchema):
    code = fields.String(required=True, validate=Regexp(UNIT_CODE_RE))
    name = fields.String(required=True, validate=validate.Length(1, 100))
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    parent_code = fields.String(load_default=None, allow_none=True, validate=Regexp(UNIT_CODE_RE))


class UnitPatchSchema(StrictSchema):
    name = fields.String(validate=validate.Length(1, 100))
    parent_code = fields.String(allow_none=True, validate=Regexp(UNIT_CODE_RE))


class UnitListQuery(PageQuery):
    level = fields.String(validate=validate.OneOf(LEVELS))
    parent = fields.String(validate=Regexp(UNIT_CODE_RE))


class UnitPageSchema(PageSchema):
    items = fields.List(fields.Nested(UnitSchema))
