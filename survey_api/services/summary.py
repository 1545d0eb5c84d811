"""The roll-up of a unit over its children (汇总统计): JSON, or CSV/XLSX with a chart.

Counts come per grid from storage/summary.py and are added up the unit tree here, so every
parent's counts equal the sums of its children's.
"""

from decimal import ROUND_HALF_UP, Decimal

from ..db import get_db, parallel_reads, read_tx
from ..exports import Chart, export
from ..exports.layouts import summary_columns
from ..scope import current_scope
from ..storage import summary as summary_store
from ..storage import units as unit_store
from ..timeutil import now_iso, period_bounds
from .lists import audit_read, period_text

CHART_KEYS = ("coverage_pct", "rectification_rate_pct")
CHART_TITLE = {
    "zh": "各下级单位走访覆盖率与整改率(%)",
    "en": "Coverage and rectification rate by child unit (%)",
}


def unit_summary(code, args, ip):
    """The roll-up body, or its export: children first, then the unit's own totals; the XLSX
    has a native column chart of coverage and rectification rate by child."""
    scope = current_scope()
    unit = scope.unit_for_report("summary", code, unmask=args["unmask"])
    lo, hi = period_bounds(args["from_"], args["to"])
    conn = get_db().conn
    with read_tx(conn):
        body = summary(conn, unit, lo=lo, hi=hi, now=now_iso(), category=args.get("category"))
        leaves = summary_store.leaf_categories(conn)
    body = {
        "unit": body["unit"],
        "from_": period_text(args["from_"]),
        "to": period_text(args["to"]),
        "totals": body["totals"],
        "children": body["children"],
    }
    audit_read(scope, unit, "summary", args, {"category": args.get("category")}, ip)
    if args["format"] == "json":
        return body
    rows = [_flat(row) for row in [*body["children"], {**body["unit"], **body["totals"]}]]
    chart = Chart(CHART_TITLE[args["lang"]], "name", CHART_KEYS, len(body["children"]))
    return export(
        "summary",
        args["format"],
        args["lang"],
        unit,
        (args["from_"], args["to"]),
        rows,
        columns=summary_columns(leaves),
        chart=chart,
    )


def _flat(row):
    """A summary row with problems_by_category spread into one key per category."""
    flat = {k: v for k, v in row.items() if k != "problems_by_category"}
    flat.update({f"problems_by_category.{c}": n for c, n in row["problems_by_category"].items()})
    return flat


def pct(numerator, denominator):
    """A percentage 0–100 with one decimal (half up); 0 when the denominator is 0."""
    if not denominator:
        return 0.0
    value = Decimal(numerator * 100) / Decimal(denominator)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _empty_counts():
    return {
        "households": 0,
        "visited": 0,
        "problems_by_category": {},
        **{k: 0 for k in summary_store.COUNT_KEYS},
    }


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


def reads(unit, *, lo, hi, now, category=None):
    """The roll-up's two scans, {name: function of a connection}, for db.parallel_reads
    (largest first): the problems rolled up to the children, the households per grid."""
    path = unit["path"]
    return {
        "problems": lambda c: summary_store.problems_by_child(c, path, lo, hi, now, category),
        "households": lambda c: summary_store.households_by_grid(c, path, lo, hi),
    }


def summary(conn, unit, *, lo, hi, now, category=None):
    """The roll-up of a unit over its children: per-grid counts summed up the tree."""
    counts = parallel_reads(conn, reads(unit, lo=lo, hi=hi, now=now, category=category))
    return assemble(conn, unit, counts)


def assemble(conn, unit, counts):
    """The roll-up from its scans' results (reads()): per-grid counts summed up the tree."""
    grids = summary_store.grids_under(conn, unit["path"])
    households, problems = counts["households"], counts["problems"]
    depth = unit["path"].count("/") - 1  # '/a/b/' → 2 codes; a child sits at index depth
    children = unit_store.children(conn, unit["code"])
    per_child = {c["code"]: _empty_counts() for c in children}
    totals = _empty_counts()
    for grid_code, path in grids:
        n_households, n_visited = households.get(grid_code, (0, 0))
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
                    into["problems_by_category"].get(category_code, 0) + numbers["problems"]
                )
    return {
        "unit": {"code": unit["code"], "name": unit["name"], "level": unit["level"]},
        "totals": _metrics(totals),
        "children": [
            {
                "code": c["code"],
                "name": c["name"],
                "level": c["level"],
                **_metrics(per_child[c["code"]]),
            }
            for c in children
        ],
    }
