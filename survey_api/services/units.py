"""The unit tree: everyone reads its own subtree; only admin creates, renames or moves units."""

from ..db import write_tx
from ..errors import ApiError
from ..roles import ADMIN, PARENT_LEVEL
from ..storage import audit
from ..storage import units as unit_store

PUBLIC = ("code", "name", "level", "parent_code")


def public(unit):
    return {k: unit[k] for k in PUBLIC}


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


def list_units(scope, *, level=None, parent=None, after=None, limit=100):
    """Units in the caller's scope by code (up to limit); a named parent must be in scope."""
    if parent:
        scope.unit_for_list(parent)  # 404 unknown, 403 OUT_OF_SCOPE outside scope
    rows = unit_store.list_units(scope.conn, None if scope.is_admin else scope.paths,
                                 level=level, parent_code=parent, after=after, limit=limit)
    return [public(u) for u in rows]


def get_unit(scope, code):
    """One unit of the caller's scope (404 otherwise)."""
    unit = unit_store.get(scope.conn, code)
    if unit is None or not scope.holds(unit):
        raise ApiError(404, "NOT_FOUND", f"No unit {code}.")
    return public(unit)


def create_unit(scope, code, name, level, parent_code, *, ip=None):
    """Create a unit (admin only)."""
    scope.require_role(ADMIN)
    conn = scope.conn
    with write_tx(conn):
        if unit_store.get(conn, code):
            raise ApiError(422, "VALIDATION_ERROR", "Code taken.",
                           errors={"code": ["A unit with this code exists."]})
        _check_parent(conn, code, level, parent_code)
        unit = public(unit_store.upsert(conn, code, name, level, parent_code))
        audit.record(conn, actor=scope.user_id, action="unit.create", target=code, ip=ip,
                     details=unit)
    return unit


def update_unit(scope, code, changes, *, ip=None):
    """Rename and/or re-parent a unit (admin only); changes holds name and/or parent_code."""
    scope.require_role(ADMIN)
    conn = scope.conn
    with write_tx(conn):
        unit = unit_store.get(conn, code)
        if unit is None:
            raise ApiError(404, "NOT_FOUND", f"No unit {code}.")
        parent_code = changes.get("parent_code", unit["parent_code"])
        if "parent_code" in changes:
            _check_parent(conn, code, unit["level"], parent_code)
            if parent_code and unit_store.get(conn, parent_code)["path"].startswith(unit["path"]):
                raise ApiError(422, "VALIDATION_ERROR", "A unit cannot move under itself.",
                               errors={"parent_code": ["Would make a cycle."]})
        unit = unit_store.upsert(conn, code, changes.get("name", unit["name"]), unit["level"],
                                 parent_code)
        audit.record(conn, actor=scope.user_id, action="unit.update", target=code, ip=ip,
                     details=changes)
    return public(unit)
