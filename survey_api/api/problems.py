"""Problems (问题): reporting and reading. Lifecycle actions live in problem_actions.py."""

from flask import request

from schemas.problems import ProblemCreateSchema, ProblemListQuery, ProblemPageSchema, ProblemSchema

from ..db import get_db
from ..pagination import decode_cursor, page
from ..request_body import json_body
from ..scope import current_scope
from ..services import problem_queue
from ..services import problems as service
from . import blueprint
from .record_http import path_id, record_response

blp = blueprint("problems", __name__, description="Problems (问题)")


def _location(record):
    return f"/api/v1/problems/{record['id']}"


@blp.route("/problems", methods=["GET"])
@blp.arguments(ProblemListQuery, location="query")
@blp.response(200, ProblemPageSchema)
def list_problems(args):
    """Problems in the caller's scope, newest reported first, with their events."""
    conn = get_db().conn
    filters = problem_queue.Filters(
        unit=args.get("unit"),
        statuses=[args["status"]] if args.get("status") else [],
        category=args.get("category"),
        overdue=args.get("overdue"),
        due_soon=bool(args.get("due_soon")),
        lo=args["from_"],
        hi=args["to"],
    )
    items = problem_queue.keyset_page(
        conn,
        current_scope(),
        filters,
        after=decode_cursor(args["cursor"], (str, str)),
        limit=args["limit"],
    )
    return page(items, args["limit"], key=lambda p: [p["reported_at"], p["id"]])


@blp.route("/problems", methods=["POST"])
@blp.arguments(ProblemCreateSchema)
@blp.response(201, ProblemSchema)
def create_problem(args):
    """Report a problem: status reported, level grid, numbered per community and year."""
    record, created = service.report(
        get_db().conn, current_scope(), json_body(), ip=request.remote_addr
    )
    return record_response(
        record, 201 if created else 200, etag=record["version"], location=_location(record)
    )


@blp.route("/problems/<problem_id>", methods=["GET"])
@blp.response(200, ProblemSchema)
def get_problem(problem_id):
    """One problem with its events (办理轨迹)."""
    record = service.read(get_db().conn, current_scope(), path_id(problem_id))
    return record_response(record, etag=record["version"])
