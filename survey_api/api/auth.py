"""Login, token refresh and logout, and /me."""

from flask import request
from flask_jwt_extended import current_user, get_jwt

from schemas.auth import LoginSchema, MeSchema, TokenPairSchema

from .. import tokens
from ..db import get_db, write_tx
from ..errors import ApiError
from ..passwords import verify_password
from ..services import login_limit
from ..storage import audit
from ..storage import tokens as token_store
from ..storage import units as unit_store
from ..storage import users as user_store
from . import blueprint

blp = blueprint("auth", __name__, description="Tokens and the current user")


def me_body(conn, user):
    """The /me document: the user, its role and its units."""
    units = unit_store.get_many(conn, user["unit_codes"])
    return {
        "user": {"id": user["id"], "username": user["username"],
                 "display_name": user["display_name"]},
        "role": user["role"],
        "units": [{"code": u["code"], "name": u["name"], "level": u["level"]}
                  for u in sorted(units, key=lambda u: u["code"])],
    }


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, TokenPairSchema)
@blp.doc(security=[])
def login(args):
    """Exchange a username and password for an access and a refresh token."""
    conn = get_db().conn
    ip = request.remote_addr or "-"
    username = args["username"]
    login_limit.check(conn, username, ip)
    user = user_store.get_by_username(conn, username)
    ok = verify_password(user["password_hash"] if user else None, args["password"])
    if not ok or not user["active"]:
        with write_tx(conn):
            login_limit.record_failure(conn, username, ip)
            audit.record(conn, actor=user["id"] if user else None, action="auth.login_failed",
                         target=username, ip=ip, details={"device_id": args["device_id"]})
        raise ApiError(401, "INVALID_CREDENTIALS", "Wrong username or password.")
    with write_tx(conn):
        token_store.purge_expired(conn)  # logins are rare enough to carry the clean-up
        pair = tokens.issue_pair(conn, user, args["device_id"])
        audit.record(conn, actor=user["id"], action="auth.login", target=user["id"], ip=ip,
                     details={"device_id": args["device_id"]})
    return {**pair, "user": me_body(conn, user)}


@blp.route("/auth/refresh", methods=["POST"])
@blp.response(200, TokenPairSchema)
@blp.doc(description=(
    "Send the refresh token as the Bearer token. The first use rotates it: the answer carries "
    "a new pair. A retry of the same refresh token within `REFRESH_REUSE_SECONDS` (default 60) "
    "of that rotation (a phone whose answer was lost) gets another new pair, and the pair "
    "issued at the rotation stays valid. Presented after that window, it revokes every token "
    "of the user (401 TOKEN_REVOKED)."))
def refresh():
    """Rotate the refresh token; a retry inside the reuse window gets another pair."""
    conn = get_db().conn
    with write_tx(conn):
        user = user_store.get(conn, current_user["id"])
        pair, _retried = tokens.rotate_refresh(conn, user, get_jwt()["jti"])
    if pair is None:
        raise ApiError(401, "TOKEN_REVOKED", "This refresh token was already used or revoked; "
                                              "log in again.")
    return {**pair, "user": me_body(conn, current_user)}


@blp.route("/auth/logout", methods=["POST"])
@blp.response(204)
def logout():
    """Revoke this access token and the refresh token issued with it."""
    conn = get_db().conn
    with write_tx(conn):
        tokens.revoke_pair(conn, get_jwt())
        audit.record(conn, actor=current_user["id"], action="auth.logout",
                     target=current_user["id"], ip=request.remote_addr)
    return ""


@blp.route("/me", methods=["GET"])
@blp.response(200, MeSchema)
def me():
    """The caller: user, role and scope units."""
    return me_body(get_db().conn, current_user)
