"""Login, token refresh and logout, and /me."""

from flask import request
from flask_jwt_extended import current_user, get_jwt

from schemas.auth import LoginSchema, MeSchema, TokenPairSchema

from ..db import get_db
from ..services import sessions
from . import blueprint

blp = blueprint("auth", __name__, description="Tokens and the current user")


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, TokenPairSchema)
@blp.doc(security=[])
def login(args):
    """Exchange a username and password for an access and a refresh token."""
    conn = get_db().conn
    user, pair = sessions.login(
        conn, args["username"], args["password"], request.remote_addr or "-", args["device_id"]
    )
    return {**pair, "user": sessions.me(conn, user)}


@blp.route("/auth/refresh", methods=["POST"])
@blp.response(200, TokenPairSchema)
@blp.doc(
    description=(
        "Send the refresh token as the Bearer token. The first use rotates it: the answer carries "
        "a new pair. A retry of the same refresh token within `REFRESH_REUSE_SECONDS` (default 60) "
        "of that rotation (a phone whose answer was lost) gets another new pair, and the pair "
        "issued at the rotation stays valid. Presented after that window, it revokes every token "
        "of the user (401 TOKEN_REVOKED)."
    )
)
def refresh():
    """Rotate the refresh token; a retry inside the reuse window gets another pair."""
    conn = get_db().conn
    user, pair = sessions.refresh(conn, current_user["id"], get_jwt())
    return {**pair, "user": sessions.me(conn, user)}


@blp.route("/auth/logout", methods=["POST"])
@blp.response(204)
def logout():
    """Revoke this access token and the refresh token issued with it."""
    sessions.logout(get_db().conn, current_user["id"], get_jwt(), request.remote_addr)
    return ""


@blp.route("/me", methods=["GET"])
@blp.response(200, MeSchema)
def me():
    """The caller: user, role and scope units."""
    return sessions.me(get_db().conn, current_user)
