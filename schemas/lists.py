"""The secretaries' lists and exports: query parameters and JSON bodies (Appendix A)."""

from marshmallow import Schema, fields, validate
from webargs.fields import DelimitedList

from survey_api.statuses import STATUSES

from .common import UNIT_CODE_RE, DateOrDateTime, PageQuery, PageSchema, Query
from .households import TAGS

FORMATS = ("json", "csv", "xlsx")
LANGS = ("zh", "en")
CATEGORY_RE = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)?$"


def Flag(**kwargs):
    """A query flag spelled true|false|1|0 (nothing else)."""
    return fields.Boolean(truthy={"true", "1"}, falsy={"false", "0"}, **kwargs)


class ExportQuery(PageQuery):
    from_ = DateOrDateTime(
        data_key="from",
        load_default=None,
        metadata={"description": "YYYY-MM-DD (Asia/Shanghai) or aware datetime"},
    )
    to = DateOrDateTime(
        load_default=None, metadata={"description": "YYYY-MM-DD (inclusive) or aware datetime"}
    )
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(FORMATS),
        metadata={"description": "json (paginated) or csv/xlsx (all rows)"},
    )
    lang = fields.String(
        load_default="zh",
        validate=validate.OneOf(LANGS),
        metadata={"description": "Language of export headers and title"},
    )
    unmask = Flag(
        load_default=False,
        metadata={
            "description": "Show personal data unmasked (secretary and above, own scope; audited)"
        },
    )


class ProblemListQuery(ExportQuery):
    status = DelimitedList(
        fields.String(validate=validate.OneOf(STATUSES)),
        metadata={"description": "Comma-separated statuses"},
    )
    category = fields.String(
        load_default=None,
        validate=validate.Regexp(CATEGORY_RE),
        metadata={"description": "A category code; a parent takes its leaves"},
    )
    grid = fields.String(load_default=None, validate=validate.Regexp(UNIT_CODE_RE))
    overdue = Flag(load_default=None)
    supervised = Flag(load_default=None)


class VisitLedgerQuery(ExportQuery):
    visited = Flag(load_default=None, metadata={"description": "Only visited / not visited"})
    tag = fields.String(load_default=None, validate=validate.OneOf(TAGS))
    deleted = Flag(load_default=False, metadata={"description": "Include deleted households"})


class SummaryQuery(Query):
    from_ = DateOrDateTime(data_key="from", load_default=None)
    to = DateOrDateTime(load_default=None)
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))
    lang = fields.String(load_default="zh", validate=validate.OneOf(LANGS))
    category = fields.String(load_default=None, validate=validate.Regexp(CATEGORY_RE))
    unmask = Flag(
        load_default=False,
        metadata={
            "description": "Accepted for symmetry (a roll-up has no personal data); checked and "
            "audited like the lists"
        },
    )


class AuditQuery(PageQuery):
    action = fields.String(load_default=None, validate=validate.Length(1, 100))
    actor = fields.String(
        load_default=None,
        validate=validate.Length(1, 100),
        metadata={"description": "A user id or a username"},
    )
    from_ = DateOrDateTime(data_key="from", load_default=None)
    to = DateOrDateTime(load_default=None)


# --- bodies -----------------------------------------------------------------------------


