"""Who may manage which users, and which units a user of a role may hold."""

from ..errors import ApiError
from ..roles import ADMIN, GRID_WORKER, RANK, UNIT_LEVEL
from ..storage import units as unit_store


def check_units_for_role(conn, role, unit_codes, field="unit_codes"):
    """Validate the units a user of `role` is bound to; returns the unit rows."""
    if role == ADMIN:
        if unit_codes:
            raise ApiError(422, "VALIDATION_ERROR", "An admin holds no unit.",
                           errors={field: ["An admin holds no unit."]})
        return []
    if not unit_codes:
        raise ApiError(422, "VALIDATION_ERROR", "This role needs a unit.",
                       errors={field: ["Required for this role."]})
    if role != GRID_WORKER and len(unit_codes) != 1:
        raise ApiError(422, "VALIDATION_ERROR", "This role holds exactly one unit.",
                       errors={field: ["Exactly one unit for this role."]})
    units = []
    for code in unit_codes:
        unit = unit_store.get(conn, code)
        if unit is None:
            raise ApiError(422, "VALIDATION_ERROR", f"No unit {code}.",
                           errors={field: [f"No unit {code}."]})
        if unit["level"] != UNIT_LEVEL[role]:
            raise ApiError(422, "VALIDATION_ERROR", f"A {role} holds {UNIT_LEVEL[role]} units.",
                           errors={field: [
                               f"{code} is a {unit['level']}, not a {UNIT_LEVEL[role]}."]})
        units.append(unit)
    return units


def may_manage_users(scope):
    """Whether the caller may use the user endpoints at all (grid workers may not)."""
    return scope.role != GRID_WORKER


def manageable_roles(scope):
    """Roles the caller may create or edit: admin any; others strictly lower ranks."""
    if scope.is_admin:
        return None
    return [r for r, rank in RANK.items() if rank < RANK[scope.role]]


def can_manage(scope, user, units):
    """Whether the caller may see and edit this user (with its unit rows)."""
    if scope.is_admin:
        return True
    if RANK[user["role"]] >= RANK[scope.role]:
        return False
    return bool(units) and all(scope.holds(u) for u in units)


def check_can_assign(scope, role, units):
    """Refuse creating/editing a user into a role or units the caller does not own."""
    if scope.is_admin:
        return
    if RANK[role] >= RANK[scope.role]:
        raise ApiError(403, "FORBIDDEN", f"You may not manage {role} users.")
    for unit in units:
        if not scope.holds(unit):
            raise ApiError(403, "OUT_OF_SCOPE", f"Unit {unit['code']} is outside your scope.")
