"""SQL of the secretaries' lists: problem list, rectification list, visit ledger.

Every list is read with keyset pagination, one statement per page, so a JSON page and a
full export share the same query and an export never holds more than a page in memory.
"""

import json
from operator import itemgetter

from ..services.masking import masked_sql
from .units import like_prefix

# Open, not suspended, past due: the SQL twin of problems.is_overdue.
OVERDUE_SQL = ("(p.status NOT IN ('closed', 'rejected', 'suspended') AND p.due_at IS NOT NULL"
               " AND p.due_at < :now)")

_PROBLEM_SELECT = f"""
SELECT p.id, p.number, p.reported_at, p.source, p.grid_code, g.name AS grid_name,
       h.address, p.category, c.name AS category_name, p.description, p.urgency, p.status,
       p.level, p.responsible_unit, p.responsible_person, p.measures, p.accepted_at, p.due_at,
       p.due_estimated, p.rectified_at, p.verified_at, p.closed_at, {OVERDUE_SQL} AS overdue,
       p.supervised, p.rating, p.cost_share_resident, p.cost_share_society,
       p.cost_share_subsidy, h.head_name, h.phone
FROM problems p
LEFT JOIN units g ON g.code = p.grid_code
LEFT JOIN households h ON h.id = p.household_id
LEFT JOIN categories c ON c.code = p.category
"""

PROBLEM_LIST_KEYS = (
    "seq", "number", "reported_at", "source", "grid_code", "grid_name", "address", "category",
    "category_name", "description", "urgency", "status", "level", "responsible_unit",
    "responsible_person", "measures", "due_at", "rectified_at", "closed_at", "overdue",
    "supervised", "rating", "cost_share_resident", "cost_share_society", "cost_share_subsidy",
    "head_name", "phone",
)
RECTIFICATION_LIST_KEYS = (
    "seq", "number", "description", "category_name", "measures", "responsible_unit",
    "responsible_person", "accepted_at", "due_at", "due_estimated", "rectified_at",
    "verified_at", "status", "overdue", "supervised", "rating", "cost_share_resident",
    "cost_share_society", "cost_share_subsidy",
)
BOOL_KEYS = ("overdue", "supervised", "due_estimated")


def _problem_where(community_code, *, accepted_only, lo, hi, status, category, grid, overdue,
                   supervised):
    where = ["p.community_code = :community", "p.deleted = 0"]
    params = {"community": community_code}
    if accepted_only:
        where.append("p.accepted_at IS NOT NULL")
    if lo is not None:
        where.append("p.reported_at >= :lo")
        params["lo"] = lo
    if hi is not None:
        where.append("p.reported_at <= :hi")
        params["hi"] = hi
    if status:
        names = [f":status{i}" for i in range(len(status))]
        where.append(f"p.status IN ({', '.join(names)})")
        params.update({n[1:]: s for n, s in zip(names, status, strict=True)})
    if category:
        where.append("p.category IN (SELECT code FROM categories WHERE code = :category"
                     " OR parent_code = :category)")
        params["category"] = category
    if grid:
        where.append("p.grid_code = :grid")
        params["grid"] = grid
    if overdue is not None:
        where.append(OVERDUE_SQL if overdue else f"NOT {OVERDUE_SQL}")
    if supervised is not None:
        where.append("p.supervised = :supervised")
        params["supervised"] = int(supervised)
    return where, params


def problem_rows(conn, community_code, *, now, kind="problem-list", after=None, limit=None,
                 lo=None, hi=None, status=None, category=None, grid=None, overdue=None,
                 supervised=None):
    """Rows of a community's problem or rectification list, oldest report first.

    after: the cursor [reported_at, number, seq] of the previous page's last row. Yields
    row dicts with the list's keys, numbered on from that row's seq.
    """
    where, params = _problem_where(
        community_code, accepted_only=kind == "rectification-list", lo=lo, hi=hi, status=status,
        category=category, grid=grid, overdue=overdue, supervised=supervised)
    params["now"] = now
    seq = 0
    if after is not None:
        where.append("(p.reported_at, p.number) > (:after_at, :after_number)")
        params.update(after_at=after[0], after_number=after[1])
        seq = after[2]
    sql = _PROBLEM_SELECT + " WHERE " + " AND ".join(where) + " ORDER BY p.reported_at, p.number"
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    keys = PROBLEM_LIST_KEYS if kind == "problem-list" else RECTIFICATION_LIST_KEYS
    for row in conn.execute(sql, params):
        seq += 1
        record = dict(row)
        record["seq"] = seq
        for key in BOOL_KEYS:
            record[key] = bool(record[key])
        yield {k: record[k] for k in keys}, (record["reported_at"], record["number"], seq)


