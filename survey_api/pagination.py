"""Opaque keyset cursors for every list: base64url JSON of the last row's sort key."""

import base64
import json

from .errors import ApiError


def encode_cursor(key):
    raw = json.dumps(key, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor, shape=None):
    """The sort key a cursor carries, or None for no cursor; 422 when it is not ours.

    shape: the key's type (`str`), or a tuple of types for a list key (`(str, str)`);
    a decodable cursor of another shape is not ours either.
    """
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except ValueError:
        key = _INVALID
    if key is _INVALID or (shape is not None and not _has_shape(key, shape)):
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            "The cursor is not valid.",
            errors={"cursor": ["Not a valid cursor."]},
        )
    return key


_INVALID = object()


def _has_shape(key, shape):
    if isinstance(shape, tuple):
        return (
            isinstance(key, list)
            and len(key) == len(shape)
            and all(_has_shape(k, t) for k, t in zip(key, shape, strict=True))
        )
    return type(key) is shape


def page(rows, limit, key):
    """Given up to limit+1 rows, the page body {items, next_cursor}."""
    items = rows[:limit]
    next_cursor = encode_cursor(key(items[-1])) if len(rows) > limit else None
    return {"items": items, "next_cursor": next_cursor}
