"""What every create shares, offline or not: the id, the create hash, the loaded fields, and
the duplicate rule.

A phone may send the same create twice (a lost response, a replayed batch). The record keeps
the sha256 of the data that created it; the same id with the same data is a duplicate, the
same id with other data is 409 ID_REUSED.

A create runs in two steps. `new_record` does all that needs no database (the id, the hash,
the schema load): a push runs it for every item before it takes the write lock. The
service's `check_create` does the rest inside the write transaction, starting with
`check_new` (the duplicate rule), and returns the fields to insert.
"""

import hashlib
import json
import uuid
import weakref

from marshmallow import ValidationError

from schemas.fastload import loader

from ..errors import ApiError, validation_error
from ..storage import units as unit_store


class Duplicate(Exception):
    """The create was already applied with the same data; carries the stored record."""

    def __init__(self, record):
        super().__init__("duplicate create")
        self.record = record


def load(schema, data):
    """Validate client data; 422 with field errors relative to data (schemas/fastload.py:
    schema.load with less machinery around the fields, same result)."""
    if not isinstance(data, dict):
        raise validation_error({"_schema": ["Must be an object."]})
    try:
        return loader(schema).load(data)
    except ValidationError as e:
        raise validation_error(e.messages) from None


# One encoder, built once: json.dumps with options builds a new JSONEncoder on every call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def create_hash(data):
    """sha256 of the create's data in canonical JSON (the id left out)."""
    if isinstance(data, dict) and "id" in data:
        data = {k: v for k, v in data.items() if k != "id"}
    return hashlib.sha256(_CANONICAL.encode(data).encode()).hexdigest()


def record_id_for(record_id, data):
    """The id to create: the item's, else data['id'], else a new one (ids must agree)."""
    data_id = data.get("id") if isinstance(data, dict) else None
    if record_id and data_id and str(data_id).lower() != record_id.lower():
        raise validation_error({"id": ["Differs from the record id."]})
    return (record_id or data_id or str(uuid.uuid4())).lower()


class NewRecord:
    """A create as far as it can be judged without the database.

    id: the record id (None when the ids disagree: then error says so); digest: the create
    hash; fields: the loaded data (None when it is invalid: then error holds the 422, raised
    only after the duplicate check, so a resent create of a stored record stays a duplicate);
    at_client: ISO text or None; row: the columns of its insert that follow from the create
    alone, when a push built them before its write lock (services/push_batch.new_row).
    """

    __slots__ = ("id", "digest", "fields", "error", "at_client", "row")

    def __init__(self, record_id, digest, fields, error, at_client):
        self.id, self.digest, self.fields = record_id, digest, fields
        self.error, self.at_client = error, at_client
        self.row = None


def new_record(schema, record_id, data, at_client=None, normalise=None):
    """Id, create hash and loaded fields of a create (normalise(fields, data) adjusts them)."""
    at_client = at_client_iso(at_client)
    try:
        record_id = record_id_for(record_id, data)
    except ApiError as e:
        return NewRecord(None, None, None, e, at_client)
    digest = create_hash(data)
    try:
        fields = load(schema, data)
    except ApiError as e:
        return NewRecord(record_id, digest, None, e, at_client)
    fields.pop("id", None)
    if normalise is not None:
        fields = normalise(fields, data)
    return NewRecord(record_id, digest, fields, None, at_client)


def check_new(conn, scope, new, lookups, table, get_row, present):
    """The preamble of every create: a stored id is a Duplicate or 409 ID_REUSED; then invalid
    data is its 422. Returns the loaded fields."""
    if new.id is None:
        raise new.error
    if lookups.may_exist(table, new.id):
        row = get_row(conn, new.id)
        check_existing(
            row, new.digest, row is not None and scope.holds_grid(row["grid_code"]), present
        )
    if new.error is not None:
        raise new.error
    return new.fields


def check_existing(row, digest, visible, represent):
    """A create of an id that exists: Duplicate when the data matches, else 409 ID_REUSED."""
    if row is None:
        return
    if not visible:
        raise ApiError(409, "ID_REUSED", "This id belongs to another record.", current=None)
    if row["create_hash"] == digest:
        raise Duplicate(represent(row))
    raise ApiError(409, "ID_REUSED", "This id was created with other data.", current=represent(row))


class Lookups:
    """The lookups a create makes, answered by the database each time (one record at a time).

    A push uses services/push_batch.PushBatch instead, which answers the same questions for
    all its items from one round of queries.
    """

    def __init__(self, conn, scope):
        self.conn, self.scope = conn, scope

    def may_exist(self, table, record_id):
        return True

    def holds_grid(self, grid_code):
        return self.scope.holds_grid(grid_code)

    def household(self, household_id):
        """{id, grid_code, deleted} of a household, or None."""
        from ..storage import households as household_store

        return household_store.get_brief(self.conn, household_id)

    def visit(self, visit_id):
        """{grid_code, household_id} of a visit, or None."""
        from ..storage import visits as visit_store

        return visit_store.get_row(self.conn, visit_id)


# Per-request memo of grid lookups, keyed by the scope object (one per request or push).
_GRIDS = weakref.WeakKeyDictionary()


def remember_grids(conn, scope, grid_codes):
    """Look up many grids in one query for writable_grid (a push names them all up front)."""
    memo = _GRIDS.setdefault(scope, {})
    wanted = [c for c in dict.fromkeys(grid_codes) if c not in memo]
    found = {unit["code"]: unit for unit in unit_store.get_many(conn, wanted)}
    memo.update((code, found.get(code)) for code in wanted)


# Per-request memo of the grids found writable (a push's creates name the same few grids).
_WRITABLE = weakref.WeakKeyDictionary()


def writable_grid(conn, scope, grid_code):
    """A grid named by a write: 422 unless it is a grid, 403 OUT_OF_SCOPE outside scope."""
    writable = _WRITABLE.setdefault(scope, {})
    if grid_code in writable:
        return writable[grid_code]
    memo = _GRIDS.setdefault(scope, {})
    if grid_code not in memo:
        memo[grid_code] = unit_store.get(conn, grid_code)
    unit = memo[grid_code]
    if unit is None or unit["level"] != "grid":
        raise validation_error({"grid_code": ["No such grid."]})
    if not scope.holds(unit):
        raise ApiError(403, "OUT_OF_SCOPE", f"Grid {grid_code} is outside your scope.")
    writable[grid_code] = unit
    return unit


def at_client_iso(at_client):
    if at_client is None:
        return None
    return at_client if isinstance(at_client, str) else at_client.isoformat()
