"""The secretaries' lists: 问题清单, 整改清单, 走访台账 and roll-ups, as JSON, CSV or XLSX."""

from datetime import datetime

from flask import current_app, request

from schemas.lists import (
    ProblemListPageSchema,
    ProblemListQuery,
    RectificationListPageSchema,
    SummaryQuery,
    SummarySchema,
    VisitLedgerPageSchema,
    VisitLedgerQuery,
)

from ..db import connect, get_db, read_tx, write_tx
from ..errors import ApiError
from ..exports import csv_chunks, file_chunks, spool_xlsx
from ..exports.columns import Column
from ..exports.csv_writer import csv_tuple_chunks
from ..exports.http import CSV_TYPE, XLSX_TYPE, stream_response
from ..exports.layouts import LAYOUTS, SUMMARY, title_word
from ..pagination import decode_cursor, encode_cursor
from ..scope import current_scope
from ..services import lists as list_service
from ..storage import audit
from ..storage import units as unit_store
from ..timeutil import SHANGHAI, now, now_iso, period_bounds
from . import blueprint

blp = blueprint("lists", __name__, description="Problem and rectification lists, visit ledger, "
                "roll-ups; exports as CSV (UTF-8 with BOM) or XLSX")

PROBLEM_FILTERS = ("status", "category", "grid", "overdue", "supervised")
LEDGER_FILTERS = ("visited", "tag", "deleted")
EXPORT_CACHE_KIB = 4096
# format=csv|xlsx answer a file instead of the JSON page.
EXPORT_DOC = {"responses": {200: {"content": {
    CSV_TYPE.split(";")[0]: {"schema": {"type": "string"}},
    XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}}}}


def _unit_for(code, level, list_name, unmask):
    """The unit a list names, after the role, kind, scope and unmask checks (in that order)."""
    scope = current_scope()
    if unmask and scope.is_grid_worker:
        raise ApiError(403, "UNMASK_FORBIDDEN", "Grid workers may not unmask personal data.")
    if scope.is_grid_worker and list_name != "visit-ledger":
        raise ApiError(403, "FORBIDDEN", "Grid workers may only read their grids' visit ledger.")
    unit = unit_store.get(scope.conn, code)
    if unit is None or (level is not None and unit["level"] != level):
        raise ApiError(404, "NOT_FOUND", f"No {level or 'unit'} {code}.")
    if not scope.holds(unit):
        if unmask:
            raise ApiError(403, "UNMASK_FORBIDDEN", f"Unit {code} is outside your scope.")
        raise ApiError(403, "OUT_OF_SCOPE", f"Unit {code} is outside your scope.")
    return scope, unit


def _period_text(value):
    """from/to as given: YYYY-MM-DD or the aware datetime, or None."""
    return None if value is None else value.isoformat()


def _title_period(value, lang):
    if value is None:
        return "不限" if lang == "zh" else "any"
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def _audit(scope, unit, list_name, args, filters):
    """One audit entry per export, one per unmasking (an unmasked export writes both)."""
    fmt = args.get("format", "json")
    unmask = args.get("unmask", False)
    if fmt == "json" and not unmask:
        return
    details = {"list": list_name, "format": fmt, "from": _period_text(args["from_"]),
               "to": _period_text(args["to"]), "unmask": unmask,
               "filters": {k: v for k, v in filters.items() if v is not None}}
    conn = get_db().conn
    with write_tx(conn):
        if fmt != "json":
            audit.record(conn, actor=scope.user_id, action="export", target=unit["code"],
                         ip=request.remote_addr, details=details)
        if unmask:
            audit.record(conn, actor=scope.user_id, action="unmask", target=unit["code"],
                         ip=request.remote_addr, details=details)


