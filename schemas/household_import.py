"""The household roster import: its query and per-row report."""

from marshmallow import Schema, fields, validate

from .common import Query


class ImportQuery(Query):
    name = fields.String(
        load_default=None,
        validate=validate.Length(max=200),
        metadata={"description": "The file name, kept in the audit log"},
    )


class ImportSummarySchema(Schema):
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    rejected = fields.Integer()


class ImportRowSchema(Schema):
    row = fields.Integer(metadata={"description": "Row number in the file (header is row 1)"})
    status = fields.String(metadata={"enum": ["created", "updated", "unchanged", "rejected"]})
    id = fields.String()
    fields_ = fields.List(fields.String(), data_key="fields", attribute="fields")
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class HouseholdImportReportSchema(Schema):
    summary = fields.Nested(ImportSummarySchema)
    ignored_columns = fields.List(fields.String())
    rows = fields.List(fields.Nested(ImportRowSchema))
