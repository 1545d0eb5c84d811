"""The console's 走访台账 and household page, on the visit ledger of
GET /grids/{code}/visit-ledger (services/lists.ledger_page): same households, same order,
same masking, same "visited in the period"."""

from ..errors import ApiError
from ..pagination import decode_cursor, encode_cursor
from ..roles import SECRETARY
from ..storage import household_history
from ..storage import units as unit_store
from ..timeutil import now_iso
from . import households as household_service
from . import lists as list_service
from . import summary as summary_service
from .dashboard import unit_in_scope

PAGE = 50
CURSOR_SHAPE = (str, str, str, str, str, int)  # address, building, unit_no, room, id, seq


def grid_in_scope(conn, scope, code):
    """The grid a ledger names: unknown, not a grid, or outside scope is 404."""
    unit = unit_in_scope(conn, scope, code)
    if unit["level"] != "grid":
        raise ApiError(404, "NOT_FOUND", f"No grid {code}.")
    return unit


def grid_choices(conn, scope):
    """The grids a secretary chooses among (their community's); other roles reach a grid
    through the dashboard, so they get none here."""
    if scope.role != SECRETARY:
        return []
    return unit_store.list_units(conn, scope.paths, level="grid", limit=1000)


def ledger(conn, scope, grid_code, period, *, unvisited_only=False, cursor=None, limit=None):
    """One page of a grid's households: masked, with the visits in the period, whether visited,
    and each one's last visit ever; plus the grid's counts for the period."""
    grid = grid_in_scope(conn, scope, grid_code)
    limit = limit or PAGE
    lo, hi = period.bounds()
    after = decode_cursor(cursor, CURSOR_SHAPE) if cursor else None
    filters = {"visited": False if unvisited_only else None, "tag": None, "deleted": False}
    items, next_key = list_service.ledger_page(
        conn, grid_code, lo=lo, hi=hi, after=after, limit=limit, unmask=False, filters=filters
    )
    last = household_history.last_visits(conn, [i["household"]["id"] for i in items])
    for item in items:
        item["last_visit"] = last.get(item["household"]["id"])
    totals = summary_service.summary(conn, grid, lo=lo, hi=hi, now=now_iso())["totals"]
    return {
        "grid": grid,
        "period": period,
        "unvisited_only": unvisited_only,
        "items": items,
        "next_cursor": encode_cursor(next_key) if next_key else None,
        "households": totals["households"],
        "visited": totals["visited"],
        "coverage_pct": totals["coverage_pct"],
    }


def household_page(conn, scope, household_id):
    """A household as a secretary and above see it: masked, with its visits and problems.

    404 outside scope, 410 when deleted (services/households.get_visible).
    """
    row = household_service.get_visible(conn, scope, household_id)
    record = household_service.shown_to(scope, row)
    return {
        "household": record,
        "grid": unit_store.get(conn, row["grid_code"]),
        "visits": household_history.visits(conn, household_id),
        "problems": household_history.problems(conn, row["grid_code"], household_id),
    }
