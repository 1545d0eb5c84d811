"""Who may manage which users, and which units a user of a role may hold."""

from ..db import write_tx
from ..errors import ApiError
from ..passwords import hash_password
from ..roles import ADMIN, GRID_WORKER, RANK, UNIT_LEVEL
from ..storage import audit
from ..storage import units as unit_store
from ..storage import users as user_store


def check_units_for_role(conn, role, unit_codes, field="unit_codes"):
    """Validate the units a user of `role` is bound to; returns the unit rows."""
    if role == ADMIN:
        if unit_codes:
            raise ApiError(
                422,
                "VALIDATION_ERROR",
                "An admin holds no unit.",
                errors={field: ["An admin holds no unit."]},
            )
        return []
    if not unit_codes:
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            "This role needs a unit.",
            errors={field: ["Required for this role."]},
        )
    if role != GRID_WORKER and len(unit_codes) != 1:
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            "This role holds exactly one unit.",
            errors={field: ["Exactly one unit for this role."]},
        )
    units = []
    for code in unit_codes:
        unit = unit_store.get(conn, code)
        if unit is None:
            raise ApiError(
                422, "VALIDATION_ERROR", f"No unit {code}.", errors={field: [f"No unit {code}."]}
            )
        if unit["level"] != UNIT_LEVEL[role]:
            raise ApiError(
                422,
                "VALIDATION_ERROR",
                f"A {role} holds {UNIT_LEVEL[role]} units.",
                errors={field: [f"{code} is a {unit['level']}, not a {UNIT_LEVEL[role]}."]},
            )
        units.append(unit)
    return units


def may_manage_users(scope):
    """Whether the caller may use the user endpoints at all (grid workers may not)."""
    return scope.role != GRID_WORKER


def check_may_manage_users(scope):
    if not may_manage_users(scope):
        raise ApiError(403, "FORBIDDEN", "Your role may not manage users.")


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


# --- the user operations both doors call (api/users.py and the console's admin pages) ------


def list_users(conn, scope, *, role=None, after=None, limit=100):
    """Users the caller manages, by username (up to `limit` rows after `after`)."""
    check_may_manage_users(scope)
    roles = manageable_roles(scope)
    if role:
        roles = [role] if roles is None or role in roles else []
    return user_store.list_users(
        conn,
        unit_paths=None if scope.is_admin else scope.paths,
        roles=roles,
        after=after,
        limit=limit,
    )


def visible_user(conn, scope, user_id):
    """A user the caller manages; 404 otherwise (no existence leak)."""
    check_may_manage_users(scope)
    user = user_store.get(conn, user_id)
    if user is None or not can_manage(scope, user, unit_store.get_many(conn, user["unit_codes"])):
        raise ApiError(404, "NOT_FOUND", "No such user.")
    return user


def create_user(conn, scope, *, username, password, role, unit_codes, display_name="", ip=None):
    """Create an account bound to its units, audited, in one write transaction."""
    check_may_manage_users(scope)
    with write_tx(conn):
        units = check_units_for_role(conn, role, unit_codes)
        check_can_assign(scope, role, units)
        if user_store.get_by_username(conn, username):
            raise ApiError(
                422,
                "VALIDATION_ERROR",
                "Username taken.",
                errors={"username": ["This username is taken."]},
            )
        user = user_store.create(
            conn,
            username=username,
            password_hash=hash_password(password),
            role=role,
            unit_codes=unit_codes,
            display_name=display_name,
        )
        audit.record(
            conn,
            actor=scope.user_id,
            action="user.create",
            target=user["id"],
            ip=ip,
            details={"username": user["username"], "role": user["role"], "unit_codes": unit_codes},
        )
    return user


def update_user(conn, scope, user_id, changes, ip=None):
    """Edit a user (display_name, role, unit_codes, active, password), audited, in one write
    transaction; new units take effect at once, a new password revokes its tokens."""
    check_may_manage_users(scope)
    with write_tx(conn):
        user = visible_user(conn, scope, user_id)
        role = changes.get("role", user["role"])
        codes = changes.get("unit_codes")
        if codes is None:
            codes = [] if role == ADMIN and "role" in changes else user["unit_codes"]
        units = check_units_for_role(conn, role, codes)
        check_can_assign(scope, role, units)
        fields = {k: changes[k] for k in ("display_name", "role") if k in changes}
        if "active" in changes:
            fields["active"] = int(changes["active"])
        if "password" in changes:
            fields["password_hash"] = hash_password(changes["password"])
            user_store.bump_token_generation(conn, user_id)
        user_store.update(conn, user_id, fields)
        if codes != user["unit_codes"]:
            user_store.set_units(conn, user_id, codes)
            user_store.touch(conn, user_id)
        audit.record(
            conn,
            actor=scope.user_id,
            action="user.update",
            target=user_id,
            ip=ip,
            details={k: v for k, v in changes.items() if k != "password"},
        )
        return user_store.get(conn, user_id)
