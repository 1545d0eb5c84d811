"""Visits (走访): append-only records of a household visit."""

from marshmallow import Schema, fields, validate

from .common import (
    SHA256_RE,
    UNIT_CODE_RE,
    AwareDateTime,
    PageSchema,
    PeriodQuery,
    Regexp,
    StrictSchema,
    Uuid,
)

OUTCOMES = ("met", "not_home", "refused", "vacant", "moved")
MAX_PHOTOS = 20


class JsonNumber(fields.Float):
    """A JSON number: no numeric strings (fields.Float would take "36.8")."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class LocationSchema(StrictSchema):
    lat = JsonNumber(required=True, allow_nan=False, validate=validate.Range(-90, 90))
    lng = JsonNumber(required=True, allow_nan=False, validate=validate.Range(-180, 180))
    accuracy_m = JsonNumber(allow_none=True, allow_nan=False, validate=validate.Range(0, 100000))


def Photos(**kwargs):
    return fields.List(
        fields.String(validate=Regexp(SHA256_RE, error="Not a lowercase sha256.")),
        validate=validate.Length(max=MAX_PHOTOS),
        **kwargs,
    )


class VisitCreateSchema(StrictSchema):
    """POST /visits and push `visit` create data."""

    id = Uuid()
    household_id = Uuid(required=True)
    visited_at = AwareDateTime(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))
    location = fields.Nested(LocationSchema, allow_none=True)
    photos = Photos()


class VisitSchema(Schema):
    id = fields.String()
    household_id = fields.String()
    grid_code = fields.String()
    visitor_id = fields.String()
    visited_at = fields.String()
    outcome = fields.String()
    notes = fields.String(allow_none=True)
    location = fields.Dict(allow_none=True)
    photos = fields.List(fields.String())
    photos_missing = fields.List(fields.String())
    received_at = fields.String()
    created_at_client = fields.String(allow_none=True)


class VisitListQuery(PeriodQuery):
    grid = fields.String(validate=Regexp(UNIT_CODE_RE))
    household = Uuid()


class VisitPageSchema(PageSchema):
    items = fields.List(fields.Nested(VisitSchema))
