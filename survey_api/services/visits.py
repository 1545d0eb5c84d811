"""Visit rules: append-only, written by the visitor in the token, in a visible household."""

from schemas.visits import VisitCreateSchema

from ..db import write_tx
from ..errors import ApiError
from ..pagination import page
from ..storage import audit
from ..storage import households as household_store
from ..storage import visits as store
from . import creates

_CREATE = VisitCreateSchema()


def visible(scope, row):
    return row is not None and scope.holds_grid(row["grid_code"])


def present(conn, row):
    return store.rows_to_api(conn, [row])[0]


def get_visible(conn, scope, visit_id):
    row = store.get_row(conn, visit_id)
    if not visible(scope, row):
        raise ApiError(404, "NOT_FOUND", "No such visit.")
    return row


def create(conn, scope, record_id, data, at_client=None, *, represent=True, batch=None):
    """Record a visit; raises creates.Duplicate for a repeated identical create.

    batch (a push's creates.Batch) answers the id and household lookups it already knows.
    """
    visit_id = creates.record_id_for(record_id, data)
    digest = creates.create_hash(data)
    if batch is None or batch.may_exist("visits", visit_id):
        existing = store.get_row(conn, visit_id)
        creates.check_existing(existing, digest, visible(scope, existing),
                               lambda r: present(conn, r))
    fields = creates.load(_CREATE, data)
    fields["visited_at"] = data["visited_at"]  # kept as sent (validated aware above)
    household_id = fields["household_id"].lower()
    if batch is None:
        household = household_store.get_brief(conn, household_id)
        holds = household is not None and scope.holds_grid(household["grid_code"])
    else:
        household = batch.household(household_id)
        holds = household is not None and batch.holds_grid(household["grid_code"])
    if not holds:
        raise ApiError(404, "NOT_FOUND", "No such household.",
                       errors={"household_id": ["No such household."]})
    if household["deleted"]:
        raise ApiError(410, "GONE", "The household was deleted.",
                       errors={"household_id": ["The household was deleted."]})
    fields["household_id"] = household["id"]
    row = store.insert(conn, visit_id, fields, grid_code=household["grid_code"],
                       visitor_id=scope.user_id, create_hash=digest,
                       created_at_client=creates.at_client_iso(at_client))
    if batch is not None:
        batch.note_created("visits", visit_id, {"grid_code": household["grid_code"],
                                                "household_id": household["id"]})
    return present(conn, row) if represent else row


# --- the API's entrances -------------------------------------------------------------------

def list_page(conn, scope, *, grid=None, household=None, lo=None, hi=None, after=None, limit=100):
    """A page of the caller's visits, newest visited_at first, under the unit `grid` when given."""
    unit = scope.unit_for_list(grid) if grid else None
    scope_sql, params = scope.grid_filter("grid_code", under=unit)
    rows = store.list_rows(conn, scope_sql=scope_sql, scope_params=params,
                           household=(household or "").lower() or None, lo=lo, hi=hi,
                           after=after, limit=limit + 1)
    items = store.rows_to_api(conn, rows)
    return page(items, limit, key=lambda v: [store.iso_utc(v["visited_at"]), v["id"]])


def add(conn, scope, data, *, ip=None):
    """POST /visits (visitor = the caller): (record, created); a repeated identical create gives
    the first back."""
    try:
        with write_tx(conn):
            record = create(conn, scope, None, data)
            audit.record(conn, actor=scope.user_id, action="visit.create", target=record["id"],
                         ip=ip)
    except creates.Duplicate as d:
        return d.record, False
    return record, True


def read(conn, scope, visit_id):
    """One visit of the caller's scope."""
    return present(conn, get_visible(conn, scope, visit_id))
