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

from ..pagination import decode_cursor
from ..request_body import json_body
from ..scope import current_scope
from ..services import households as service
from . import blueprint
from .record_http import IF_MATCH_PARAMETER, if_match_version, path_id, record_response

blp = blueprint("households", __name__, description="Households (户)")


def _location(record):
    return f"/api/v1/households/{record['id']}"


@blp.route("/households", methods=["GET"])
@blp.arguments(HouseholdListQuery, location="query")
@blp.response(200, HouseholdPageSchema)
def list_households(args):
    """Households of the caller's scope (masked unless unmask=true), by grid then id."""
    scope = current_scope()
    return service.list_page(
        scope.conn,
        scope,
        grid=args.get("grid"),
        tag=args.get("tag"),
        q=args.get("q"),
        deleted=args["deleted"],
        unmask=args["unmask"],
        after=decode_cursor(args["cursor"], (str, str)),
        limit=args["limit"],
        ip=request.remote_addr,
    )


@blp.route("/households", methods=["POST"])
@blp.arguments(HouseholdCreateSchema)
@blp.response(201, HouseholdSchema, description="Created: the new record.")
@blp.alt_response(
    200,
    schema=HouseholdSchema,
    success=True,
    description=(
        "A repeated create: the `id` exists with the same data (a phone resending its create). "
        "The stored record, nothing written. The same `id` with other data is 409 ID_REUSED."
    ),
)
def create_household(args):
    """Create a household (the id may come from the phone)."""
    scope = current_scope()
    record, created = service.add(scope.conn, scope, json_body(), ip=request.remote_addr)
    return record_response(
        record, 201 if created else 200, etag=record["version"], location=_location(record)
    )


@blp.route("/households/<record_id:household_id>", methods=["GET"])
@blp.arguments(UnmaskQuery, location="query")
@blp.response(200, HouseholdSchema)
def get_household(args, household_id):
    """One household: unmasked for its grid workers, masked for others unless unmask=true."""
    scope = current_scope()
    record = service.read(
        scope.conn, scope, path_id(household_id), unmask=args["unmask"], ip=request.remote_addr
    )
    return record_response(record, etag=record["version"])


@blp.route("/households/<record_id:household_id>", methods=["PATCH"])
@blp.arguments(HouseholdPatchSchema)
@blp.response(200, HouseholdSchema)
@blp.doc(parameters=[IF_MATCH_PARAMETER])
def patch_household(args, household_id):
    """Change fields at the version named by If-Match (stale → 409 with the current record)."""
    scope = current_scope()
    household_id = path_id(household_id)
    record = service.change(
        scope.conn,
        scope,
        household_id,
        if_match_version(),
        json_body() or {},
        ip=request.remote_addr,
    )
    return record_response(record, etag=record["version"])


@blp.route("/households/<record_id:household_id>", methods=["DELETE"])
@blp.response(204)
@blp.doc(parameters=[IF_MATCH_PARAMETER])
def delete_household(household_id):
    """Delete (tombstone) a household at the version named by If-Match."""
    scope = current_scope()
    household_id = path_id(household_id)
    service.remove(scope.conn, scope, household_id, if_match_version(), ip=request.remote_addr)
    return "", 204
