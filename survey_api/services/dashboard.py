"""The roll-up dashboard of a unit (统计): the summary's figures for a period, its children,
problems by category and found/rectified per week.

The figures ARE the summary of GET /units/{code}/summary (services/summary's reads and
assembly, with the same period bounds), so the page and the API cannot disagree.
"""

from datetime import date, timedelta

from ..db import parallel_reads
from ..errors import ApiError
from ..storage import categories as category_store
from ..storage import trends
from ..storage import units as unit_store
from ..timeutil import local_date, now, now_iso
from . import summary as summary_service

# The figures in the order the page shows them: (metric key, label, is a percentage).
FIGURES = (
    ("households", "户数", False),
    ("visited", "已走访", False),
    ("coverage_pct", "走访覆盖率", True),
    ("problems", "问题数", False),
    ("rectification_rate_pct", "整改率", True),
    ("on_time_rate_pct", "按时整改率", True),
    ("overdue", "超期", False),
    ("satisfaction_rate_pct", "满意率", True),
)

MAX_WEEKS = 520  # an open period starts at its first week with data; never more than this


def unit_in_scope(conn, scope, code):
    """The unit a page names: unknown or outside the caller's scope is 404 (no existence leak)."""
    unit = unit_store.get(conn, code)
    if unit is None or not scope.holds(unit):
        raise ApiError(404, "NOT_FOUND", f"No unit {code}.")
    return unit


def trail(conn, scope, unit):
    """The unit's ancestors the caller may open, top first (the drill-down path back up)."""
    codes = unit["path"].strip("/").split("/")[:-1]
    by_code = {u["code"]: u for u in unit_store.get_many(conn, codes)}
    return [by_code[c] for c in codes if c in by_code and scope.holds(by_code[c])]


def by_category(conn, counts):
    """[{code, name, group, count}] of the leaf categories counted, most problems first."""
    categories = {c["code"]: c for c in category_store.list_categories(conn, limit=10_000)}
    rows = []
    for code, count in counts.items():
        category = categories.get(code, {})
        group = categories.get(category.get("parent_code"), {})
        rows.append(
            {
                "code": code,
                "name": category.get("name", code),
                "group": group.get("name", ""),
                "count": count,
            }
        )
    rows.sort(key=lambda r: (-r["count"], r["code"]))
    return rows


def _monday(d):
    return d - timedelta(days=d.weekday())


def weekly(conn, unit, period, today=None, counts=None):
    """[{monday, sunday, label, found, rectified}] for every ISO week of the period, zeros
    included; an open start begins at the first week with data, an open end at this week.
    counts: trends.per_week() of the period, when already read."""
    if counts is None:
        lo, hi = period.bounds()
        counts = trends.problems_per_week(conn, unit["path"], lo, hi)
    today = today or local_date(now())
    weeks = sorted(date.fromisoformat(w) for w in counts)
    first = _monday(period.start) if period.start else (weeks[0] if weeks else _monday(today))
    last = _monday(period.end) if period.end else max([_monday(today), *weeks[-1:]])
    first = max(first, last - timedelta(weeks=MAX_WEEKS - 1))
    out = []
    monday = first
    while monday <= last:
        found, rectified = counts.get(monday.isoformat(), (0, 0))
        iso_year, iso_week, _ = monday.isocalendar()
        out.append(
            {
                "monday": monday.isoformat(),
                "sunday": (monday + timedelta(days=6)).isoformat(),
                "label": f"{iso_year}年第{iso_week}周",
                "found": found,
                "rectified": rectified,
            }
        )
        monday += timedelta(weeks=1)
    return out


def dashboard(conn, scope, code, period):
    """Everything the 统计 page shows for a unit and period (raises 404 outside scope)."""
    unit = unit_in_scope(conn, scope, code)
    lo, hi = period.bounds()
    # The summary's scans and the weekly series' side by side (db.parallel_reads).
    scans = parallel_reads(
        conn,
        {
            **summary_service.reads(unit, lo=lo, hi=hi, now=now_iso()),
            **trends.reads(conn, unit["path"], lo, hi),
        },
    )
    body = summary_service.assemble(conn, unit, scans)
    counts = trends.per_week(scans["found"], scans["done"])
    return {
        "unit": unit,
        "trail": trail(conn, scope, unit),
        "period": period,
        "totals": body["totals"],
        "children": body["children"],
        "categories": by_category(conn, body["totals"]["problems_by_category"]),
        "weeks": weekly(conn, unit, period, counts=counts),
    }


def chart_data(data):
    """The charts' JSON (what static/console/charts.js draws), from dashboard()'s data."""
    children = data["children"]
    return {
        "unit": {k: data["unit"][k] for k in ("code", "name", "level")},
        "period": {
            "key": data["period"].key,
            "label": data["period"].label,
            **data["period"].query(),
        },
        "children": {
            "names": [c["name"] for c in children],
            "coverage_pct": [c["coverage_pct"] for c in children],
            "rectification_rate_pct": [c["rectification_rate_pct"] for c in children],
        },
        "categories": [{"name": c["name"], "value": c["count"]} for c in data["categories"]],
        "weeks": {
            "labels": [w["label"] for w in data["weeks"]],
            "found": [w["found"] for w in data["weeks"]],
            "rectified": [w["rectified"] for w in data["weeks"]],
        },
    }
