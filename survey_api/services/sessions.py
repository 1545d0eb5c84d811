"""Logging in, refreshing and logging out: one set of rules for the API and the console.

Both doors call these functions inside the request: the same login limit, the same tokens,
the same revocation and the same audit entries. They raise ApiError (401 INVALID_CREDENTIALS,
429 RATE_LIMITED, 401 TOKEN_REVOKED); the caller turns the error into JSON or a page.
"""

from .. import tokens
from ..db import write_tx
from ..errors import ApiError
from ..passwords import verify_password
from ..storage import audit
from ..storage import tokens as token_store
from ..storage import units as unit_store
from ..storage import users as user_store
from . import login_limit


def me(conn, user):
    """The /me document: the user, its role and its units (login and refresh answer it too)."""
    units = unit_store.get_many(conn, user["unit_codes"])
    return {
        "user": {
            "id": user["id"],
            "username": user["username"],
            "display_name": user["display_name"],
        },
        "role": user["role"],
        "units": [
            {"code": u["code"], "name": u["name"], "level": u["level"]}
            for u in sorted(units, key=lambda u: u["code"])
        ],
    }


def login(conn, username, password, ip, device_id=None, *, refuse_roles=(), door="api"):
    """Check the password (and the limit); returns (user, token pair).

    A user whose role is in refuse_roles gets 403 FORBIDDEN after a correct password (the
    console refuses grid workers); the refusal is audited and issues no token.
    """
    login_limit.check(conn, username, ip)
    user = user_store.get_by_username(conn, username)
    ok = verify_password(user["password_hash"] if user else None, password)
    details = {"device_id": device_id} if door == "api" else {"device_id": device_id, "door": door}
    if not ok or not user["active"]:
        with write_tx(conn):
            login_limit.record_failure(conn, username, ip)
            audit.record(
                conn,
                actor=user["id"] if user else None,
                action="auth.login_failed",
                target=username,
                ip=ip,
                details=details,
            )
        raise ApiError(401, "INVALID_CREDENTIALS", "Wrong username or password.")
    if user["role"] in refuse_roles:
        with write_tx(conn):
            audit.record(
                conn,
                actor=user["id"],
                action="auth.login_refused",
                target=user["id"],
                ip=ip,
                details=details,
            )
        raise ApiError(403, "FORBIDDEN", f"A {user['role']} may not log in here.")
    with write_tx(conn):
        token_store.purge_expired(conn)  # logins are rare enough to carry the clean-up
        pair = tokens.issue_pair(conn, user, device_id)
        audit.record(
            conn, actor=user["id"], action="auth.login", target=user["id"], ip=ip, details=details
        )
    return user, pair


def refresh(conn, user_id, refresh_payload):
    """Use a verified refresh token (tokens.rotate_refresh: rotation, the retry window, reuse
    revoking everything); returns (user, new pair), else 401 TOKEN_REVOKED."""
    with write_tx(conn):
        user = user_store.get(conn, user_id)
        pair, _retried = tokens.rotate_refresh(conn, user, refresh_payload["jti"])
    if pair is None:
        raise ApiError(
            401, "TOKEN_REVOKED", "This refresh token was already used or revoked; log in again."
        )
    return user, pair


def logout(conn, user_id, access_payload, ip):
    """Revoke this access token and the refresh token issued with it."""
    with write_tx(conn):
        tokens.revoke_pair(conn, access_payload)
        audit.record(conn, actor=user_id, action="auth.logout", target=user_id, ip=ip)
