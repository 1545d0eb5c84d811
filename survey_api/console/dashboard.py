"""统计: a unit's roll-up dashboard for a period, its children, charts (DESIGN §10).

The figures are services/dashboard.py's, which are GET /api/v1/units/{code}/summary's; the
charts are drawn by static/charts.js from /console/units/<code>/charts.json.
"""

from urllib.parse import urlencode

from flask import jsonify, redirect, render_template, request, url_for

from ..db import get_db, read_tx
from ..errors import ApiError
from ..scope import current_scope
from ..services import dashboard, periods
from ..storage import units as unit_store
from . import bp

# A figure → the problem queue (问题清单 ?queue=) it counts, where there is one.
FIGURE_QUEUES = {"problems": "all", "overdue": "overdue"}
# A figure of a grid → the ledger it counts.
FIGURE_LEDGER = {"households": {}, "visited": {}, "coverage_pct": {"unvisited": "1"}}


def page_period(args):
    """(Period, error message or None) from ?period= or ?from=&to=; bad dates fall back to
    the default period with a message."""
    try:
        return periods.resolve(args.get("period"), args.get("from"), args.get("to")), None
    except periods.PeriodError as e:
        return periods.resolve(None), "；".join(e.errors.values())


def queue_url(queue, code, period):
    """The 问题清单 of a unit's problems reported in the period (its `grid` filter takes any
    unit code in scope)."""
    return (
        url_for("console.problems")
        + "?"
        + urlencode({"queue": queue, "grid": code, **period.query()})
    )


def ledger_url(code, period, **extra):
    return url_for("console.ledger", grid=code, **period.url_args(), **extra)


def figure_link(key, unit, period):
    """Where a figure of this unit links, or None."""
    if key in FIGURE_QUEUES:
        return queue_url(FIGURE_QUEUES[key], unit["code"], period)
    if key in FIGURE_LEDGER and unit["level"] == "grid":
        return ledger_url(unit["code"], period, **FIGURE_LEDGER[key])
    return None


def figure_text(value, is_pct):
    return f"{value:.1f}%" if is_pct else f"{value:,}"


@bp.route("/units")
def units_home():
    """统计 without a unit: the caller's own unit (admin: the first district)."""
    conn, scope = get_db().conn, current_scope()
    if scope.units:
        code = scope.units[0]["code"]
    else:
        top = unit_store.list_units(conn, None, level="district", limit=1)
        if not top:
            raise ApiError(404, "NOT_FOUND", "No units yet.")
        code = top[0]["code"]
    return redirect(url_for("console.unit_dashboard", code=code, **request.args))


@bp.route("/units/<code>")
def unit_dashboard(code):
    """A unit's 统计 page: figures, children, charts and their tables, for a period."""
    conn, scope = get_db().conn, current_scope()
    period, message = page_period(request.args)
    with read_tx(conn):
        data = dashboard.dashboard(conn, scope, code, period)
    charts_url = url_for("console.unit_charts", code=code, **period.url_args())
    return render_template(
        "console/dashboard.html",
        nav="units",
        d=data,
        period=period,
        message=message,
        presets=periods.PRESETS,
        figures=dashboard.FIGURES,
        figure_link=figure_link,
        figure_text=figure_text,
        charts_url=charts_url,
        queue_url=queue_url,
    )


@bp.route("/units/<code>/charts.json")
def unit_charts(code):
    """The charts' numbers as JSON (the same as the tables beside them)."""
    conn, scope = get_db().conn, current_scope()
    period, _message = page_period(request.args)
    with read_tx(conn):
        data = dashboard.dashboard(conn, scope, code, period)
    return jsonify(dashboard.chart_data(data))
