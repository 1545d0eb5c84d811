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
from ..roles import PARENT_LEVEL
from ..scope import current_scope
from ..storage import audit
from ..storage import units as unit_store
from . import blueprint

blp = blueprint("units", __name__, description="Districts, streets, communities and grids")


def _public(unit):
    return {k: unit[k] for k in ("code", "name", "level", "parent_code")}


def _check_parent(conn, code, level, parent_code):
    """A unit's parent must exist and sit exactly one level up (a district has none)."""
    if level == "district":
        if parent_code:
            raise ApiError(422, "VALIDATION_ERROR", "A district has no parent.",
                           errors={"parent_code": ["A district has no parent."]})
        return
    if not parent_code:
        raise ApiError(422, "VALIDATION_ERROR", "Missing parent.",
                       errors={"parent_code": [f"A {level} needs a {PARENT_LEVEL[level]} parent."]})
    parent = unit_store.get(conn, parent_code)
    if parent is None or parent["level"] != PARENT_LEVEL[level]:
        raise ApiError(422, "VALIDATION_ERROR", "Wrong parent.",
                       errors={"parent_code": [f"Must name an existing {PARENT_LEVEL[level]}."]})
    if level == "grid" and not code.startswith(parent_code + "-"):
        raise ApiError(422, "VALIDATION_ERROR", "Grid code must extend its community's.",
                       errors={"code": [f"A grid code is '{parent_code}-<suffix>'."]})


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
        if unit_store.get(conn, args["code"]):
            raise ApiError(422, "VALIDATION_ERROR", "Code taken.",
                           errors={"code": ["A unit with this code exists."]})
        _check_parent(conn, args["code"], args["level"], args["parent_code"])
        unit = unit_store.upsert(conn, args["code"], args["name"], args["level"],
                                 args["parent_code"])
        audit.record(conn, actor=scope.user_id, action="unit.create", target=unit["code"],
                     ip=request.remote_addr, details=_public(unit))
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
        unit = unit_store.get(conn, code)
        if unit is None:
            raise ApiError(404, "NOT_FOUND", f"No unit {code}.")
        parent_code = args.get("parent_code", unit["parent_code"])
        if "parent_code" in args:
            _check_parent(conn, code, unit["level"], parent_code)
            if parent_code and unit_store.get(conn, parent_code)["path"].startswith(unit["path"]):
                raise ApiError(422, "VALIDATION_ERROR", "A unit cannot move under itself.",
                               errors={"parent_code": ["Would make a cycle."]})
        unit = unit_store.upsert(conn, code, args.get("name", unit["name"]), unit["level"],
                                 parent_code)
        audit.record(conn, actor=scope.user_id, action="unit.update", target=code,
                     ip=request.remote_addr, details=args)
    return _public(unit)