def _export(unit, list_name, args, rows, columns=None, csv_rows=None, xlsx_rows=None):
    """A CSV (streamed) or XLSX (spooled) response with every row.

    rows(conn) yields the JSON rows; csv_rows / xlsx_rows(conn, columns), when given, yield
    ready tuples instead (the problem lists' fast paths).
    """
    layout_columns, _zh, _en = LAYOUTS[list_name]
    columns = columns or layout_columns
    lang = args["lang"]
    lo_text = _title_period(args["from_"], lang)
    hi_text = _title_period(args["to"], lang)
    stamp = now().astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    word = title_word(list_name, lang)
    period = f"{lo_text}–{hi_text}"
    if lang == "zh":
        title = f"{unit['name']} {word} {period} 导出于 {stamp}"
    else:
        title = f"{unit['name']} {word} {period} exported at {stamp}"
    file_period = f"{lo_text}_{hi_text}".replace(" ", "T").replace(":", "")
    base = f"{unit['name']}-{word}-{file_period}"
    fallback = f"{unit['code']}-{list_name}-{file_period}"
    # Exports read through their own connection: a CSV stream outlives the request's, and a
    # small page cache keeps memory flat (an export reads each page once).
    conn = connect(current_app.config["DATABASE"], current_app.config["BUSY_TIMEOUT_MS"])
    conn.execute(f"PRAGMA cache_size = -{EXPORT_CACHE_KIB}")
    if args["format"] == "csv":
        def chunks():
            try:
                with read_tx(conn):
                    if csv_rows is not None:
                        yield from csv_tuple_chunks(columns, csv_rows(conn, columns), lang)
                    else:
                        yield from csv_chunks(columns, rows(conn), lang)
            finally:
                conn.close()
        return stream_response(chunks(), content_type=CSV_TYPE, filename=base + ".csv",
                               fallback=fallback + ".csv")
    try:
        with read_tx(conn):
            if xlsx_rows is not None:
                path, size = spool_xlsx(columns, xlsx_rows(conn, columns), lang, title,
                                        sheet_name=word, tuples=True)
            else:
                path, size = spool_xlsx(columns, rows(conn), lang, title, sheet_name=word)
    finally:
        conn.close()
    return stream_response(file_chunks(path), content_type=XLSX_TYPE, filename=base + ".xlsx",
                           fallback=fallback + ".xlsx", length=size)


def _page_body(unit, args, items, cursor):
    return {"unit": {k: unit[k] for k in ("code", "name", "level")},
            "from_": _period_text(args["from_"]), "to": _period_text(args["to"]),
            "items": items, "next_cursor": encode_cursor(cursor) if cursor else None}


def _cursor(args, length):
    """The previous page's last sort key: `length - 1` strings, then the seq (an int)."""
    after = decode_cursor(args["cursor"])
    if after is None:
        return None
    if (not isinstance(after, list) or len(after) != length
            or not all(isinstance(v, str) for v in after[:-1])
            or type(after[-1]) is not int or after[-1] < 0):
        raise ApiError(422, "VALIDATION_ERROR", "The cursor is not valid.",
                       errors={"cursor": ["Not a valid cursor."]})
    return after


def _problem_list(code, args, list_name):
    scope, unit = _unit_for(code, "community", list_name, args["unmask"])
    filters = {k: args.get(k) for k in PROBLEM_FILTERS}
    if filters["grid"] and not filters["grid"].startswith(code + "-"):
        raise ApiError(422, "VALIDATION_ERROR", "Not a grid of this community.",
                       errors={"grid": [f"Must be a grid of community {code}."]})
    lo, hi = period_bounds(args["from_"], args["to"])
    filters.update(lo=lo, hi=hi)
    after = _cursor(args, 3)
    _audit(scope, unit, list_name, args, {k: args.get(k) for k in PROBLEM_FILTERS})
    conn = get_db().conn
    current = now_iso()
    if args["format"] == "json":
        with read_tx(conn):
            items, cursor = list_service.problem_page(
                conn, list_name, code, now=current, after=after, limit=args["limit"],
                unmask=args["unmask"], filters=filters)
        return _page_body(unit, args, items, cursor)

    def rows(conn):
        return list_service.problem_export_rows(conn, list_name, code, now=current,
                                                unmask=args["unmask"], filters=filters)

    def csv_rows(conn, columns):
        return list_service.problem_csv_rows(conn, list_name, code, columns, now=current,
                                             unmask=args["unmask"], filters=filters)
    def xlsx_rows(conn, columns):
        return list_service.problem_xlsx_rows(conn, list_name, code, columns, now=current,
                                              unmask=args["unmask"], filters=filters)
    return _export(unit, list_name, args, rows, csv_rows=csv_rows, xlsx_rows=xlsx_rows)


