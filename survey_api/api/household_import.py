"""POST /households/import: a community's roster (台账) as a raw CSV or XLSX body."""

from flask import request

from schemas.household_import import HouseholdImportReportSchema, ImportQuery

from ..errors import ApiError
from ..scope import current_scope
from ..services import household_import as service
from . import blueprint

blp = blueprint(
    "household_import",
    __name__,
    description="Household roster import (CSV or XLSX, Chinese headers accepted)",
)

CSV_TYPES = {"text/csv", "text/plain", "application/csv"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blp.route("/households/import", methods=["POST"])
@blp.arguments(ImportQuery, location="query")
@blp.response(200, HouseholdImportReportSchema)
@blp.doc(
    requestBody={
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string", "format": "binary"}},
            XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
)
def import_households(args):
    """Create or update households row by row; answers what each row became and why.

    Secretary and above; every row's grid must lie in the caller's scope (else that row is
    rejected). Re-importing the same file changes nothing.
    """
    scope = current_scope()
    service.check_may_import(scope)  # before reading the body
    data, filename = _upload()
    return service.import_roster(
        scope.conn, scope, data, name=args["name"] or filename, ip=request.remote_addr
    )


def _upload():
    """(file bytes, file name or None): a raw CSV/XLSX body, or one file of a multipart form."""
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        files = list(request.files.values())
        if len(files) != 1:
            raise ApiError(400, "MALFORMED_BODY", "Send exactly one file.")
        data = files[0].read()
        if not data:
            raise ApiError(400, "MALFORMED_BODY", "The file is empty.")
        return data, files[0].filename
    data = request.get_data(cache=False)  # 413 here when over MAX_CONTENT_LENGTH
    is_xlsx = data.startswith(service.XLSX_MAGIC)
    if mimetype == XLSX_TYPE or (mimetype == "application/octet-stream" and is_xlsx):
        if not is_xlsx:
            raise ApiError(400, "MALFORMED_BODY", "The body is not an XLSX file.")
    elif mimetype not in CSV_TYPES:
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", f"Send text/csv or {XLSX_TYPE}.")
    elif is_xlsx:
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "An XLSX body needs the XLSX content type.")
    if not data:
        raise ApiError(400, "MALFORMED_BODY", "The body is empty.")
    return data, None
