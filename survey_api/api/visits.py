"""Visits (走访): append-only records of household visits."""

from flask import request

from schemas.visits import VisitCreateSchema, VisitListQuery, VisitPageSchema, VisitSchema

from ..pagination import decode_cursor
from ..request_body import json_body
from ..scope import current_scope
from ..services import visits as service
from ..timeutil import period_bounds
from . import blueprint
from .record_http import path_id, record_response

blp = blueprint("visits", __name__, description="Visits (走访), append-only")


def _location(record):
    return f"/api/v1/visits/{record['id']}"


@blp.route("/visits", methods=["GET"])
@blp.arguments(VisitListQuery, location="query")
@blp.response(200, VisitPageSchema)
def list_visits(args):
    """Visits in the caller's scope, newest visited_at first."""
    scope = current_scope()
    lo, hi = period_bounds(args["from_"], args["to"])
    return service.list_page(
        scope.conn,
        scope,
        grid=args.get("grid"),
        household=args.get("household"),
        lo=lo,
        hi=hi,
        after=decode_cursor(args["cursor"], (str, str)),
        limit=args["limit"],
    )


@blp.route("/visits", methods=["POST"])
@blp.arguments(VisitCreateSchema)
@blp.response(201, VisitSchema)
def create_visit(args):
    """Record a visit (visitor = the caller)."""
    scope = current_scope()
    record, created = service.add(scope.conn, scope, json_body(), ip=request.remote_addr)
    return record_response(record, 201 if created else 200, etag=1, location=_location(record))


@blp.route("/visits/<visit_id>", methods=["GET"])
@blp.response(200, VisitSchema)
def get_visit(visit_id):
    """One visit of the caller's scope."""
    scope = current_scope()
    return record_response(service.read(scope.conn, scope, path_id(visit_id)), etag=1)
