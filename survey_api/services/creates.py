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


class Batch:
    """What one push knows up front, so its items skip lookups whose answer is already known.

    Built inside the push's write transaction (BEGIN IMMEDIATE), so nothing else writes while
    it is in use. It answers three questions with at most a few queries for the whole push:

    - may_exist(table, id): False for a create's id that no row had when the push started and
      no item of this push has created since (then the duplicate check needs no query).
    - household(id): the (id, grid_code, deleted) brief of a household referenced by a visit
      or problem; households named by a household item of this push are always read live.
    - visit(id): grid_code and household_id of a visit this push stored (for a problem that
      names it); other visits are read live.

    Items record what they wrote with note_*; the notes count only once the item's savepoint
    is released (keep()), and are dropped when it rolls back (drop()).
    """

    TABLES = {"household": "households", "visit": "visits", "problem": "problems"}

    def __init__(self, conn, scope, items):
        self.conn = conn
        self.scope = scope
        grids = scope.grids()
        self._grids = None if grids is None else set(grids)
        candidates = {table: set() for table in self.TABLES.values()}
        household_refs, household_items = set(), set()
        for item in items:
            table = self.TABLES.get(item.get("entity"))
            data = item.get("data") if isinstance(item.get("data"), dict) else {}
            ids = {str(x).lower() for x in (item.get("id"), data.get("id")) if x}
            if item.get("entity") == "household":
                household_items |= ids
            if table and item.get("op") == "create":
                candidates[table] |= ids
            ref = data.get("household_id")
            if isinstance(ref, str) and ref:
                household_refs.add(ref.lower())
        self._absent = {}
        for table, ids in candidates.items():
            self._absent[table] = ids - set(self._select(f"SELECT id FROM {table}", ids))
        self._households = {}
        wanted = household_refs - household_items
        for row in self._select("SELECT id, grid_code, deleted FROM households", wanted,
                                columns=True):
            self._households[row[0]] = {"id": row[0], "grid_code": row[1], "deleted": row[2]}
        self._households.update((hid, None) for hid in wanted - set(self._households))
        self._visits = {}
        self._pending = []

    def _select(self, sql, ids, columns=False):
        ids = list(ids)
        out = []
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            rows = self.conn.execute(f"{sql} WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            out.extend(rows if columns else (r[0] for r in rows))
        return out

    def holds_grid(self, grid_code):
        return self._grids is None or grid_code in self._grids

    def may_exist(self, table, record_id):
        return record_id not in self._absent[table]

    def household(self, household_id):
        """The household brief, or None when there is no such household."""
        if household_id in self._households:
            return self._households[household_id]
        from ..storage import households as household_store

        return household_store.get_brief(self.conn, household_id)

    def visit(self, visit_id):
        """{grid_code, household_id} of a visit, or None when there is no such visit."""
        if visit_id in self._visits:
            return self._visits[visit_id]
        from ..storage import visits as visit_store

        return visit_store.get_row(self.conn, visit_id)

    def note_created(self, table, record_id, visit=None):
        """An item inserted record_id (visit: its grid_code and household_id)."""
        self._absent[table].discard(record_id)  # at once: a conservative answer is still right
        if visit is not None:
            self._pending.append((record_id, visit))

    def keep(self):
        for visit_id, visit in self._pending:
            self._visits[visit_id] = visit
        self._pending.clear()

    def drop(self):
        self._pending.clear()
