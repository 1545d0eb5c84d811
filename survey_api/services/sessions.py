"""Sessions: log in, refresh, log out, and who the caller is (/me).

The token mechanics (issue, rotate, revoke, the reuse window) are tokens.py's; this module
decides around them and keeps each step in one transaction with its audit entry.
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
    """The /me document: the user, its role and its units."""
    units = unit_store.get_many(conn, user["unit_codes"])
    return {
        "user": {"id": user["id"], "username": user["username"],
                 "display_name": user["display_name"]},
        "role": user["role"],
        "units": [{"code": u["code"], "name": u["name"], "level": u["level"]}
                  for u in sorted(units, key=lambda u: u["code"])],
    }


def login(conn, username, password, device_id, *, ip, refuse_roles=(), door=None):
    """A token pair and the /me document for a right password of an active user; else 401
    (counted towards the login limit, audited).

    The console refuses grid workers (refuse_roles): after a right password, 403 FORBIDDEN,
    audited, no token. door ("console") is kept in the audit details.
    """
    details = {"device_id": device_id, **({"door": door} if door else {})}
    login_limit.check(conn, username, ip)
    user = user_store.get_by_username(conn, username)
    ok = verify_password(user["password_hash"] if user else None, password)
    if not ok or not user["active"]:
        with write_tx(conn):
            login_limit.record_failure(conn, username, ip)
            audit.record(conn, actor=user["id"] if user else None, action="auth.login_failed",
                         target=username, ip=ip, details=details)
        raise ApiError(401, "INVALID_CREDENTIALS", "Wrong username or password.")
    if user["role"] in refuse_roles:
        with write_tx(conn):
            audit.record(conn, actor=user["id"], action="auth.login_refused", target=user["id"],
                         ip=ip, details=details)
        raise ApiError(403, "FORBIDDEN", f"A {user['role']} may not log in here.")
    with write_tx(conn):
        token_store.purge_expired(conn)  # logins are rare enough to carry the clean-up
        pair = tokens.issue_pair(conn, user, device_id)
        audit.record(conn, actor=user["id"], action="auth.login", target=user["id"], ip=ip,
                     details=details)
    return {**pair, "user": me(conn, user)}


def refresh(conn, user, jti):
    """Rotate the refresh token `jti` of `user`: a new pair and /me, or 401 TOKEN_REVOKED."""
    with write_tx(conn):
        pair, _retried = tokens.rotate_refresh(conn, user_store.get(conn, user["id"]), jti)
    if pair is None:
        raise ApiError(401, "TOKEN_REVOKED", "This refresh token was already used or revoked; "
                                              "log in again.")
    return {**pair, "user": me(conn, user)}


def logout(conn, user, access_payload, *, ip=None):
    """Revoke this access token and the refresh token issued with it."""
    with write_tx(conn):
        tokens.revoke_pair(conn, access_payload)
        audit.record(conn, actor=user["id"], action="auth.logout", target=user["id"], ip=ip)
