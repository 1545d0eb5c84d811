"""JWT access/refresh tokens: issue, rotate, revoke; every token error a 401 problem.

Revocation lives in the database (it survives restarts and is shared by workers):
a revoked jti, or a token whose `gen` claim is older than the user's token_generation.

Rotation (Appendix B): a refresh token used once is `rotated`. Presented again within
REFRESH_REUSE_SECONDS of that rotation it is a phone retrying a refresh whose answer was
lost: it gets another pair and the pair issued at the rotation stays valid. Presented later,
someone else holds a copy: every token of the user is revoked.
"""

import uuid
from datetime import UTC, datetime, timedelta

from flask import current_app, g, request
from flask_jwt_extended import JWTManager, create_access_token, create_refresh_token
from flask_jwt_extended.exceptions import CSRFError

from .db import get_db, write_tx
from .errors import problem
from .storage import audit
from .storage import tokens as token_store
from .storage import users as user_store
from .timeutil import iso, now, parse_iso

jwt = JWTManager()


def init_app(app):
    # Headers first: the phone's Bearer token works as before; the console's browser sends
    # the same tokens as HttpOnly cookies, with a CSRF double-submit on every state change.
    app.config.setdefault("JWT_TOKEN_LOCATION", ["headers", "cookies"])
    app.config.setdefault("JWT_COOKIE_CSRF_PROTECT", True)
    app.config.setdefault("JWT_CSRF_CHECK_FORM", True)
    app.config.setdefault("JWT_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("JWT_COOKIE_SECURE", bool(app.config.get("COOKIE_SECURE")))
    # The console reads the CSRF token from its pages, not from a script-readable cookie.
    app.config.setdefault("JWT_CSRF_IN_COOKIES", False)
    # Only the console refreshes from a cookie.
    app.config.setdefault("JWT_REFRESH_COOKIE_PATH", "/console/")
    app.config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(seconds=app.config["ACCESS_TOKEN_SECONDS"])
    app.config["JWT_REFRESH_TOKEN_EXPIRES"] = timedelta(seconds=app.config["REFRESH_TOKEN_SECONDS"])
    jwt.init_app(app)
    app.register_error_handler(CSRFError, _csrf_failed)


def _csrf_failed(error):
    """A cookie-authenticated state change without its CSRF token: 403, nothing done."""
    return problem(403, "FORBIDDEN", "Missing or wrong CSRF token (X-CSRF-TOKEN or csrf_token).")


def _token_error(code, detail):
    return problem(401, code, detail, headers={"WWW-Authenticate": "Bearer"})


@jwt.unauthorized_loader
def _missing(reason):
    return _token_error("TOKEN_MISSING", "Send 'Authorization: Bearer <access token>'.")


@jwt.invalid_token_loader
def _invalid(reason):
    return _token_error("TOKEN_INVALID", "The token is not valid.")


@jwt.expired_token_loader
def _expired(header, payload):
    return _token_error("TOKEN_EXPIRED", "The token has expired; refresh it or log in again.")


@jwt.revoked_token_loader
def _revoked(header, payload):
    return _token_error("TOKEN_REVOKED", "The token has been revoked; log in again.")


@jwt.user_lookup_error_loader
def _user_gone(header, payload):
    return _token_error("TOKEN_REVOKED", "The account behind this token is no longer active.")


@jwt.token_verification_failed_loader
def _claims_failed(header, payload):
    return _token_error("TOKEN_INVALID", "The token's claims are not valid.")


@jwt.token_in_blocklist_loader
def _is_revoked(header, payload):
    """Load the user once per request and decide whether this token still stands."""
    conn = get_db().conn
    user = user_store.get(conn, payload.get("sub"))
    g.auth_user = user
    if user is None or not user["active"]:
        return True
    if payload.get("gen") != user["token_generation"]:
        return True
    if payload.get("type") == "refresh":
        record = token_store.get_refresh(conn, payload["jti"])
        if record is None or record["revoked_at"]:
            return True
        if record["rotated_at"] and not within_reuse_window(record):
            with write_tx(conn):
                revoke_all_after_reuse(conn, user["id"], record)
            return True
    return token_store.is_revoked(conn, payload["jti"])


def within_reuse_window(record):
    """True while a rotated refresh token may still be retried (REFRESH_REUSE_SECONDS)."""
    window = timedelta(seconds=current_app.config["REFRESH_REUSE_SECONDS"])
    return now() - parse_iso(record["rotated_at"]) <= window


def revoke_all_after_reuse(conn, user_id, record):
    """A rotated refresh token came back after its window: someone holds a copy. Revoke
    every token of the user (inside the caller's write transaction)."""
    user_store.bump_token_generation(conn, user_id)
    audit.record(
        conn,
        actor=user_id,
        action="auth.refresh_reuse",
        target=user_id,
        ip=request.remote_addr,
        details={"device_id": record["device_id"]},
    )


@jwt.user_lookup_loader
def _load_user(header, payload):
    return g.get("auth_user")


def _exp_iso(seconds):
    return iso(datetime.now(UTC) + timedelta(seconds=seconds))


def issue_pair(conn, user, device_id=None, rotated_from=None):
    """Create an access and a refresh token that know each other (logout revokes both).

    rotated_from: the refresh token this pair replaces; logging this pair out also ends that
    token's retry window, so a logged-out session cannot come back through a retry."""
    access_jti, refresh_jti = str(uuid.uuid4()), str(uuid.uuid4())
    gen = user["token_generation"]
    claims = {"jti": access_jti, "gen": gen, "rjti": refresh_jti}
    if rotated_from:
        claims["pjti"] = rotated_from
    access = create_access_token(identity=user["id"], additional_claims=claims)
    refresh = create_refresh_token(
        identity=user["id"], additional_claims={"jti": refresh_jti, "gen": gen, "ajti": access_jti}
    )
    token_store.record_refresh(
        conn,
        jti=refresh_jti,
        user_id=user["id"],
        access_jti=access_jti,
        device_id=device_id,
        expires_at=_exp_iso(current_app.config["REFRESH_TOKEN_SECONDS"]),
    )
    return {
        "access_token": access,
        "refresh_token": refresh,
        "expires_in": current_app.config["ACCESS_TOKEN_SECONDS"],
    }


def revoke_pair(conn, access_payload):
    """Logout: the access token and the refresh token issued with it."""
    access_expiry = iso(datetime.fromtimestamp(access_payload["exp"], UTC))
    token_store.revoke_jti(conn, access_payload["jti"], access_expiry)
    rjti = access_payload.get("rjti")
    if rjti:
        token_store.revoke_jti(conn, rjti, _exp_iso(current_app.config["REFRESH_TOKEN_SECONDS"]))
        token_store.revoke_refresh(conn, rjti)
    if access_payload.get("pjti"):
        token_store.revoke_refresh(conn, access_payload["pjti"])


def rotate_refresh(conn, user, jti):
    """Use a refresh token (inside the caller's write transaction).

    Returns (pair, retried): a first use rotates it; a retry within REFRESH_REUSE_SECONDS of
    that rotation gets another pair and leaves the first one alone. Returns (None, False) when
    the token may not be used: revoked meanwhile (logout), or reused after its window (then
    every token of the user is revoked)."""
    record = token_store.get_refresh(conn, jti)
    if record is None or record["revoked_at"]:
        return None, False
    retried = not token_store.rotate(conn, jti)
    if retried:
        record = token_store.get_refresh(conn, jti)
        if not within_reuse_window(record):
            revoke_all_after_reuse(conn, user["id"], record)
            return None, False
    pair = issue_pair(conn, user, record["device_id"], rotated_from=jti)
    audit.record(
        conn,
        actor=user["id"],
        action="auth.refresh",
        target=user["id"],
        ip=request.remote_addr,
        details={"device_id": record["device_id"], "retry": retried},
    )
    return pair, retried
