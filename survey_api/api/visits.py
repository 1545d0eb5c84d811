"""Visits (走访): append-only records of household visits."""

from flask import request

from schemas.visits import VisitCreateSchema, VisitListQuery, VisitPageSchema, VisitSchema

from ..db import get_db, write_tx
from ..pagination import decode_cursor, page
from ..request_body import json_body
from ..scope import current_scope
from ..services import visits as service
from ..services.creates import Duplicate
from ..storage import audit
from ..storage import visits as store
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
    conn = get_db().conn
    unit = scope.unit_for_list(args["grid"]) if args.get("grid") else None
    scope_sql, params = scope.grid_filter("grid_code", under=unit)
    lo, hi = period_bounds(args["from_"], args["to"])
    rows = store.list_rows(conn, scope_sql=scope_sql, scope_params=params,
                           household=(args.get("household") or "").lower() or None, lo=lo, hi=hi,
                           after=decode_cursor(args["cursor"], (str, str)), limit=args["limit"] + 1)
    items = store.rows_to_api(conn, rows)
    return page(items, args["limit"], key=lambda v: [store.iso_utc(v["visited_at"]), v["id"]])


@blp.route("/visits", methods=["POST"])
@blp.arguments(VisitCreateSchema)
@blp.response(201, VisitSchema)
def create_visit(args):
    """Record a visit (visitor = the caller)."""
    scope = current_scope()
    conn = get_db().conn
    try:
        with write_tx(conn):
            record = service.create(conn, scope, None, json_body())
            audit.record(conn, actor=scope.user_id, action="visit.create", target=record["id"],
                         ip=request.remote_addr)
    except Duplicate as d:
        return record_response(d.record, 200, etag=1, location=_location(d.record))
    return record_response(record, 201, etag=1, location=_location(record))


@blp.route("/visits/<visit_id>", methods=["GET"])
@blp.response(200, VisitSchema)
def get_visit(visit_id):
    """One visit of the caller's scope."""
    scope = current_scope()
    conn = get_db().conn
    row = service.get_visible(conn, scope, path_id(visit_id))
    return record_response(service.present(conn, row), etag=1)
