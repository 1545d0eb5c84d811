"""The secretaries' lists: paging, masking and the roll-up arithmetic.

Views call these; SQL lives in storage/lists.py and storage/summary.py.
"""

import itertools
import operator
from decimal import ROUND_HALF_UP, Decimal

from ..storage import lists as list_store
from ..storage import summary as summary_store
from ..storage import units as unit_store
from .masking import mask

EXPORT_PAGE = 1000


# --- problem and rectification lists ------------------------------------------------------

def problem_page(conn, kind, community_code, *, now, after, limit, unmask, filters):
    """(items, cursor of the last item or None when this was the last page)."""
    rows = list(list_store.problem_rows(conn, community_code, now=now, kind=kind, after=after,
                                        limit=limit + 1, **filters))
    items = [row if unmask else mask(row) for row, _key in rows[:limit]]
    cursor = list(rows[limit - 1][1]) if len(rows) > limit else None
    return items, cursor


def problem_export_rows(conn, kind, community_code, *, now, unmask, filters):
    """Every row of the list, read a page at a time (memory flat in the row count)."""
    after = None
    while True:
        rows = list(list_store.problem_rows(conn, community_code, now=now, kind=kind,
                                            after=after, limit=EXPORT_PAGE, **filters))
        for row, _key in rows:
            yield row if unmask else mask(row)
        if len(rows) < EXPORT_PAGE:
            return
        after = rows[-1][1]


def problem_csv_rows(conn, kind, community_code, columns, *, now, unmask, filters):
    """Every row of the list as CSV-ready tuples in column order (the CSV fast path:
    SQLite formats and masks, csv.writer writes; no per-cell Python)."""
    keys = [c.key for c in columns if c.key != "seq"]
    cursor = list_store.problem_csv_tuples(conn, community_code, keys, now=now, kind=kind,
                                           unmask=unmask, **filters)
    # (seq,) + row, numbered in C (no Python frame per row)
    return map(operator.add, zip(itertools.count(1)), cursor)


def problem_xlsx_rows(conn, kind, community_code, columns, *, now, unmask, filters):
    """Every row of the list as typed tuples in column order (datetimes as Unix seconds):
    the XLSX fast path, written by exports.xlsx_writer without per-row dicts."""
    keys = [c.key for c in columns if c.key != "seq"]
    cursor = list_store.problem_xlsx_tuples(conn, community_code, keys, now=now, kind=kind,
                                            unmask=unmask, **filters)
    for seq, row in enumerate(cursor, start=1):
        yield (seq, *row)


# --- visit ledger -----------------------------------------------------------------------------

def _ledger_items(conn, page, lo, hi, unmask):
    visits = list_store.visits_of(conn, [h["id"] for _s, h, _v, _c in page], lo=lo, hi=hi)
    out = []
    for seq, household, visited, _cursor in page:
        out.append((seq, {
            "household": household if unmask else mask(household),
            "visits": visits[household["id"]],
            "visited": visited,
        }))
    return out


def ledger_page(conn, grid_code, *, lo, hi, after, limit, unmask, filters):
    page = list_store.ledger_households(conn, grid_code, lo=lo, hi=hi, after=after,
                                        limit=limit + 1, **filters)
    cursor = page[limit - 1][3] if len(page) > limit else None
    items = [item for _seq, item in _ledger_items(conn, page[:limit], lo, hi, unmask)]
    return items, cursor


def ledger_export_rows(conn, grid_code, *, lo, hi, unmask, filters):
    """Flat export rows: one per visit in the period, one per household never visited."""
    after = None
    while True:
        page = list_store.ledger_households(conn, grid_code, lo=lo, hi=hi, after=after,
                                            limit=EXPORT_PAGE, **filters)
        for seq, item in _ledger_items(conn, page, lo, hi, unmask):
            household = item["household"]
            base = {
                "seq": seq, "household_id": household["id"], "address": household["address"],
                "building": household["building"], "unit_no": household["unit_no"],
                "room": household["room"], "head_name": household["head_name"],
                "phone": household["phone"], "tags": "|".join(household["tags"]),
                "visited": item["visited"],
            }
            if not item["visits"]:
                yield base
            for visit in item["visits"]:
                yield {**base, "visited_at": visit["visited_at"], "outcome": visit["outcome"],
                       "visitor": visit["visitor"], "notes": visit["notes"]}
        if len(page) < EXPORT_PAGE:
            return
        after = page[-1][3]


# --- summary ------------------------------------------------------------------------------------

def pct(numerator, denominator):
    """A percentage 0–100 with one decimal (half up); 0 when the denominator is 0."""
    if not denominator:
        return 0.0
    value = Decimal(numerator * 100) / Decimal(denominator)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _empty_counts():
    return {"households": 0, "visited": 0, "problems_by_category": {},
            **{k: 0 for k in summary_store.COUNT_KEYS}}


def _metrics(counts):
    """The public metrics of a set of counts (order as Appendix A lists them)."""
    return {
        "households": counts["households"],
        "visited": counts["visited"],
        "coverage_pct": pct(counts["visited"], counts["households"]),
        "problems": counts["problems"],
        "problems_by_category": dict(sorted(counts["problems_by_category"].items())),
        "rectified": counts["rectified"],
        "rectification_rate_pct": pct(counts["rectified"], counts["problems"]),
        "on_time_rate_pct": pct(counts["on_time"], counts["rectified"]),
        "overdue": counts["overdue"],
        "supervised": counts["supervised"],
        "rated": counts["rated"],
        "satisfaction_rate_pct": pct(counts["satisfied"], counts["rated"]),
    }


def summary(conn, unit, *, lo, hi, now, category=None):
    """The roll-up of a unit over its children: per-grid counts summed up the tree."""
    grids = summary_store.grids_under(conn, unit["path"])
    households = summary_store.households_by_grid(conn, unit["path"])
    visited = summary_store.visited_by_grid(conn, unit["path"], lo, hi)
    problems = summary_store.problems_by_child(conn, unit["path"], lo, hi, now, category)
    depth = unit["path"].count("/") - 1  # '/a/b/' → 2 codes; a child sits at index depth
    children = unit_store.children(conn, unit["code"])
    per_child = {c["code"]: _empty_counts() for c in children}
    totals = _empty_counts()
    for grid_code, path in grids:
        n_households = households.get(grid_code, 0)
        n_visited = visited.get(grid_code, 0)
        totals["households"] += n_households
        totals["visited"] += n_visited
        parts = path.strip("/").split("/")
        if len(parts) > depth and parts[depth] in per_child:
            per_child[parts[depth]]["households"] += n_households
            per_child[parts[depth]]["visited"] += n_visited
    # Problems come rolled up to the children by SQLite; a unit's own grid has no child.
    for child_code, by_category in problems.items():
        targets = (totals, per_child[child_code]) if child_code in per_child else (totals,)
        for category_code, numbers in by_category.items():
            for into in targets:
                for key, value in numbers.items():
                    into[key] += value
                into["problems_by_category"][category_code] = (
                    into["problems_by_category"].get(category_code, 0) + numbers["problems"])
    return {
        "unit": {"code": unit["code"], "name": unit["name"], "level": unit["level"]},
        "totals": _metrics(totals),
        "children": [{"code": c["code"], "name": c["name"], "level": c["level"],
                      **_metrics(per_child[c["code"]])} for c in children],
    }