class ListUnitSchema(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String()


def _ts():
    return fields.String(allow_none=True, metadata={"format": "date-time"})


def _money():
    return fields.Float(allow_none=True)


class ProblemListRowSchema(Schema):
    seq = fields.Integer()
    number = fields.String()
    reported_at = _ts()
    source = fields.String()
    grid_code = fields.String()
    grid_name = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    category = fields.String()
    category_name = fields.String(allow_none=True)
    description = fields.String()
    urgency = fields.String()
    status = fields.String()
    level = fields.String()
    responsible_unit = fields.String(allow_none=True)
    responsible_person = fields.String(allow_none=True)
    measures = fields.String(allow_none=True)
    due_at = _ts()
    rectified_at = _ts()
    closed_at = _ts()
    overdue = fields.Boolean()
    supervised = fields.Boolean()
    rating = fields.Integer(allow_none=True)
    cost_share_resident = _money()
    cost_share_society = _money()
    cost_share_subsidy = _money()
    head_name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class RectificationListRowSchema(Schema):
    seq = fields.Integer()
    number = fields.String()
    description = fields.String()
    category_name = fields.String(allow_none=True)
    measures = fields.String(allow_none=True)
    responsible_unit = fields.String(allow_none=True)
    responsible_person = fields.String(allow_none=True)
    accepted_at = _ts()
    due_at = _ts()
    due_estimated = fields.Boolean()
    rectified_at = _ts()
    verified_at = _ts()
    status = fields.String()
    overdue = fields.Boolean()
    supervised = fields.Boolean()
    rating = fields.Integer(allow_none=True)
    cost_share_resident = _money()
    cost_share_society = _money()
    cost_share_subsidy = _money()


class LedgerHouseholdSchema(Schema):
    id = fields.String()
    address = fields.String()
    building = fields.String(allow_none=True)
    unit_no = fields.String(allow_none=True)
    room = fields.String(allow_none=True)
    head_name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    tags = fields.List(fields.String())


class LedgerVisitSchema(Schema):
    id = fields.String()
    visited_at = _ts()
    outcome = fields.String()
    visitor = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)


class VisitLedgerRowSchema(Schema):
    household = fields.Nested(LedgerHouseholdSchema)
    visits = fields.List(fields.Nested(LedgerVisitSchema))
    visited = fields.Boolean()


def _list_page(name, row_schema):
    """{unit, from, to, items, next_cursor}: a page of a list (format=json)."""
    return Schema.from_dict(
        {
            "unit": fields.Nested(ListUnitSchema),
            "from_": fields.String(data_key="from", allow_none=True),
            "to": fields.String(allow_none=True),
            "items": fields.List(fields.Nested(row_schema)),
            "next_cursor": fields.String(allow_none=True, required=True),
        },
        name=name,
    )


ProblemListPageSchema = _list_page("ProblemListPage", ProblemListRowSchema)
RectificationListPageSchema = _list_page("RectificationListPage", RectificationListRowSchema)
VisitLedgerPageSchema = _list_page("VisitLedgerPage", VisitLedgerRowSchema)


def _metric_fields():
    return {
        "households": fields.Integer(),
        "visited": fields.Integer(),
        "coverage_pct": fields.Float(),
        "problems": fields.Integer(),
        "problems_by_category": fields.Dict(keys=fields.String(), values=fields.Integer()),
        "rectified": fields.Integer(),
        "rectification_rate_pct": fields.Float(),
        "on_time_rate_pct": fields.Float(),
        "overdue": fields.Integer(),
        "supervised": fields.Integer(),
        "rated": fields.Integer(),
        "satisfaction_rate_pct": fields.Float(),
    }


MetricsSchema = Schema.from_dict(_metric_fields(), name="SummaryMetrics")
SummaryChildSchema = Schema.from_dict(
    {
        "code": fields.String(),
        "name": fields.String(),
        "level": fields.String(),
        **_metric_fields(),
    },
    name="SummaryChild",
)


class SummarySchema(Schema):
    unit = fields.Nested(ListUnitSchema)
    from_ = fields.String(data_key="from", allow_none=True)
    to = fields.String(allow_none=True)
    totals = fields.Nested(MetricsSchema)
    children = fields.List(fields.Nested(SummaryChildSchema))


class AuditEntrySchema(Schema):
    id = fields.Integer()
    actor = fields.String(allow_none=True)
    action = fields.String()
    target = fields.String(allow_none=True)
    at = fields.String()
    ip = fields.String(allow_none=True)
    details = fields.Dict()


class AuditPageSchema(PageSchema):
    items = fields.List(fields.Nested(AuditEntrySchema))
