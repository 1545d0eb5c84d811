"""HTTP details shared by the record endpoints: bare JSON records, ETag, If-Match, ids."""

import re

from flask import current_app, json, request

from schemas.common import UUID_RE

from ..errors import ApiError
from ..storage import audit

_UUID = re.compile(UUID_RE)
_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')


def record_response(record, status=200, *, etag=None, location=None):
    """A bare record as JSON (exactly the service's representation)."""
    resp = current_app.response_class(json.dumps(record), status=status,
                                      mimetype="application/json")
    if etag is not None:
        resp.headers["ETag"] = f'"{etag}"'
    if location:
        resp.headers["Location"] = location
    return resp


def path_id(value):
    """A record id from the path: a malformed one is 404, like an unknown one."""
    if not _UUID.fullmatch(value or ""):
        raise ApiError(404, "NOT_FOUND", "No such record.")
    return value.lower()


def if_match_version():
    """The version named by If-Match (`3` or `"3"`): 428 without one."""
    header = request.headers.get("If-Match")
    if header is None:
        raise ApiError(428, "PRECONDITION_REQUIRED",
                       "Send If-Match: <version> (the version you last read).")
    m = _IF_MATCH.match(header)
    if not m:
        raise ApiError(428, "PRECONDITION_REQUIRED", "If-Match must be a version number.")
    return int(m.group(1))


def audit_unmask(conn, scope, target, details):
    audit.record(conn, actor=scope.user_id, action="unmask", target=target,
                 ip=request.remote_addr, details=details)
