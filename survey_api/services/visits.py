"""Visit rules: append-only, written by the visitor in the token, in a visible household."""

from schemas.visits import VisitCreateSchema

from ..db import write_tx
from ..errors import ApiError
from ..pagination import page
from ..storage import audit
from ..storage import visits as store
from . import creates
from .records import visible_row

_CREATE = VisitCreateSchema()


def present(conn, row):
    return store.rows_to_api(conn, [row])[0]


def get_visible(conn, scope, visit_id):
    """A visit the caller may see: 404 otherwise."""
    return visible_row(scope, store.get_row(conn, visit_id), "visit")


def _keep_visited_at(fields, data):
    fields["visited_at"] = data["visited_at"]  # kept as sent (validated aware)
    fields["household_id"] = fields["household_id"].lower()
    return fields


def new_record(record_id, data, at_client=None):
    """A create's id, hash and loaded fields: no database (a push runs it before its lock)."""
    return creates.new_record(_CREATE, record_id, data, at_client, _keep_visited_at)


def check_create(conn, scope, new, lookups):
    """Every rule of a visit create that reads the database: (fields to insert, household)."""
    fields = creates.check_new(
        conn, scope, new, lookups, "visits", store.get_row, lambda r: present(conn, r)
    )
    household = lookups.household(fields["household_id"])
    if household is None or not lookups.holds_grid(household["grid_code"]):
        raise ApiError(
            404, "NOT_FOUND", "No such household.", errors={"household_id": ["No such household."]}
        )
    if household["deleted"]:
        raise ApiError(
            410,
            "GONE",
            "The household was deleted.",
            errors={"household_id": ["The household was deleted."]},
        )
    return dict(fields, household_id=household["id"]), household


def create(conn, scope, record_id, data, at_client=None, *, represent=True):
    """Record a visit; raises creates.Duplicate for a repeated identical create."""
    new = new_record(record_id, data, at_client)
    fields, household = check_create(conn, scope, new, creates.Lookups(conn, scope))
    row = store.insert(
        conn,
        new.id,
        fields,
        grid_code=household["grid_code"],
        visitor_id=scope.user_id,
        create_hash=new.digest,
        created_at_client=new.at_client,
    )
    return present(conn, row) if represent else row


# --- the API's entrances -------------------------------------------------------------------


def list_page(conn, scope, *, grid=None, household=None, lo=None, hi=None, after=None, limit=100):
    """A page of the caller's visits, newest visited_at first, under the unit `grid` when given."""
    unit = scope.unit_for_list(grid) if grid else None
    scope_sql, params = scope.grid_filter("grid_code", under=unit)
    rows = store.list_rows(
        conn,
        scope_sql=scope_sql,
        scope_params=params,
        household=(household or "").lower() or None,
        lo=lo,
        hi=hi,
        after=after,
        limit=limit + 1,
    )
    items = store.rows_to_api(conn, rows)
    return page(items, limit, key=lambda v: [store.iso_utc(v["visited_at"]), v["id"]])


def add(conn, scope, data, *, ip=None):
    """POST /visits (visitor = the caller): (record, created); a repeated identical create gives
    the first back."""
    try:
        with write_tx(conn):
            record = create(conn, scope, None, data)
            audit.record(
                conn, actor=scope.user_id, action="visit.create", target=record["id"], ip=ip
            )
    except creates.Duplicate as d:
        return d.record, False
    return record, True


def read(conn, scope, visit_id):
    """One visit of the caller's scope."""
    return present(conn, get_visible(conn, scope, visit_id))
