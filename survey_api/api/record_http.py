"""HTTP details shared by the record endpoints: bare JSON records, ETag, If-Match, ids."""

import re

from flask import current_app, json, request

from schemas.common import UUID_RE

from ..errors import ApiError

_UUID = re.compile(UUID_RE)
# ASCII digits, bare or in double quotes (Appendix B): no Unicode digits, no W/, no lone quote.
_IF_MATCH = re.compile(r'([0-9]{1,10})|"([0-9]{1,10})"')
IF_MATCH_PARAMETER = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": 'The version you last read, in ASCII digits: 3 or "3" (else 428).',
    "schema": {"type": "string", "pattern": '^([0-9]{1,10}|"[0-9]{1,10}")$'},
}


def record_response(record, status=200, *, etag=None, location=None):
    """A bare record as JSON (exactly the service's representation)."""
    resp = current_app.response_class(
        json.dumps(record), status=status, mimetype="application/json"
    )
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
        raise ApiError(
            428, "PRECONDITION_REQUIRED", "Send If-Match: <version> (the version you last read)."
        )
    m = _IF_MATCH.fullmatch(header.strip(" \t"))
    if not m:
        raise ApiError(
            428,
            "PRECONDITION_REQUIRED",
            'If-Match must be a version number in ASCII digits (3 or "3").',
        )
    return int(m.group(1) or m.group(2))