# --- visit ledger -----------------------------------------------------------------------

_HOUSEHOLD_ORDER = ("h.address, coalesce(h.building, ''), coalesce(h.unit_no, ''),"
                    " coalesce(h.room, ''), h.id")
_VISITED_SQL = ("EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id"
                " AND v.outcome = 'met'{period})")


def _period(column, lo, hi):
    sql = ""
    if lo is not None:
        sql += f" AND {column} >= :lo"
    if hi is not None:
        sql += f" AND {column} <= :hi"
    return sql


def ledger_households(conn, grid_code, *, lo=None, hi=None, after=None, limit=500,
                      visited=None, tag=None, deleted=False):
    """One page of a grid's live households in ledger order, each with `visited`.

    after: the cursor [address, building, unit_no, room, id, seq] of the previous page.
    """
    visited_sql = _VISITED_SQL.format(period=_period("v.visited_at_utc", lo, hi))
    where = ["h.grid_code = :grid"] if deleted else ["h.grid_code = :grid", "h.deleted = 0"]
    params = {"grid": grid_code, "lo": lo, "hi": hi, "limit": limit}
    if visited is not None:
        where.append(visited_sql if visited else f"NOT {visited_sql}")
    if tag:
        where.append("EXISTS (SELECT 1 FROM json_each(h.tags) WHERE json_each.value = :tag)")
        params["tag"] = tag
    seq = 0
    if after is not None:
        where.append(f"({_HOUSEHOLD_ORDER}) > (:a0, :a1, :a2, :a3, :a4)")
        params.update({f"a{i}": after[i] for i in range(5)})
        seq = after[5]
    sql = (f"SELECT h.id, h.address, h.building, h.unit_no, h.room, h.head_name, h.phone,"
           f" h.tags, {visited_sql} AS visited FROM households h WHERE {' AND '.join(where)}"
           f" ORDER BY {_HOUSEHOLD_ORDER} LIMIT :limit")
    out = []
    for row in conn.execute(sql, params):
        seq += 1
        household = dict(row)
        visited_flag = bool(household.pop("visited"))
        household["tags"] = json.loads(household["tags"])
        cursor = [household["address"], household["building"] or "", household["unit_no"] or "",
                  household["room"] or "", household["id"], seq]
        out.append((seq, household, visited_flag, cursor))
    return out


def visits_of(conn, household_ids, *, lo=None, hi=None):
    """{household_id: [visit, …]} in the period, oldest first."""
    out = {hid: [] for hid in household_ids}
    ids = list(household_ids)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        names = [f"h{j}" for j in range(len(chunk))]
        params = dict(zip(names, chunk, strict=True), lo=lo, hi=hi)
        sql = ("SELECT v.id, v.household_id, v.visited_at, v.outcome, v.notes,"
               " coalesce(nullif(u.display_name, ''), u.username) AS visitor"
               " FROM visits v LEFT JOIN users u ON u.id = v.visitor_id"
               f" WHERE v.household_id IN ({', '.join(':' + n for n in names)})"
               f"{_period('v.visited_at_utc', lo, hi)} ORDER BY v.visited_at_utc, v.id")
        for row in conn.execute(sql, params):
            visit = dict(row)
            out[visit.pop("household_id")].append(visit)
    return out


# --- the CSV fast path of the problem lists -------------------------------------------------
# The CSV of a problem or rectification list is formatted by SQLite (Asia/Shanghai wall clock,
# true/false, whole amounts without '.0', formula-looking text neutralised) and handed to
# csv.writer as tuples: no per-cell Python. Masking is done in SQL too (_MASKED, the same
# Python masking called as SQL functions). The result
# is byte for byte what the generic writer (exports/csv_writer.py) makes of the JSON rows;
# tests/test_exports.py checks it.

def _local_ts(expr):
    """A stored ISO datetime as Asia/Shanghai wall-clock text (China has no DST since 1991).

    datetime(…) is strftime('%Y-%m-%d %H:%M:%S', …) without the format parsing (~10 % of
    the export's SQL time)."""
    return (f"datetime(substr({expr}, 1, 19) || CASE WHEN {expr} LIKE '%Z'"
            f" THEN 'Z' ELSE substr({expr}, -6) END, '+8 hours')")


