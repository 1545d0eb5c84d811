"""The problem queue: filtered, counted and paginated problems of a scope.

One entrance for GET /api/v1/problems and the console's 问题清单 (DESIGN §10): the queues
(待受理, 办理中, 即将到期 …), the filters and their meaning live here and nowhere else.
"""

from dataclasses import dataclass, field
from datetime import datetime

from ..errors import ApiError
from ..statuses import (
    ACCEPTED,
    ASSIGNED,
    CLOSED,
    OPEN,
    RECTIFIED,
    RECTIFYING,
    REJECTED,
    REPORTED,
    SUSPENDED,
)
from ..storage import categories as category_store
from ..storage import problem_queries
from ..storage import problems as problem_store
from ..storage import units as unit_store
from ..timeutil import iso, now, period_bounds
from . import deadlines

# Queue name → its criteria (on top of the filters). Order = the console's order.
QUEUES = {
    "all": {},
    "reported": {"statuses": [REPORTED]},
    "in_progress": {"statuses": [ACCEPTED, ASSIGNED, RECTIFYING]},
    "rectified": {"statuses": [RECTIFIED]},
    "due_soon": {"due_soon": True},
    "overdue": {"overdue": True},
    "supervised": {"supervised": True, "statuses": list(OPEN)},
    "suspended": {"statuses": [SUSPENDED]},
    "closed": {"statuses": [CLOSED]},
    "rejected": {"statuses": [REJECTED]},
}


@dataclass
class Filters:
    """What the caller asked for; every field optional."""

    unit: str | None = None  # a unit code in scope (grid, community, …)
    statuses: list = field(default_factory=list)
    category: str | None = None  # a leaf, or a parent taking its leaves
    source: str | None = None
    supervised: bool | None = None
    overdue: bool | None = None
    due_soon: bool = False
    lo: object = None  # from / to: dates or aware datetimes (reported_at)
    hi: object = None
    q: str | None = None  # words of the number or the description


@dataclass
class Page:
    rows: list
    total: int | None
    counts: dict | None
    has_more: bool


def _criteria(conn, scope, filters, at):
    """The storage criteria of the scope and the filters (no queue)."""
    scope_sql, scope_params = scope.grid_filter("grid_code")
    c = {
        "scope_sql": scope_sql,
        "scope_params": scope_params,
        "now_iso": iso(at),
        "statuses": list(filters.statuses),
        "category": filters.category,
        "source": filters.source,
        "supervised": filters.supervised,
        "overdue": filters.overdue,
        "q": filters.q,
    }
    if filters.unit:
        c["unit_path_like"] = unit_store.like_prefix(scope.unit_for_list(filters.unit)["path"])
    if filters.due_soon:
        c["due_soon_until"] = due_soon_until(conn, at)
    c["lo"], c["hi"] = period_bounds(filters.lo, filters.hi)
    return c


def due_soon_until(conn, at: datetime):
    """The bound of 即将到期: the end of the next working day (services/deadlines)."""
    return iso(deadlines.next_working_day_end(conn, at))


def _queue_criteria(conn, name, at):
    if name not in QUEUES:
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            f"No queue {name}.",
            errors={"queue": [f"Must be one of: {', '.join(QUEUES)}."]},
        )
    q = dict(QUEUES[name])
    if q.pop("due_soon", False):
        q["due_soon_until"] = due_soon_until(conn, at)
    q["now_iso"] = iso(at)
    return q


def _merge(base, queue):
    """Filters and queue together (a status filter and a queue's statuses intersect)."""
    merged = {**base, **{k: v for k, v in queue.items() if k != "statuses"}}
    if queue.get("statuses"):
        wanted = queue["statuses"]
        if base.get("statuses"):
            wanted = [s for s in wanted if s in base["statuses"]] or ["-"]
        merged["statuses"] = wanted
    return merged


def keyset_page(conn, scope, filters, *, after=None, limit=100, at=None):
    """GET /problems: limit+1 problems (records with their events) after the keyset
    (reported_at, id)."""
    at = at or now()
    rows = problem_queries.list_rows(
        conn, _criteria(conn, scope, filters, at), after=after, limit=limit + 1
    )
    return problem_store.rows_to_api(conn, rows)


def queue_page(conn, scope, filters, queue="all", *, page=1, per_page=50, at=None):
    """The console: one page of a queue, its total, and the count of every queue."""
    at = at or now()
    base = _criteria(conn, scope, filters, at)
    parts = {name: _queue_criteria(conn, name, at) for name in QUEUES}
    criteria = _merge(base, parts[queue] if queue in parts else _queue_criteria(conn, queue, at))
    counts = {name: problem_queries.count(conn, _merge(base, part)) for name, part in parts.items()}
    rows = problem_queries.list_rows(
        conn, criteria, offset=(page - 1) * per_page, limit=per_page + 1
    )
    return Page(
        rows=rows[:per_page], total=counts[queue], counts=counts, has_more=len(rows) > per_page
    )


def filter_options(conn, scope):
    """The choices of the queue's filters: units in scope (communities and grids) and
    categories (groups and their leaves)."""
    paths = None if scope.is_admin else scope.paths
    units = [
        u
        for level in ("community", "grid")
        for u in unit_store.list_units(conn, paths, level=level, limit=100_000)
    ]
    units.sort(key=lambda u: u["code"])
    if not scope.is_admin and len([u for u in units if u["level"] == "community"]) <= 1:
        units = [u for u in units if u["level"] == "grid"]
    return {"units": units, "categories": category_store.list_categories(conn, limit=10_000)}


# The list export (GET /communities/{code}/problem-list) takes these of the queue's criteria.
_EXPORT_STATUS = {
    name: q["statuses"] for name, q in QUEUES.items() if q.get("statuses") and name != "supervised"
}


def export_query(conn, scope, filters, queue):
    """(community code, query parameters, what the export cannot apply) for the XLSX lists
    of the problems on screen; community None when they span several communities."""
    community = None
    if filters.unit:
        unit = scope.unit_for_list(filters.unit)
        if unit["level"] == "grid":
            community = unit["parent_code"]
        elif unit["level"] == "community":
            community = unit["code"]
    elif not scope.is_admin and len(scope.units) == 1 and scope.units[0]["level"] == "community":
        community = scope.units[0]["code"]
    params = {"format": "xlsx"}
    if filters.unit and filters.unit != community:
        params["grid"] = filters.unit
    if filters.category:
        params["category"] = filters.category
    for key, value in (("from", filters.lo), ("to", filters.hi)):
        if value is not None:
            params[key] = value.isoformat()
    if queue in _EXPORT_STATUS:
        params["status"] = ",".join(_EXPORT_STATUS[queue])
    elif queue == "overdue":
        params["overdue"] = "true"
    elif queue == "supervised":
        params.update(supervised="true", status=",".join(OPEN))
    left_out = [
        name
        for name, on in (
            ("source", filters.source),
            ("q", filters.q),
            ("due_soon", queue == "due_soon"),
        )
        if on
    ]
    return community, params, left_out
