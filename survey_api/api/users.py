"""User management: admin everything; other roles lower roles inside their scope."""

from flask import request

from schemas.users import (
    UserCreateSchema,
    UserListQuery,
    UserPageSchema,
    UserPatchSchema,
    UserSchema,
)

from ..db import get_db, write_tx
from ..errors import ApiError
from ..pagination import decode_cursor, page
from ..passwords import hash_password
from ..scope import current_scope
from ..services import accounts
from ..storage import audit
from ..storage import units as unit_store
from ..storage import users as user_store
from . import blueprint

blp = blueprint("users", __name__, description="Accounts and their units")

PUBLIC = ("id", "username", "display_name", "role", "unit_codes", "active", "created_at",
          "updated_at")


def _public(user):
    return {k: user[k] for k in PUBLIC}


def _scope_for_users():
    scope = current_scope()
    if not accounts.may_manage_users(scope):
        raise ApiError(403, "FORBIDDEN", "Your role may not manage users.")
    return scope


def _unit_codes(args):
    if "unit_code" in args:
        return [args["unit_code"]]
    return args.get("unit_codes")


def _visible_user(scope, user_id):
    user = user_store.get(scope.conn, user_id)
    if user is None or not accounts.can_manage(
            scope, user, unit_store.get_many(scope.conn, user["unit_codes"])):
        raise ApiError(404, "NOT_FOUND", "No such user.")
    return user


@blp.route("/users", methods=["GET"])
@blp.arguments(UserListQuery, location="query")
@blp.response(200, UserPageSchema)
def list_users(args):
    """Users the caller manages, ordered by username."""
    scope = _scope_for_users()
    roles = accounts.manageable_roles(scope)
    if args.get("role"):
        roles = [args["role"]] if roles is None or args["role"] in roles else []
    rows = user_store.list_users(
        scope.conn, unit_paths=None if scope.is_admin else scope.paths, roles=roles,
        after=decode_cursor(args["cursor"], str), limit=args["limit"] + 1)
    return page([_public(u) for u in rows], args["limit"], key=lambda u: u["username"])


@blp.route("/users", methods=["POST"])
@blp.arguments(UserCreateSchema)
@blp.response(201, UserSchema)
def create_user(args):
    """Create an account bound to its units."""
    scope = _scope_for_users()
    conn = get_db().conn
    codes = _unit_codes(args) or []
    with write_tx(conn):
        units = accounts.check_units_for_role(conn, args["role"], codes)
        accounts.check_can_assign(scope, args["role"], units)
        if user_store.get_by_username(conn, args["username"]):
            raise ApiError(422, "VALIDATION_ERROR", "Username taken.",
                           errors={"username": ["This username is taken."]})
        user = user_store.create(conn, username=args["username"],
                                 password_hash=hash_password(args["password"]),
                                 role=args["role"], unit_codes=codes,
                                 display_name=args["display_name"])
        audit.record(conn, actor=scope.user_id, action="user.create", target=user["id"],
                     ip=request.remote_addr,
                     details={"username": user["username"], "role": user["role"],
                              "unit_codes": codes})
    return _public(user), 201, {"Location": f"/api/v1/users/{user['id']}"}


@blp.route("/users/<user_id>", methods=["GET"])
@blp.response(200, UserSchema)
def get_user(user_id):
    """One user the caller manages."""
    return _public(_visible_user(_scope_for_users(), user_id))


@blp.route("/users/<user_id>", methods=["PATCH"])
@blp.arguments(UserPatchSchema)
@blp.response(200, UserSchema)
def patch_user(args, user_id):
    """Edit a user; new units take effect at once, a new password revokes its tokens."""
    scope = _scope_for_users()
    conn = get_db().conn
    with write_tx(conn):
        user = _visible_user(scope, user_id)
        role = args.get("role", user["role"])
        codes = _unit_codes(args)
        if codes is None:
            codes = [] if role == "admin" and "role" in args else user["unit_codes"]
        units = accounts.check_units_for_role(conn, role, codes)
        accounts.check_can_assign(scope, role, units)
        fields = {k: args[k] for k in ("display_name", "role") if k in args}
        if "active" in args:
            fields["active"] = int(args["active"])
        if "password" in args:
            fields["password_hash"] = hash_password(args["password"])
            user_store.bump_token_generation(conn, user_id)
        user_store.update(conn, user_id, fields)
        if codes != user["unit_codes"]:
            user_store.set_units(conn, user_id, codes)
            user_store.touch(conn, user_id)
        user = user_store.get(conn, user_id)
        audit.record(conn, actor=scope.user_id, action="user.update", target=user_id,
                     ip=request.remote_addr,
                     details={k: v for k, v in args.items() if k != "password"})
    return _public(user)
