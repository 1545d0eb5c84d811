"""Households (户): versioned records in the caller's grids."""

from flask import request

from schemas.households import (
    HouseholdCreateSchema,
    HouseholdListQuery,
    HouseholdPageSchema,
    HouseholdPatchSchema,
    HouseholdSchema,
    UnmaskQuery,
)

from ..db import get_db, write_tx
from ..errors import ApiError
from ..pagination import decode_cursor, page
from ..request_body import json_body
from ..scope import current_scope
from ..services import households as service
from ..services.creates import Duplicate
from ..services.masking import mask_household
from ..storage import audit
from ..storage import households as store
from . import blueprint
from .record_http import audit_unmask, if_match_version, path_id, record_response

blp = blueprint("households", __name__, description="Households (户)")


def _location(record):
    return f"/api/v1/households/{record['id']}"


@blp.route("/households", methods=["GET"])
@blp.arguments(HouseholdListQuery, location="query")
@blp.response(200, HouseholdPageSchema)
def list_households(args):
    """Households of the caller's scope (masked unless unmask=true), by grid then id."""
    scope = current_scope()
    conn = get_db().conn
    unit = None
    if args.get("grid"):
        unit = scope.unit_for_list(args["grid"], unmask=args["unmask"])
    elif args["unmask"]:
        scope.check_unmask()
    scope_sql, params = scope.grid_filter("grid_code", under=unit)
    rows = store.list_rows(conn, scope_sql=scope_sql, scope_params=params, tag=args.get("tag"),
                           q=args.get("q"), deleted=args["deleted"],
                           after=decode_cursor(args["cursor"], (str, str)), limit=args["limit"] + 1)
    items = [store.to_api(r) for r in rows]
    if args["unmask"]:
        with write_tx(conn):
            audit_unmask(conn, scope, args.get("grid"), {"endpoint": "households.list",
                                                          "count": min(len(items), args["limit"])})
    else:
        items = [mask_household(i) for i in items]
    return page(items, args["limit"], key=lambda h: [h["grid_code"], h["id"]])


@blp.route("/households", methods=["POST"])
@blp.arguments(HouseholdCreateSchema)
@blp.response(201, HouseholdSchema)
def create_household(args):
    """Create a household (the id may come from the phone)."""
    scope = current_scope()
    conn = get_db().conn
    try:
        with write_tx(conn):
            record = service.create(conn, scope, None, json_body())
            audit.record(conn, actor=scope.user_id, action="household.create",
                         target=record["id"], ip=request.remote_addr)
    except Duplicate as d:
        return record_response(d.record, 200, etag=d.record["version"],
                               location=_location(d.record))
    return record_response(record, 201, etag=record["version"], location=_location(record))


@blp.route("/households/<household_id>", methods=["GET"])
@blp.arguments(UnmaskQuery, location="query")
@blp.response(200, HouseholdSchema)
def get_household(args, household_id):
    """One household: unmasked for its grid workers, masked for others unless unmask=true."""
    scope = current_scope()
    conn = get_db().conn
    row = service.get_visible(conn, scope, path_id(household_id))
    if args["unmask"]:
        scope.check_unmask()
        with write_tx(conn):
            audit_unmask(conn, scope, row["id"], {"endpoint": "households.get"})
    return record_response(service.present(scope, row, args["unmask"]), etag=row["version"])


@blp.route("/households/<household_id>", methods=["PATCH"])
@blp.arguments(HouseholdPatchSchema)
@blp.response(200, HouseholdSchema)
@blp.doc(parameters=[{"name": "If-Match", "in": "header", "required": True,
                      "schema": {"type": "string"}}])
def patch_household(args, household_id):
    """Change fields at the version named by If-Match (stale → 409 with the current record)."""
    scope = current_scope()
    household_id = path_id(household_id)
    version = if_match_version()
    conn = get_db().conn
    with write_tx(conn):
        record = service.update(conn, scope, household_id, version, json_body() or {},
                                merge=False)
        audit.record(conn, actor=scope.user_id, action="household.update", target=household_id,
                     ip=request.remote_addr, details={"fields": sorted(args)})
    return record_response(record, etag=record["version"])


@blp.route("/households/<household_id>", methods=["DELETE"])
@blp.response(204)
@blp.doc(parameters=[{"name": "If-Match", "in": "header", "required": True,
                      "schema": {"type": "string"}}])
def delete_household(household_id):
    """Delete (tombstone) a household at the version named by If-Match."""
    scope = current_scope()
    household_id = path_id(household_id)
    version = if_match_version()
    conn = get_db().conn
    with write_tx(conn):
        outcome = service.delete(conn, scope, household_id, version)
        if outcome == "absent":
            raise ApiError(404, "NOT_FOUND", "No such household.")
        if outcome == "already_deleted":
            raise ApiError(410, "GONE", "This household was deleted.")
        audit.record(conn, actor=scope.user_id, action="household.delete", target=household_id,
                     ip=request.remote_addr)
    return "", 204