def _safe_text(expr):
    """Text a spreadsheet would run as a formula gets a leading apostrophe (as _cell does)."""
    return (f"CASE WHEN NOT ({expr} GLOB '[=@+-]*' OR {expr} GLOB '[\t\r]*') THEN {expr}"
            f" WHEN substr({expr}, 1, 1) IN ('=', '@', char(9), char(13))"
            f" OR (substr({expr}, 1, 1) IN ('+', '-') AND substr({expr}, 2) GLOB '*[^0-9 ()+-]*')"
            f" THEN '''' || {expr} ELSE {expr} END")


def _flag(expr):
    return f"CASE WHEN {expr} THEN 'true' ELSE 'false' END"


def _amount(expr):
    return (f"CASE WHEN {expr} = CAST({expr} AS INTEGER) THEN CAST({expr} AS INTEGER)"
            f" ELSE {expr} END")


_CSV_SQL = {
    "number": "p.number", "reported_at": _local_ts("p.reported_at"),
    "source": _safe_text("p.source"), "grid_code": "p.grid_code",
    "grid_name": _safe_text("g.name"), "category": "p.category",
    "category_name": _safe_text("c.name"), "description": _safe_text("p.description"),
    "urgency": "p.urgency", "status": "p.status", "level": "p.level",
    "responsible_unit": _safe_text("p.responsible_unit"),
    "responsible_person": _safe_text("p.responsible_person"),
    "measures": _safe_text("p.measures"), "accepted_at": _local_ts("p.accepted_at"),
    "due_at": _local_ts("p.due_at"), "due_estimated": _flag("p.due_estimated"),
    "rectified_at": _local_ts("p.rectified_at"), "verified_at": _local_ts("p.verified_at"),
    "closed_at": _local_ts("p.closed_at"), "overdue": _flag(OVERDUE_SQL),
    "supervised": _flag("p.supervised"), "rating": "p.rating",
    "cost_share_resident": _amount("p.cost_share_resident"),
    "cost_share_society": _amount("p.cost_share_society"),
    "cost_share_subsidy": _amount("p.cost_share_subsidy"),
}
# Masking calls the one Python masking (services/masking.py) as SQL functions.
_MASKED = {key: masked_sql(key) for key in ("head_name", "phone", "address")}


def problem_csv_tuples(conn, community_code, keys, *, now, kind, unmask, lo=None, hi=None,
                       status=None, category=None, grid=None, overdue=None, supervised=None):
    """Tuples of CSV-ready values of keys (the list's columns without seq), in list order."""
    where, params = _problem_where(
        community_code, accepted_only=kind == "rectification-list", lo=lo, hi=hi, status=status,
        category=category, grid=grid, overdue=overdue, supervised=supervised)
    params["now"] = now
    problem_keys = [k for k in keys if k not in _HOUSEHOLD_KEYS]
    household_keys = [k for k in keys if k in _HOUSEHOLD_KEYS]
    select = [_CSV_SQL[key] for key in problem_keys]
    if not household_keys:
        sql = (f"SELECT {', '.join(select)} FROM problems p"
               " LEFT JOIN units g ON g.code = p.grid_code"
               " LEFT JOIN categories c ON c.code = p.category"
               f" WHERE {' AND '.join(where)} ORDER BY p.reported_at, p.number")
        cursor = conn.cursor()
        cursor.row_factory = None
        return cursor.execute(sql, params)
    # The household's columns are joined in Python from the community's households, read
    # once: a per-row join (22k random primary-key lookups) halved the export's speed.
    household_select = ", ".join(_household_csv_sql(key, unmask) for key in household_keys)
    households = _community_households(conn, community_code, household_select,
                                       len(household_keys))
    sql = (f"SELECT p.household_id, {', '.join(select)} FROM problems p"
           " LEFT JOIN units g ON g.code = p.grid_code"
           " LEFT JOIN categories c ON c.code = p.category"
           f" WHERE {' AND '.join(where)} ORDER BY p.reported_at, p.number")
    cursor = conn.cursor()
    cursor.row_factory = None
    cursor.execute(sql, params)
    # row + household columns, put back in the order of keys
    width = 1 + len(problem_keys)
    order = [width + household_keys.index(k) if k in _HOUSEHOLD_KEYS
             else 1 + problem_keys.index(k) for k in keys]
    pick = itemgetter(*order) if len(order) > 1 else (lambda r: (r[order[0]],))
    return (pick(row + households[row[0]]) for row in cursor)


