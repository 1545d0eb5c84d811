"""走访台账 and the household page (DESIGN §10), on services/ledger.py: the visit ledger of
GET /api/v1/grids/{code}/visit-ledger, masked, with each household's last visit."""

import re
from urllib.parse import urlencode

from flask import render_template, request, url_for

from ..db import get_db, read_tx
from ..errors import ApiError
from ..scope import current_scope
from ..services import ledger as ledger_service
from ..services import periods
from . import bp
from .dashboard import page_period

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def export_url(grid_code, period, unvisited_only):
    """导出走访台账: the API's XLSX of the same grid, period and filter."""
    params = {"format": "xlsx", **period.query()}
    if unvisited_only:
        params["visited"] = "false"
    return f"/api/v1/grids/{grid_code}/visit-ledger?{urlencode(params)}"


@bp.route("/ledger")
def ledger():
    """走访台账 of a grid (?grid=); secretaries choose among their community's grids."""
    conn, scope = get_db().conn, current_scope()
    period, message = page_period(request.args)
    grid_code = request.args.get("grid", "").strip()
    unvisited_only = request.args.get("unvisited") == "1"
    with read_tx(conn):
        choices = ledger_service.grid_choices(conn, scope)
        if not grid_code and choices:
            grid_code = choices[0]["code"]
        if not grid_code:
            return render_template("console/ledger_pick.html", nav="ledger")
        data = ledger_service.ledger(
            conn,
            scope,
            grid_code,
            period,
            unvisited_only=unvisited_only,
            cursor=request.args.get("cursor") or None,
        )
    keep = {"grid": grid_code, **period.url_args()}
    if unvisited_only:
        keep["unvisited"] = "1"
    return render_template(
        "console/ledger.html",
        nav="ledger",
        d=data,
        period=period,
        message=message,
        presets=periods.PRESETS,
        choices=choices,
        keep=keep,
        export_url=export_url(grid_code, period, unvisited_only),
    )


@bp.route("/households/<household_id>")
def household(household_id):
    """A household: its data (masked), tags, visits and problems."""
    if not _UUID.fullmatch(household_id):
        raise ApiError(404, "NOT_FOUND", "No such household.")
    conn, scope = get_db().conn, current_scope()
    with read_tx(conn):
        data = ledger_service.household_page(conn, scope, household_id.lower())
    back = url_for("console.ledger", grid=data["grid"]["code"]) if data["grid"] else None
    return render_template("console/household.html", nav="ledger", d=data, back=back)
