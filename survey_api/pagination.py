"""Opaque keyset cursors for every list: base64url JSON of the last row's sort key."""

import base64
import json

from .errors import ApiError


def encode_cursor(key):
    raw = json.dumps(key, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor):
    """The sort key a cursor carries, or None for no cursor; 422 when it is not ours."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return json.loads(raw)
    except ValueError:
        raise ApiError(422, "VALIDATION_ERROR", "The cursor is not valid.",
                       errors={"cursor": ["Not a valid cursor."]}) from None


def page(rows, limit, key):
    """Given up to limit+1 rows, the page body {items, next_cursor}."""
    items = rows[:limit]
    next_cursor = encode_cursor(key(items[-1])) if len(rows) > limit else None
    return {"items": items, "next_cursor": next_cursor}
