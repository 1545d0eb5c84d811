"""User management: admin manages everyone; other roles lower roles inside their scope.

Who may manage whom is accounts.py's; this module reads and writes through those rules.
"""

from ..db import write_tx
from ..errors import ApiError
from ..passwords import hash_password
from ..roles import ADMIN
from ..storage import audit
from ..storage import units as unit_store
from ..storage import users as user_store
from . import accounts

PUBLIC = ("id", "username", "display_name", "role", "unit_codes", "active", "created_at",
          "updated_at")


def public(user):
    return {k: user[k] for k in PUBLIC}


def _check_may_manage(scope):
    if not accounts.may_manage_users(scope):
        raise ApiError(403, "FORBIDDEN", "Your role may not manage users.")


def _visible(scope, user_id):
    user = user_store.get(scope.conn, user_id)
    if user is None or not accounts.can_manage(
            scope, user, unit_store.get_many(scope.conn, user["unit_codes"])):
        raise ApiError(404, "NOT_FOUND", "No such user.")
    return user


def list_users(scope, *, role=None, after=None, limit=100):
    """Users the caller manages, by username."""
    _check_may_manage(scope)
    roles = accounts.manageable_roles(scope)
    if role:
        roles = [role] if roles is None or role in roles else []
    rows = user_store.list_users(scope.conn, unit_paths=None if scope.is_admin else scope.paths,
                                 roles=roles, after=after, limit=limit)
    return [public(u) for u in rows]


def get_user(scope, user_id):
    """One user the caller manages (404 otherwise)."""
    _check_may_manage(scope)
    return public(_visible(scope, user_id))


def create_user(scope, *, username, password, role, unit_codes, display_name, ip=None):
    """Create an account bound to its units."""
    _check_may_manage(scope)
    conn = scope.conn
    codes = unit_codes or []
    with write_tx(conn):
        units = accounts.check_units_for_role(conn, role, codes)
        accounts.check_can_assign(scope, role, units)
        if user_store.get_by_username(conn, username):
            raise ApiError(422, "VALIDATION_ERROR", "Username taken.",
                           errors={"username": ["This username is taken."]})
        user = user_store.create(conn, username=username, password_hash=hash_password(password),
                                 role=role, unit_codes=codes, display_name=display_name)
        audit.record(conn, actor=scope.user_id, action="user.create", target=user["id"], ip=ip,
                     details={"username": username, "role": role, "unit_codes": codes})
    return public(user)


def update_user(scope, user_id, changes, unit_codes=None, *, ip=None):
    """Edit a user: display_name, role, active, password (revokes its tokens) in changes;
    unit_codes None keeps its units (an admin keeps none). New units take effect at once."""
    _check_may_manage(scope)
    conn = scope.conn
    with write_tx(conn):
        user = _visible(scope, user_id)
        role = changes.get("role", user["role"])
        codes = unit_codes
        if codes is None:
            codes = [] if role == ADMIN and "role" in changes else user["unit_codes"]
        units = accounts.check_units_for_role(conn, role, codes)
        accounts.check_can_assign(scope, role, units)
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
        user = user_store.get(conn, user_id)
        audit.record(conn, actor=scope.user_id, action="user.update", target=user_id, ip=ip,
                     details={k: v for k, v in changes.items() if k != "password"})
    return public(user)
