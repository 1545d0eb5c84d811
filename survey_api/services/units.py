"""The unit tree's writes (admin only): create, rename or re-parent, import from CSV.

Both doors call these: api/units.py and the console's /console/admin/units.
"""

from ..db import write_tx
from ..errors import ApiError
from ..roles import ADMIN, PARENT_LEVEL
from ..storage import audit
from ..storage import units as unit_store
from . import unit_import


def public(unit):
    return {k: unit[k] for k in ("code", "name", "level", "parent_code")}


def check_parent(conn, code, level, parent_code):
    """A unit's parent must exist and sit exactly one level up (a district has none)."""
    if level == "district":
        if parent_code:
            raise ApiError(
                422,
                "VALIDATION_ERROR",
                "A district has no parent.",
                errors={"parent_code": ["A district has no parent."]},
            )
        return
    if not parent_code:
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            "Missing parent.",
            errors={"parent_code": [f"A {level} needs a {PARENT_LEVEL[level]} parent."]},
        )
    parent = unit_store.get(conn, parent_code)
    if parent is None or parent["level"] != PARENT_LEVEL[level]:
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            "Wrong parent.",
            errors={"parent_code": [f"Must name an existing {PARENT_LEVEL[level]}."]},
        )
    if level == "grid" and not code.startswith(parent_code + "-"):
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            "Grid code must extend its community's.",
            errors={"code": [f"A grid code is '{parent_code}-<suffix>'."]},
        )


def list_units(conn, scope, *, level=None, parent=None, after=None, limit=100):
    """Units in the caller's scope by code (up to limit); a named parent must be in scope."""
    if parent:
        scope.unit_for_list(parent)  # 404 unknown, 403 OUT_OF_SCOPE outside scope
    return unit_store.list_units(
        conn,
        None if scope.is_admin else scope.paths,
        level=level,
        parent_code=parent,
        after=after,
        limit=limit,
    )


def visible_unit(conn, scope, code):
    """One unit of the caller's scope (404 otherwise)."""
    unit = unit_store.get(conn, code)
    if unit is None or not scope.holds(unit):
        raise ApiError(404, "NOT_FOUND", f"No unit {code}.")
    return unit


def create(conn, scope, *, code, name, level, parent_code, ip=None):
    """Create a unit, audited, in one write transaction."""
    scope.require_role(ADMIN)
    with write_tx(conn):
        if unit_store.get(conn, code):
            raise ApiError(
                422,
                "VALIDATION_ERROR",
                "Code taken.",
                errors={"code": ["A unit with this code exists."]},
            )
        check_parent(conn, code, level, parent_code)
        unit = unit_store.upsert(conn, code, name, level, parent_code)
        audit.record(
            conn,
            actor=scope.user_id,
            action="unit.create",
            target=unit["code"],
            ip=ip,
            details=public(unit),
        )
    return unit


def update(conn, scope, code, changes, ip=None):
    """Rename (`name`) or re-parent (`parent_code`) a unit, audited, in one write transaction."""
    scope.require_role(ADMIN)
    with write_tx(conn):
        unit = unit_store.get(conn, code)
        if unit is None:
            raise ApiError(404, "NOT_FOUND", f"No unit {code}.")
        parent_code = changes.get("parent_code", unit["parent_code"])
        if "parent_code" in changes:
            check_parent(conn, code, unit["level"], parent_code)
            if parent_code and unit_store.get(conn, parent_code)["path"].startswith(unit["path"]):
                raise ApiError(
                    422,
                    "VALIDATION_ERROR",
                    "A unit cannot move under itself.",
                    errors={"parent_code": ["Would make a cycle."]},
                )
        unit = unit_store.upsert(
            conn, code, changes.get("name", unit["name"]), unit["level"], parent_code
        )
        audit.record(
            conn, actor=scope.user_id, action="unit.update", target=code, ip=ip, details=changes
        )
    return unit


def import_csv(conn, scope, stream, *, source, ip=None):
    """Import a `code,name,level,parent_code` CSV (all or nothing; UnitImportError lists the
    bad rows); (created, updated), audited. Runs its own transactions."""
    scope.require_role(ADMIN)
    created, updated = unit_import.import_units_csv(conn, stream)
    with write_tx(conn):
        audit.record(
            conn,
            actor=scope.user_id,
            action="unit.import",
            target=source,
            ip=ip,
            details={"created": created, "updated": updated},
        )
    return created, updated


def tree(conn):
    """Every unit in tree order (depth-first, children by code), each with its depth."""
    units = unit_store.list_units(conn, None, limit=1_000_000)
    children = {}
    for unit in units:
        children.setdefault(unit["parent_code"], []).append(unit)
    out = []

    def walk(parent, depth):
        for unit in children.get(parent, []):
            out.append({**unit, "depth": depth})
            walk(unit["code"], depth + 1)

    walk(None, 0)
    return out
