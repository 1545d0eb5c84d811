"""The secretaries' lists: 问题清单, 整改清单, 走访台账 and roll-ups, as JSON, CSV or XLSX.

Views parse the query, call one service function and render: the JSON body as it comes, an
export as a streamed file.
"""

from flask import request

from schemas.lists import (
    ProblemListPageSchema,
    ProblemListQuery,
    RectificationListPageSchema,
    SummaryQuery,
    SummarySchema,
    VisitLedgerPageSchema,
    VisitLedgerQuery,
)

from ..exports import ExportFile
from ..exports.http import CSV_TYPE, XLSX_TYPE, file_response
from ..services import lists as list_service
from ..services import summary as summary_service
from . import blueprint

blp = blueprint(
    "lists",
    __name__,
    description="Problem and rectification lists, visit ledger, "
    "roll-ups; exports as CSV (UTF-8 with BOM) or XLSX",
)

# format=csv|xlsx answer a file instead of the JSON page.
EXPORT_DOC = {
    "responses": {
        200: {
            "content": {
                CSV_TYPE.split(";")[0]: {"schema": {"type": "string"}},
                XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
            }
        }
    }
}


def _render(result):
    """A JSON body as it is; an export as the file."""
    return file_response(result) if isinstance(result, ExportFile) else result


@blp.route("/communities/<code>/problem-list", methods=["GET"])
@blp.arguments(ProblemListQuery, location="query")
@blp.response(200, ProblemListPageSchema)
@blp.doc(**EXPORT_DOC)
def problem_list(args, code):
    """问题清单: every problem of the community reported in the period, rejected included."""
    return _render(list_service.problem_list(code, "problem-list", args, request.remote_addr))


@blp.route("/communities/<code>/rectification-list", methods=["GET"])
@blp.arguments(ProblemListQuery, location="query")
@blp.response(200, RectificationListPageSchema)
@blp.doc(**EXPORT_DOC)
def rectification_list(args, code):
    """整改清单: problems reported in the period that were accepted (any later status)."""
    return _render(list_service.problem_list(code, "rectification-list", args, request.remote_addr))


@blp.route("/grids/<code>/visit-ledger", methods=["GET"])
@blp.arguments(VisitLedgerQuery, location="query")
@blp.response(200, VisitLedgerPageSchema)
@blp.doc(**EXPORT_DOC)
def visit_ledger(args, code):
    """走访台账: every household of the grid, its visits in the period, visited or not."""
    return _render(list_service.visit_ledger(code, args, request.remote_addr))


@blp.route("/units/<code>/summary", methods=["GET"])
@blp.arguments(SummaryQuery, location="query")
@blp.response(200, SummarySchema)
@blp.doc(**EXPORT_DOC)
def unit_summary(args, code):
    """Roll-up of a unit over its children; every parent's counts are its children's sums.
    The XLSX carries a chart of coverage and rectification rate by child unit."""
    return _render(summary_service.unit_summary(code, args, request.remote_addr))
