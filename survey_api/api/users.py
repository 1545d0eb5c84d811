"""User management: admin everything; other roles lower roles inside their scope."""

from flask import request

from schemas.users import (
    UserCreateSchema,
    UserListQuery,
    UserPageSchema,
    UserPatchSchema,
    UserSchema,
)

from ..pagination import decode_cursor, page
from ..scope import current_scope
from ..services import accounts
from . import blueprint

blp = blueprint("users", __name__, description="Accounts and their units")

PUBLIC = (
    "id",
    "username",
    "display_name",
    "role",
    "unit_codes",
    "active",
    "created_at",
    "updated_at",
)


def _public(user):
    return {k: user[k] for k in PUBLIC}


def _unit_codes(args):
    """unit_code (one) or unit_codes (several), or None when neither was sent."""
    if "unit_code" in args:
        return [args["unit_code"]]
    return args.get("unit_codes")


@blp.route("/users", methods=["GET"])
@blp.arguments(UserListQuery, location="query")
@blp.response(200, UserPageSchema)
def list_users(args):
    """Users the caller manages, ordered by username."""
    scope = current_scope()
    rows = accounts.list_users(
        scope.conn,
        scope,
        role=args.get("role"),
        after=decode_cursor(args["cursor"], str),
        limit=args["limit"] + 1,
    )
    return page([_public(u) for u in rows], args["limit"], key=lambda u: u["username"])


@blp.route("/users", methods=["POST"])
@blp.arguments(UserCreateSchema)
@blp.response(201, UserSchema)
def create_user(args):
    """Create an account bound to its units."""
    scope = current_scope()
    user = accounts.create_user(
        scope.conn,
        scope,
        username=args["username"],
        password=args["password"],
        role=args["role"],
        unit_codes=_unit_codes(args) or [],
        display_name=args["display_name"],
        ip=request.remote_addr,
    )
    return _public(user), 201, {"Location": f"/api/v1/users/{user['id']}"}


@blp.route("/users/<user_id>", methods=["GET"])
@blp.response(200, UserSchema)
def get_user(user_id):
    """One user the caller manages."""
    scope = current_scope()
    return _public(accounts.visible_user(scope.conn, scope, user_id))


@blp.route("/users/<user_id>", methods=["PATCH"])
@blp.arguments(UserPatchSchema)
@blp.response(200, UserSchema)
def patch_user(args, user_id):
    """Edit a user; new units take effect at once, a new password revokes its tokens."""
    scope = current_scope()
    changes = {k: v for k, v in args.items() if k not in ("unit_code", "unit_codes")}
    codes = _unit_codes(args)
    if codes is not None:
        changes["unit_codes"] = codes
    user = accounts.update_user(scope.conn, scope, user_id, changes, ip=request.remote_addr)
    return _public(user)
