"""Problem categories: two levels, `group` and `group.leaf`; leaves carry working_days."""

from marshmallow import Schema, fields, validate

from .common import PageQuery, PageSchema, Regexp, StrictSchema

# Letters and underscores only, so every code also passes the problem schemas' check.
GROUP_RE = r"^[a-z][a-z_]{0,31}$"
CATEGORY_CODE_RE = r"^[a-z][a-z_]{0,31}(\.[a-z][a-z_]{0,31})?$"
MAX_WORKING_DAYS = 60


def WorkingDays(**kwargs):
    return fields.Integer(strict=True, validate=validate.Range(1, MAX_WORKING_DAYS), **kwargs)


class CategorySchema(Schema):
    code = fields.String()
    name = fields.String()
    parent_code = fields.String(allow_none=True)
    working_days = fields.Integer(
        allow_none=True,
        metadata={
            "description": "Deadline in working days after acceptance (leaves); null for groups."
        },
    )


class CategoryCreateSchema(StrictSchema):
    """A group (no parent_code, no working_days) or a leaf `group.leaf` (working_days
    defaults to 3)."""

    code = fields.String(
        required=True,
        validate=Regexp(CATEGORY_CODE_RE, error="Use 'group' or 'group.leaf' (a-z and _)."),
    )
    name = fields.String(required=True, validate=validate.Length(1, 50))
    parent_code = fields.String(load_default=None, allow_none=True, validate=Regexp(GROUP_RE))
    working_days = WorkingDays(allow_none=True)


class CategoryPatchSchema(StrictSchema):
    name = fields.String(validate=validate.Length(1, 50))
    working_days = WorkingDays(allow_none=True)


class CategoryPageSchema(PageSchema):
    items = fields.List(fields.Nested(CategorySchema))


class CategoryListQuery(PageQuery):
    pass
