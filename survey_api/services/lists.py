"""The secretaries' lists: 问题清单, 整改清单 and 走访台账, as a JSON page or an export.

One entrance per list (problem_list, visit_ledger; the roll-up is services/summary.py): each
checks who may read the unit, writes the audit entries, and returns the JSON body or an
exports.ExportFile. SQL lives in storage/lists.py; how a file looks in exports/.
"""

import itertools
from datetime import date

from ..db import get_db, own_connection, read_tx, write_tx
from ..errors import ApiError
from ..exports import export
from ..exports.csv_writer import safe_text
from ..exports.layouts import LAYOUTS, TIME_LEFT
from ..exports.xlsx_writer import XML_SPACE, XML_SPECIAL, xml_text
from ..pagination import decode_cursor, encode_cursor
from ..scope import current_scope
from ..storage import audit
from ..storage import lists as list_store
from ..timeutil import now_iso, parse_iso, period_bounds
from .deadlines import TimeLeft
from .masking import mask, masker

EXPORT_PAGE = 1000
EXPORT_CACHE_KIB = 4096
PROBLEM_FILTERS = ("status", "category", "grid", "overdue", "supervised")
LEDGER_FILTERS = ("visited", "tag", "deleted")
FLAG_KEYS = ("overdue", "supervised", "due_estimated")
# The JSON rows carry Appendix A's keys; 剩余时限 is an export column only (JSON unchanged).
JSON_KEYS = {
    name: tuple(c.key for c in LAYOUTS[name][0] if c is not TIME_LEFT)
    for name in ("problem-list", "rectification-list")
}


# --- the audit, pages and export connections ------------------------------------------------------


def period_text(value):
    """from/to as given: YYYY-MM-DD or the aware datetime, or None."""
    return None if value is None else value.isoformat()


def audit_read(scope, unit, list_name, args, filters, ip):
    """One audit entry per export, one per unmasking (an unmasked export writes both)."""
    fmt = args.get("format", "json")
    unmask = args.get("unmask", False)
    if fmt == "json" and not unmask:
        return
    details = {
        "list": list_name,
        "format": fmt,
        "from": period_text(args["from_"]),
        "to": period_text(args["to"]),
        "unmask": unmask,
        "filters": {k: v for k, v in filters.items() if v is not None},
    }
    conn = get_db().conn
    with write_tx(conn):
        if fmt != "json":
            audit.record(
                conn,
                actor=scope.user_id,
                action="export",
                target=unit["code"],
                ip=ip,
                details=details,
            )
        if unmask:
            audit.record(
                conn,
                actor=scope.user_id,
                action="unmask",
                target=unit["code"],
                ip=ip,
                details=details,
            )


def page_body(unit, args, items, cursor):
    return {
        "unit": {k: unit[k] for k in ("code", "name", "level")},
        "from_": period_text(args["from_"]),
        "to": period_text(args["to"]),
        "items": items,
        "next_cursor": encode_cursor(cursor) if cursor else None,
    }


def _cursor(args, length):
    """The previous page's last sort key: `length - 1` strings, then the seq (an int)."""
    after = decode_cursor(args["cursor"])
    if after is None:
        return None
    if (
        not isinstance(after, list)
        or len(after) != length
        or not all(isinstance(v, str) for v in after[:-1])
        or type(after[-1]) is not int
        or after[-1] < 0
    ):
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            "The cursor is not valid.",
            errors={"cursor": ["Not a valid cursor."]},
        )
    return after


def export_rows(make_rows):
    """Rows read through a connection of their own, in one read transaction (a streamed CSV
    outlives the request; a small page cache keeps memory flat: an export reads each page
    once). The connection closes when the rows are exhausted or dropped."""
    conn = own_connection()
    conn.execute(f"PRAGMA cache_size = -{EXPORT_CACHE_KIB}")
    try:
        with read_tx(conn):
            yield from make_rows(conn)
    finally:
        conn.close()


# --- problem and rectification lists ------------------------------------------------------


def problem_list(code, kind, args, ip):
    """问题清单 or 整改清单 of a community: the JSON page, or the whole list as CSV/XLSX."""
    scope = current_scope()
    unit = scope.unit_for_report(kind, code, level="community", unmask=args["unmask"])
    filters = {k: args.get(k) for k in PROBLEM_FILTERS}
    if filters["grid"] and not filters["grid"].startswith(code + "-"):
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            "Not a grid of this community.",
            errors={"grid": [f"Must be a grid of community {code}."]},
        )
    after = _cursor(args, 3)
    audit_read(scope, unit, kind, args, filters, ip)
    lo, hi = period_bounds(args["from_"], args["to"])
    filters.update(lo=lo, hi=hi)
    current = now_iso()
    if args["format"] == "json":
        conn = get_db().conn
        with read_tx(conn):
            items, cursor = problem_page(
                conn,
                kind,
                code,
                now=current,
                after=after,
                limit=args["limit"],
                unmask=args["unmask"],
                filters=filters,
            )
        return page_body(unit, args, items, cursor)
    columns = LAYOUTS[kind][0]
    fmt, lang = args["format"], args["lang"]

    def csv_lines(conn):
        return problem_csv_lines(
            conn, kind, code, columns, lang, now=current, unmask=args["unmask"], filters=filters
        )

    def xml_rows(plan):
        return export_rows(
            lambda conn: problem_xml_rows(
                conn, kind, code, plan, lang, now=current, unmask=args["unmask"], filters=filters
            )
        )

    return export(
        kind,
        fmt,
        lang,
        unit,
        (args["from_"], args["to"]),
        export_rows(csv_lines) if fmt == "csv" else xml_rows,
        xml=fmt == "xlsx",
        lines=fmt == "csv",
    )