@blp.route("/communities/<code>/problem-list", methods=["GET"])
@blp.arguments(ProblemListQuery, location="query")
@blp.response(200, ProblemListPageSchema)
@blp.doc(**EXPORT_DOC)
def problem_list(args, code):
    """问题清单: every problem of the community reported in the period, rejected included."""
    return _problem_list(code, args, "problem-list")


@blp.route("/communities/<code>/rectification-list", methods=["GET"])
@blp.arguments(ProblemListQuery, location="query")
@blp.response(200, RectificationListPageSchema)
@blp.doc(**EXPORT_DOC)
def rectification_list(args, code):
    """整改清单: problems reported in the period that were accepted (any later status)."""
    return _problem_list(code, args, "rectification-list")


@blp.route("/grids/<code>/visit-ledger", methods=["GET"])
@blp.arguments(VisitLedgerQuery, location="query")
@blp.response(200, VisitLedgerPageSchema)
@blp.doc(**EXPORT_DOC)
def visit_ledger(args, code):
    """走访台账: every household of the grid, its visits in the period, visited or not."""
    scope, unit = _unit_for(code, "grid", "visit-ledger", args["unmask"])
    filters = {k: args.get(k) for k in LEDGER_FILTERS}
    lo, hi = period_bounds(args["from_"], args["to"])
    after = _cursor(args, 6)
    _audit(scope, unit, "visit-ledger", args, filters)
    conn = get_db().conn
    if args["format"] == "json":
        with read_tx(conn):
            items, cursor = list_service.ledger_page(
                conn, code, lo=lo, hi=hi, after=after, limit=args["limit"],
                unmask=args["unmask"], filters=filters)
        return _page_body(unit, args, items, cursor)

    def rows(conn):
        return list_service.ledger_export_rows(conn, code, lo=lo, hi=hi, unmask=args["unmask"],
                                               filters=filters)
    return _export(unit, "visit-ledger", args, rows)


def _summary_columns(conn):
    leaves = conn.execute("SELECT code, name FROM categories WHERE parent_code IS NOT NULL"
                          " ORDER BY sort, code").fetchall()
    return [*SUMMARY, *(Column(f"problems_by_category.{code}", f"问题数-{name}", "int", 10)
                        for code, name in leaves)]


@blp.route("/units/<code>/summary", methods=["GET"])
@blp.arguments(SummaryQuery, location="query")
@blp.response(200, SummarySchema)
@blp.doc(**EXPORT_DOC)
def unit_summary(args, code):
    """Roll-up of a unit over its children; every parent's counts are its children's sums."""
    scope, unit = _unit_for(code, None, "summary", args["unmask"])
    lo, hi = period_bounds(args["from_"], args["to"])
    conn = get_db().conn
    with read_tx(conn):
        body = list_service.summary(conn, unit, lo=lo, hi=hi, now=now_iso(),
                                    category=args.get("category"))
    body = {"unit": body["unit"], "from_": _period_text(args["from_"]),
            "to": _period_text(args["to"]), "totals": body["totals"], "children": body["children"]}
    _audit(scope, unit, "summary", args, {"category": args.get("category")})
    if args["format"] == "json":
        return body
    columns = _summary_columns(conn)

    def rows(_conn):
        own = {**body["unit"], **body["totals"]}
        for row in [*body["children"], own]:
            flat = {k: v for k, v in row.items() if k != "problems_by_category"}
            flat.update({f"problems_by_category.{c}": n
                         for c, n in row["problems_by_category"].items()})
            yield flat
    return _export(unit, "summary", args, rows, columns)