_HOUSEHOLD_KEYS = ("address", "head_name", "phone")


def _household_csv_sql(key, unmask):
    return _safe_text(f"h.{key}" if unmask else _MASKED[key])


def _community_households(conn, community_code, household_select, width):
    """{household id: (CSV-ready columns)} of the households in the community's grids (a
    household elsewhere, e.g. moved since, is looked up when a row names it)."""
    households = _Households(conn, household_select, width)
    unit = conn.execute("SELECT path FROM units WHERE code = ?", (community_code,)).fetchone()
    if unit is None:
        return households
    rows = conn.execute(
        f"SELECT h.id, {household_select} FROM households h WHERE h.grid_code IN"
        " (SELECT code FROM units WHERE level = 'grid' AND path LIKE ? ESCAPE '\\')",
        (like_prefix(unit[0]),))
    households.update((row[0], tuple(row[1:])) for row in rows)
    return households


class _Households(dict):
    """household id → CSV-ready columns; an id not read with the community is looked up."""

    def __init__(self, conn, household_select, width):
        super().__init__()
        self.conn, self.select, self.none = conn, household_select, (None,) * width

    def __missing__(self, household_id):
        found = None
        if household_id is not None:
            found = self.conn.execute(f"SELECT {self.select} FROM households h WHERE h.id = ?",
                                      (household_id,)).fetchone()
        self[household_id] = tuple(found) if found is not None else self.none
        return self[household_id]


# --- the XLSX fast path: typed values for the row XML writer ---------------------------------

def _unix_seconds(expr):
    """A stored ISO datetime as whole Unix seconds (the XLSX writer makes it an Excel date)."""
    return (f"CAST(strftime('%s', substr({expr}, 1, 19) || CASE WHEN {expr} LIKE '%Z'"
            f" THEN 'Z' ELSE substr({expr}, -6) END) AS INTEGER)")


_XLSX_SQL = {
    "number": "p.number", "reported_at": _unix_seconds("p.reported_at"), "source": "p.source",
    "grid_code": "p.grid_code", "grid_name": "g.name", "category": "p.category",
    "category_name": "c.name", "description": "p.description", "urgency": "p.urgency",
    "status": "p.status", "level": "p.level", "responsible_unit": "p.responsible_unit",
    "responsible_person": "p.responsible_person", "measures": "p.measures",
    "accepted_at": _unix_seconds("p.accepted_at"), "due_at": _unix_seconds("p.due_at"),
    "due_estimated": "p.due_estimated != 0", "rectified_at": _unix_seconds("p.rectified_at"),
    "verified_at": _unix_seconds("p.verified_at"), "closed_at": _unix_seconds("p.closed_at"),
    "overdue": OVERDUE_SQL, "supervised": "p.supervised != 0", "rating": "p.rating",
    "cost_share_resident": "p.cost_share_resident", "cost_share_society": "p.cost_share_society",
    "cost_share_subsidy": "p.cost_share_subsidy", "address": "h.address",
}


def problem_xlsx_tuples(conn, community_code, keys, *, now, kind, unmask, lo=None, hi=None,
                        status=None, category=None, grid=None, overdue=None, supervised=None):
    """Tuples of typed values of keys (datetimes as Unix seconds, flags 0/1), in list order."""
    where, params = _problem_where(
        community_code, accepted_only=kind == "rectification-list", lo=lo, hi=hi, status=status,
        category=category, grid=grid, overdue=overdue, supervised=supervised)
    params["now"] = now
    select = []
    for key in keys:
        if key in _MASKED:
            select.append(f"h.{key}" if unmask else _MASKED[key])
        else:
            select.append(_XLSX_SQL[key])
    sql = (f"SELECT {', '.join(select)} FROM problems p"
           " LEFT JOIN units g ON g.code = p.grid_code"
           " LEFT JOIN households h ON h.id = p.household_id"
           " LEFT JOIN categories c ON c.code = p.category"
           f" WHERE {' AND '.join(where)} ORDER BY p.reported_at, p.number")
    cursor = conn.cursor()
    cursor.row_factory = None
    return cursor.execute(sql, params)