def problem_page(conn, kind, community_code, *, now, after, limit, unmask, filters):
    """(items, cursor of the last item or None when this was the last page)."""
    keys = JSON_KEYS[kind][1:]
    db_keys = [k for k in keys if k in list_store.PROBLEM_FIELDS]
    rows = list(
        list_store.problem_rows(
            conn,
            community_code,
            db_keys,
            form="raw",
            now=now,
            kind=kind,
            after=after[:2] if after else None,
            limit=limit + 1,
            **filters,
        )
    )
    households = _Households(conn, None, render="raw", unmask=unmask)
    seq = after[2] if after else 0
    items = []
    for row in rows[:limit]:
        seq += 1
        item = {"seq": seq, **dict(zip(db_keys, row[5:], strict=True))}
        for key in FLAG_KEYS:
            if key in item:
                item[key] = bool(item[key])
        place = dict(zip(list_store.HOUSEHOLD_FIELDS, households[row[0]], strict=True))
        items.append({k: place[k] if k in place else item[k] for k in JSON_KEYS[kind]})
    cursor = [rows[limit - 1][3], rows[limit - 1][4], seq] if len(rows) > limit else None
    return items, cursor


def problem_xml_rows(conn, kind, community_code, plan, lang, *, now, unmask, filters):
    """Every row of a problem list as (its cells' XML after seq, lines of its wrapped text):
    SQLite writes the cells as the plan (xlsx_writer.CellPlan per column) says; the
    households' cells (masked) and the 剩余时限 texts wait in temporary tables."""
    cells = [(c.column.source(lang), c.head, c.kind, c.labels, c.units) for c in plan]
    where = {"community_code": community_code, "now": now, "kind": kind, **filters}
    if any(key in list_store.HOUSEHOLD_FIELDS for key, *_ in cells):
        _stage_households(conn, where, render="xlsx", unmask=unmask)
    else:
        list_store.stage_households(conn, ())
    _stage_time_left(conn, where, now)
    conn.create_function("xlsx_text", 2, xml_text, deterministic=True)
    return list_store.problem_xml_rows(
        conn,
        community_code,
        cells,
        now=now,
        kind=kind,
        done_text=TimeLeft.DONE_TEXT,
        xml_special=XML_SPECIAL,
        xml_space=XML_SPACE,
        **filters,
    )


def problem_csv_lines(conn, kind, community_code, columns, lang, *, now, unmask, filters):
    """Every row of a problem list as its CSV line (seq first, no line end): SQLite writes
    the line; the households' cells (masked, formula-safe) and the 剩余时限 texts of the
    list's due dates wait in temporary tables."""
    keys = [c.source(lang) for c in columns[1:]]
    labels = {c.source(lang): c.labels(lang) for c in columns[1:] if c.labels(lang) is not None}
    where = {"community_code": community_code, "now": now, "kind": kind, **filters}
    if any(k in list_store.HOUSEHOLD_FIELDS for k in keys):
        _stage_households(conn, where, render="csv", unmask=unmask)
    else:
        list_store.stage_households(conn, ())
    _stage_time_left(conn, where, now)
    cursor = list_store.problem_csv_lines(
        conn,
        community_code,
        keys,
        now=now,
        kind=kind,
        labels=labels,
        done_text=TimeLeft.DONE_TEXT,
        **filters,
    )
    return (f"{seq},{line}" for seq, (line,) in zip(itertools.count(1), cursor))


def _stage_households(conn, where, *, render, unmask):
    """The households the list names, as it shows them (masked unless unmask, for a CSV
    formula-safe), into the temporary table the export's SQL joins: each masked once."""
    shown = _shown_households(render, unmask)
    rows = list_store.list_households(conn, **where)
    list_store.stage_households(conn, ((row[0], *shown(row[1:])) for row in rows))


def _shown_households(render, unmask):
    """(address, head_name, phone) → as the list shows them."""
    masked = masker(list_store.HOUSEHOLD_FIELDS)
    if render != "csv":
        return (lambda fields: fields) if unmask else masked
    if unmask:
        return lambda fields: tuple([safe_text(v) if v else v for v in fields])
    return lambda fields: tuple([safe_text(v) if v else v for v in masked(fields)])


