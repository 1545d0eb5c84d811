"""RFC 9457 problem+json: one shape for every error the API gives."""

import logging
import sqlite3

from flask import Response, json, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

TITLES = {
    "INVALID_CREDENTIALS": "Invalid credentials",
    "TOKEN_MISSING": "Authentication required",
    "TOKEN_INVALID": "Invalid token",
    "TOKEN_EXPIRED": "Token expired",
    "TOKEN_REVOKED": "Token revoked",
    "FORBIDDEN": "Forbidden",
    "OUT_OF_SCOPE": "Unit outside your scope",
    "ACTION_FORBIDDEN": "Action not allowed for your role",
    "UNMASK_FORBIDDEN": "Unmasking not allowed",
    "NOT_FOUND": "Not found",
    "GONE": "Gone",
    "METHOD_NOT_ALLOWED": "Method not allowed",
    "PAYLOAD_TOO_LARGE": "Payload too large",
    "TOO_MANY_ITEMS": "Too many items",
    "UNSUPPORTED_MEDIA_TYPE": "Unsupported media type",
    "MALFORMED_BODY": "Malformed request body",
    "VALIDATION_ERROR": "Validation failed",
    "PRECONDITION_REQUIRED": "Precondition required",
    "STALE_VERSION": "Stale version",
    "INVALID_TRANSITION": "Invalid transition",
    "IDEMPOTENCY_KEY_MISSING": "Idempotency-Key missing or invalid",
    "IDEMPOTENCY_KEY_REUSED": "Idempotency-Key reused with another body",
    "IDEMPOTENCY_KEY_IN_FLIGHT": "Idempotency-Key in flight",
    "CURSOR_EXPIRED": "Cursor expired",
    "HASH_MISMATCH": "Hash mismatch",
    "RATE_LIMITED": "Too many requests",
    "SERVICE_UNAVAILABLE": "Service unavailable",
    "INTERNAL_ERROR": "Internal server error",
}

# Default code for an HTTP status raised without one of ours (werkzeug, flask-smorest).
STATUS_CODES = {
    400: "MALFORMED_BODY",
    401: "TOKEN_MISSING",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "INVALID_TRANSITION",
    410: "GONE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    428: "PRECONDITION_REQUIRED",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


def type_uri(code):
    """A URI reference unique per code."""
    return "urn:survey-api:problem:" + code.lower().replace("_", "-")


class ApiError(Exception):
    """An error with a stable code; raised anywhere, rendered as problem+json."""

    def __init__(self, status, code, detail=None, *, errors=None, headers=None, **extra):
        super().__init__(detail or TITLES.get(code, code))
        self.status = status
        self.code = code
        self.detail = detail or TITLES.get(code, code)
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra


def problem(status, code, detail=None, *, errors=None, headers=None, **extra):
    """Build a problem+json response."""
    body = {
        "type": type_uri(code),
        "title": TITLES.get(code, code),
        "status": status,
        "detail": detail or TITLES.get(code, code),
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    resp = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def flatten_errors(messages, prefix=""):
    """marshmallow's nested error dicts → {"items.3.data.members": [msgs]}."""
    flat = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                flat.update(flatten_errors(value, path))
            elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                flat[path] = value
            elif isinstance(value, list):
                for v in value:
                    if isinstance(v, dict):
                        flat.update(flatten_errors(v, path))
                    else:
                        flat.setdefault(path, []).append(str(v))
            else:
                flat[path] = [str(value)]
    elif isinstance(messages, list):
        flat[prefix or "_schema"] = [str(m) for m in messages]
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def validation_error(messages, detail="The request did not validate."):
    return ApiError(422, "VALIDATION_ERROR", detail, errors=flatten_errors(messages))


def _handle_api_error(e):
    return problem(e.status, e.code, e.detail, errors=e.errors, headers=e.headers, **e.extra)


def _handle_http_exception(e):
    status = e.code or 500
    code = STATUS_CODES.get(status, "INTERNAL_ERROR" if status >= 500 else "MALFORMED_BODY")
    data = getattr(e, "data", None) or {}
    headers = {}
    if status == 405:
        allow = [h for h in e.get_headers() if h[0].lower() == "allow"]
        if allow:
            headers["Allow"] = allow[0][1]
    headers.update(data.get("headers") or {})
    messages = data.get("messages")
    if status == 422 and messages is not None:
        # webargs nests by location ({"json": {...}, "query": {...}}); drop that level.
        merged = {}
        for location_messages in messages.values():
            merged.update(
                location_messages
                if isinstance(location_messages, dict)
                else {"_schema": location_messages}
            )
        return problem(
            422,
            "VALIDATION_ERROR",
            "The request did not validate.",
            errors=flatten_errors(merged),
            headers=headers,
        )
    detail = e.description if status < 500 else "The server failed to handle the request."
    return problem(status, code, detail, headers=headers)


def _handle_unexpected(e):
    if isinstance(e, sqlite3.OperationalError) and "locked" in str(e):
        log.warning("database busy on %s %s", request.method, request.path)
        return problem(
            503,
            "SERVICE_UNAVAILABLE",
            "The database is busy; retry shortly.",
            headers={"Retry-After": "1"},
        )
    log.exception("unhandled error on %s %s", request.method, request.path)
    return problem(500, "INTERNAL_ERROR", "The server failed to handle the request.")


def register(app):
    """Install the handlers (after flask-smorest, so ours win)."""
    app.register_error_handler(ApiError, _handle_api_error)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(Exception, _handle_unexpected)
