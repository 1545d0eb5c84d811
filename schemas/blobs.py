"""Photo blobs: content-addressed by sha256."""

from marshmallow import Schema, fields

CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic")


class BlobSchema(Schema):
    sha256 = fields.String()
    size = fields.Integer()
    content_type = fields.String()