def _stage_time_left(conn, where, now):
    """The 剩余时限 texts of every due date of the list (TimeLeft.day_texts) into the
    temporary table TIME_LEFT_SQL reads."""
    time_left = TimeLeft(conn, parse_iso(now))
    days = list_store.due_days(conn, **where)
    list_store.stage_time_left(
        conn, ((day, *time_left.day_texts(date.fromisoformat(day))) for day in days)
    )


class _Households(dict):
    """household id → (address, head_name, phone) as the list shows them: masked unless
    unmask, and for a CSV formula-safe. With a community, its households are read at once
    (and shown when a row first names them); any other id (a household moved since) is
    looked up then."""

    def __init__(self, conn, community_code, *, render, unmask=False):
        super().__init__()
        self.conn, self.render, self.unmask = conn, render, unmask
        self.none = (None,) * len(list_store.HOUSEHOLD_FIELDS)
        self.stored = {}
        if community_code is not None:
            self.stored = list_store.community_households(conn, community_code)

    def _shown(self, fields):
        if not self.unmask:
            masked = mask(dict(zip(list_store.HOUSEHOLD_FIELDS, fields, strict=True)))
            fields = tuple(masked[k] for k in list_store.HOUSEHOLD_FIELDS)
        if self.render == "csv":
            fields = tuple(safe_text(v) if v else v for v in fields)
        return fields

    def __missing__(self, household_id):
        found = self.stored.get(household_id)
        if found is None and household_id is not None:
            found = list_store.household_fields(self.conn, household_id)
        shown = self[household_id] = self._shown(found) if found is not None else self.none
        return shown


# --- visit ledger -----------------------------------------------------------------------------


def visit_ledger(code, args, ip):
    """走访台账 of a grid: the JSON page, or every household and visit as CSV/XLSX."""
    scope = current_scope()
    unit = scope.unit_for_report("visit-ledger", code, level="grid", unmask=args["unmask"])
    filters = {k: args.get(k) for k in LEDGER_FILTERS}
    after = _cursor(args, 6)
    audit_read(scope, unit, "visit-ledger", args, filters, ip)
    lo, hi = period_bounds(args["from_"], args["to"])
    if args["format"] == "json":
        conn = get_db().conn
        with read_tx(conn):
            items, cursor = ledger_page(
                conn,
                code,
                lo=lo,
                hi=hi,
                after=after,
                limit=args["limit"],
                unmask=args["unmask"],
                filters=filters,
            )
        return page_body(unit, args, items, cursor)

    def make_rows(conn):
        return ledger_export_rows(conn, code, lo=lo, hi=hi, unmask=args["unmask"], filters=filters)

    return export(
        "visit-ledger",
        args["format"],
        args["lang"],
        unit,
        (args["from_"], args["to"]),
        export_rows(make_rows),
    )


def _ledger_items(conn, page, lo, hi, unmask):
    visits = list_store.visits_of(conn, [h["id"] for _s, h, _v, _c in page], lo=lo, hi=hi)
    out = []
    for seq, household, visited, _cursor in page:
        out.append(
            (
                seq,
                {
                    "household": household if unmask else mask(household),
                    "visits": visits[household["id"]],
                    "visited": visited,
                },
            )
        )
    return out


def ledger_page(conn, grid_code, *, lo, hi, after, limit, unmask, filters):
    page = list_store.ledger_households(
        conn, grid_code, lo=lo, hi=hi, after=after, limit=limit + 1, **filters
    )
    cursor = page[limit - 1][3] if len(page) > limit else None
    items = [item for _seq, item in _ledger_items(conn, page[:limit], lo, hi, unmask)]
    return items, cursor


def ledger_export_rows(conn, grid_code, *, lo, hi, unmask, filters):
    """Flat export rows: one per visit in the period, one per household never visited."""
    after = None
    while True:
        page = list_store.ledger_households(
            conn, grid_code, lo=lo, hi=hi, after=after, limit=EXPORT_PAGE, **filters
        )
        for seq, item in _ledger_items(conn, page, lo, hi, unmask):
            household = item["household"]
            base = {
                "seq": seq,
                "household_id": household["id"],
                "address": household["address"],
                "building": household["building"],
                "unit_no": household["unit_no"],
                "room": household["room"],
                "head_name": household["head_name"],
                "phone": household["phone"],
                "tags": household["tags"],
                "visited": item["visited"],
            }
            if not item["visits"]:
                yield base
            for visit in item["visits"]:
                yield {
                    **base,
                    "visited_at": visit["visited_at"],
                    "outcome": visit["outcome"],
                    "visitor": visit["visitor"],
                    "notes": visit["notes"],
                }
        if len(page) < EXPORT_PAGE:
            return
        after = page[-1][3]
