"""The unit tree: everyone reads its own subtree; only admin writes."""

from flask import request

from schemas.units import (
    UnitCreateSchema,
    UnitListQuery,
    UnitPageSchema,
    UnitPatchSchema,
    UnitSchema,
)

from ..pagination import decode_cursor, page
from ..scope import current_scope
from ..services import units as unit_service
from . import blueprint

blp = blueprint("units", __name__, description="Districts, streets, communities and grids")


@blp.route("/units", methods=["GET"])
@blp.arguments(UnitListQuery, location="query")
@blp.response(200, UnitPageSchema)
def list_units(args):
    """Units in the caller's scope, ordered by code."""
    scope = current_scope()
    rows = unit_service.list_units(
        scope.conn,
        scope,
        level=args.get("level"),
        parent=args.get("parent"),
        after=decode_cursor(args["cursor"], str),
        limit=args["limit"] + 1,
    )
    return page([unit_service.public(u) for u in rows], args["limit"], key=lambda u: u["code"])


@blp.route("/units", methods=["POST"])
@blp.arguments(UnitCreateSchema)
@blp.response(201, UnitSchema)
def create_unit(args):
    """Create a unit (admin only)."""
    scope = current_scope()
    unit = unit_service.create(
        scope.conn,
        scope,
        code=args["code"],
        name=args["name"],
        level=args["level"],
        parent_code=args["parent_code"],
        ip=request.remote_addr,
    )
    return unit_service.public(unit), 201, {"Location": f"/api/v1/units/{unit['code']}"}


@blp.route("/units/<code>", methods=["GET"])
@blp.response(200, UnitSchema)
def get_unit(code):
    """One unit of the caller's scope."""
    scope = current_scope()
    return unit_service.public(unit_service.visible_unit(scope.conn, scope, code))


@blp.route("/units/<code>", methods=["PATCH"])
@blp.arguments(UnitPatchSchema)
@blp.response(200, UnitSchema)
def patch_unit(args, code):
    """Rename or re-parent a unit (admin only)."""
    scope = current_scope()
    unit = unit_service.update(scope.conn, scope, code, args, ip=request.remote_addr)
    return unit_service.public(unit)
