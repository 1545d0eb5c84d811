"""The unit tree: everyone reads its own subtree; only admin writes."""

from flask import request

from schemas.units import (
    UnitCreateSchema,
    UnitListQuery,
    UnitPageSchema,
    UnitPatchSchema,
    UnitSchema,
)

from ..db import get_db, write_tx
from ..errors import ApiError
from ..pagination import decode_cursor, page
from ..scope import current_scope
from ..services import units as unit_service
from ..storage import units as unit_store
from . import blueprint

blp = blueprint("units", __name__, description="Districts, streets, communities and grids")


def _public(unit):
    return unit_service.public(unit)


@blp.route("/units", methods=["GET"])
@blp.arguments(UnitListQuery, location="query")
@blp.response(200, UnitPageSchema)
def list_units(args):
    """Units in the caller's scope, ordered by code."""
    scope = current_scope()
    if args.get("parent"):
        scope.unit_for_list(args["parent"])  # 404 unknown, 403 OUT_OF_SCOPE outside scope
    after = decode_cursor(args["cursor"], str)
    rows = unit_store.list_units(
        scope.conn, None if scope.is_admin else scope.paths, level=args.get("level"),
        parent_code=args.get("parent"), after=after, limit=args["limit"] + 1)
    return page([_public(u) for u in rows], args["limit"], key=lambda u: u["code"])


@blp.route("/units", methods=["POST"])
@blp.arguments(UnitCreateSchema)
@blp.response(201, UnitSchema)
def create_unit(args):
    """Create a unit (admin only)."""
    scope = current_scope()
    scope.require_role("admin")
    conn = get_db().conn
    with write_tx(conn):
        unit = unit_service.create(conn, scope, code=args["code"], name=args["name"],
                                   level=args["level"], parent_code=args["parent_code"],
                                   ip=request.remote_addr)
    return _public(unit), 201, {"Location": f"/api/v1/units/{unit['code']}"}


@blp.route("/units/<code>", methods=["GET"])
@blp.response(200, UnitSchema)
def get_unit(code):
    """One unit of the caller's scope."""
    scope = current_scope()
    unit = unit_store.get(scope.conn, code)
    if unit is None or not scope.holds(unit):
        raise ApiError(404, "NOT_FOUND", f"No unit {code}.")
    return _public(unit)


@blp.route("/units/<code>", methods=["PATCH"])
@blp.arguments(UnitPatchSchema)
@blp.response(200, UnitSchema)
def patch_unit(args, code):
    """Rename or re-parent a unit (admin only)."""
    scope = current_scope()
    scope.require_role("admin")
    conn = get_db().conn
    with write_tx(conn):
        unit = unit_service.update(conn, scope, code, args, ip=request.remote_addr)
    return _public(unit)
