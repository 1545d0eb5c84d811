"""What every offline create shares: schema loading, the canonical create hash, duplicates.

A phone may send the same create twice (a lost response, a replayed batch). The record keeps
the sha256 of the data that created it; the same id with the same data is a duplicate, the
same id with other data is 409 ID_REUSED.
"""

import hashlib
import json
import uuid
import weakref

from marshmallow import ValidationError

from ..errors import ApiError, validation_error
from ..storage import units as unit_store


class Duplicate(Exception):
    """The create was already applied with the same data; carries the stored record."""

    def __init__(self, record):
        super().__init__("duplicate create")
        self.record = record


def load(schema, data):
    """Validate client data; 422 with field errors relative to data."""
    if not isinstance(data, dict):
        raise validation_error({"_schema": ["Must be an object."]})
    try:
        return schema.load(data)
    except ValidationError as e:
        raise validation_error(e.messages) from None


def create_hash(data):
    """sha256 of the create's data in canonical JSON (the id left out)."""
    body = {k: v for k, v in data.items() if k != "id"} if isinstance(data, dict) else data
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def record_id_for(record_id, data):
    """The id to create: the item's, else data['id'], else a new one (ids must agree)."""
    data_id = data.get("id") if isinstance(data, dict) else None
    if record_id and data_id and str(data_id).lower() != record_id.lower():
        raise validation_error({"id": ["Differs from the record id."]})
    return (record_id or data_id or str(uuid.uuid4())).lower()


def check_existing(row, digest, visible, represent):
    """A create of an id that exists: Duplicate when the data matches, else 409 ID_REUSED."""
    if row is None:
        return
    if not visible:
        raise ApiError(409, "ID_REUSED", "This id belongs to another record.", current=None)
    if row["create_hash"] == digest:
        raise Duplicate(represent(row))
    raise ApiError(409, "ID_REUSED", "This id was created with other data.",
                   current=represent(row))


# Per-request memo of grid lookups, keyed by the scope object (one per request or push).
_GRIDS = weakref.WeakKeyDictionary()


def writable_grid(conn, scope, grid_code):
    """A grid named by a write: 422 unless it is a grid, 403 OUT_OF_SCOPE outside scope."""
    memo = _GRIDS.setdefault(scope, {})
    if grid_code not in memo:
        memo[grid_code] = unit_store.get(conn, grid_code)
    unit = memo[grid_code]
    if unit is None or unit["level"] != "grid":
        raise validation_error({"grid_code": ["No such grid."]})
    if not scope.holds(unit):
        raise ApiError(403, "OUT_OF_SCOPE", f"Grid {grid_code} is outside your scope.")
    return unit


def at_client_iso(at_client):
    if at_client is None:
        return None
    return at_client if isinstance(at_client, str) else at_client.isoformat()
