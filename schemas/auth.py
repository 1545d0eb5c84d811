"""Login, token and /me bodies."""

from marshmallow import Schema, fields, validate

from .common import StrictSchema


class LoginSchema(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(1, 150))
    password = fields.String(required=True, validate=validate.Length(1, 1024))
    device_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class MeUserSchema(Schema):
    id = fields.String()
    username = fields.String()
    display_name = fields.String()


class MeUnitSchema(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String()


class MeSchema(Schema):
    user = fields.Nested(MeUserSchema)
    role = fields.String()
    units = fields.List(fields.Nested(MeUnitSchema))


class TokenPairSchema(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    expires_in = fields.Integer()
    user = fields.Nested(MeSchema)
