"""SQL of the secretaries' lists: problem list, rectification list, visit ledger.

Every list is read with keyset pagination, one statement per page, so a JSON page and a
full export share the same query and an export never holds more than a page in memory.
"""

import json

from ..statuses import DONE
from .overdue import deadline_runs_sql, overdue_sql
from .units import like_prefix

OVERDUE_SQL = overdue_sql("p", ":now")

# --- the problem and rectification lists: one query, three forms --------------------------
# A JSON page, a CSV and an XLSX are the same SELECT over the same WHERE and ORDER BY (_list_where,
# index order); only each field's expression differs by form:
#   raw  — the stored value (JSON pages, problem_rows);
#   csv  — the CSV line (problem_csv_lines): Asia/Shanghai wall-clock datetimes, true/false (or
#          是/否), whole amounts without '.0', formula-looking text neutralised and quoted (as
#          exports/csv_writer does);
#   xlsx — the row's cells as sheet XML (problem_xml_rows, below).
# A column with a label mapping (lang=zh: status 待受理, flags 是/否) reads as its label.
# The household's fields are not joined from the big households table: the caller stages the
# households the list names (masked in Python), and the names of grids and categories and the
# 剩余时限 texts of the due dates are staged too, in temporary tables joined by key.

DATETIME, FLAG, AMOUNT, TEXT, CODE, INT = "datetime", "flag", "amount", "text", "code", "int"

PROBLEM_FIELDS = {
    "number": ("p.number", CODE),
    "reported_at": ("p.reported_at", DATETIME),
    "source": ("p.source", TEXT),
    "grid_code": ("p.grid_code", CODE),
    "grid_name": ("g.name", TEXT),
    "category": ("p.category", CODE),
    "category_group": ("coalesce(cp.name, c.name)", TEXT),  # 问题大类: the parent's name
    "category_name": ("c.name", TEXT),
    "description": ("p.description", TEXT),
    "urgency": ("p.urgency", CODE),
    "status": ("p.status", CODE),
    "level": ("p.level", CODE),
    "responsible_unit": ("p.responsible_unit", TEXT),
    "responsible_person": ("p.responsible_person", TEXT),
    "measures": ("p.measures", TEXT),
    "accepted_at": ("p.accepted_at", DATETIME),
    "due_at": ("p.due_at", DATETIME),
    "due_estimated": ("p.due_estimated", FLAG),
    "rectified_at": ("p.rectified_at", DATETIME),
    "verified_at": ("p.verified_at", DATETIME),
    "closed_at": ("p.closed_at", DATETIME),
    "overdue": (OVERDUE_SQL, FLAG),
    "supervised": ("p.supervised", FLAG),
    "rating": ("p.rating", INT),
    "cost_share_resident": ("p.cost_share_resident", AMOUNT),
    "cost_share_society": ("p.cost_share_society", AMOUNT),
    "cost_share_subsidy": ("p.cost_share_subsidy", AMOUNT),
}
HOUSEHOLD_FIELDS = ("address", "head_name", "phone")
# Every row starts with these (not shown): the household to map, the time-left inputs and
# the page cursor.
_LEAD = "p.household_id, p.status, p.due_at, p.reported_at, p.number"
_FROM = """FROM problems p
LEFT JOIN units g ON g.code = p.grid_code
LEFT JOIN categories c ON c.code = p.category
LEFT JOIN categories cp ON cp.code = c.parent_code"""


def _local_ts(expr, function="datetime"):
    """A stored ISO datetime as Asia/Shanghai wall-clock text (China has no DST since 1991);
    with function="date" its local date.

    The stored form is UTC ('…+00:00', timeutil.iso): its first 19 characters plus 8 hours
    (cut before the fraction, which datetime() would round up); another offset is applied by
    datetime() first. datetime(…) is strftime('%Y-%m-%d %H:%M:%S', …) without the format
    parsing."""
    return (
        f"CASE WHEN substr({expr}, -6) = '+00:00'"
        f" THEN {function}(substr({expr}, 1, 19), '+8 hours')"
        f" ELSE {function}(substr({expr}, 1, 19) || CASE WHEN {expr} LIKE '%Z'"
        f" THEN 'Z' ELSE substr({expr}, -6) END, '+8 hours') END"
    )


def _unix_seconds(expr):
    """A stored ISO datetime as whole Unix seconds (an Excel date for the XLSX); the stored
    UTC form needs no offset parsed."""
    return (
        f"CASE WHEN substr({expr}, -6) = '+00:00' THEN unixepoch(substr({expr}, 1, 19))"
        f" ELSE CAST(strftime('%s', substr({expr}, 1, 19) || CASE WHEN {expr} LIKE '%Z'"
        f" THEN 'Z' ELSE substr({expr}, -6) END) AS INTEGER) END"
    )


def _safe_text(expr):
    """Text a spreadsheet would run as a formula gets a leading apostrophe (as the CSV
    writer's safe_text does). Most text starts with none of = @ + - tab CR: one unicode()
    call decides."""
    return (
        f"CASE WHEN unicode({expr}) NOT IN (61, 64, 43, 45, 9, 13) THEN {expr}"
        f" WHEN substr({expr}, 1, 1) IN ('=', '@', char(9), char(13))"
        f" OR substr({expr}, 2) GLOB '*[^0-9 ()+-]*'"
        f" THEN '''' || {expr} ELSE {expr} END"
    )


def _amount(expr):
    return (
        f"CASE WHEN {expr} = CAST({expr} AS INTEGER) THEN CAST({expr} AS INTEGER) ELSE {expr} END"
    )


def _quote(text):
    return "'" + str(text).replace("'", "''") + "'"


def _labelled(expr, kind, mapping):
    """expr read through a {code: label} mapping ({True: …, False: …} for a flag); an
    unknown code reads as itself."""
    if kind == FLAG:
        return f"CASE WHEN {expr} THEN {_quote(mapping[True])} ELSE {_quote(mapping[False])} END"
    whens = " ".join(f"WHEN {_quote(code)} THEN {_quote(text)}" for code, text in mapping.items())
    return f"CASE {expr} {whens} ELSE {expr} END"


_FORMS = {
    "raw": {},
    "csv": {
        DATETIME: _local_ts,
        TEXT: _safe_text,
        AMOUNT: _amount,
        FLAG: lambda e: f"CASE WHEN {e} THEN 'true' ELSE 'false' END",
    },
}


def _field_sql(key, form, mapping):
    expr, kind = PROBLEM_FIELDS[key]
    if mapping is not None:
        return _labelled(expr, kind, mapping)
    convert = _FORMS[form].get(kind)
    return convert(expr) if convert else expr


def _problem_where(
    community_code,
    *,
    accepted_only,
    lo=None,
    hi=None,
    status=None,
    category=None,
    grid=None,
    overdue=None,
    supervised=None,
):
    """WHERE and parameters of a community's problems under the list filters (each None:
    not filtered)."""
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
        where.append(
            "p.category IN (SELECT code FROM categories WHERE code = :category"
            " OR parent_code = :category)"
        )
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


def _list_where(community_code, kind, now, **filters):
    """WHERE and parameters of a problem list (the rectification list: accepted ones only),
    with :now for the overdue flag."""
    where, params = _problem_where(
        community_code, accepted_only=kind == "rectification-list", **filters
    )
    params["now"] = now
    return where, params


def problem_rows(
    conn,
    community_code,
    keys,
    *,
    form,
    now,
    kind,
    labels=None,
    after=None,
    limit=None,
    **filters,
):
    """A cursor over a community's problem or rectification list, oldest report first.

    Each row is (household_id, status, due_at, reported_at, number, *values of keys) with
    the values in `form` (raw | csv) and `labels` {key: mapping} applied. keys are
    PROBLEM_FIELDS keys. after: (reported_at, number) of the previous page's last row.
    """
    where, params = _list_where(community_code, kind, now, **filters)
    if after is not None:
        where.append("(p.reported_at, p.number) > (:after_at, :after_number)")
        params.update(after_at=after[0], after_number=after[1])
    labels = labels or {}
    select = "".join(f", {_field_sql(k, form, labels.get(k))}" for k in keys)
    sql = (
        f"SELECT {_LEAD}{select} {_FROM} WHERE {' AND '.join(where)}"
        " ORDER BY p.reported_at, p.number"
    )
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    cursor = conn.cursor()
    cursor.row_factory = None
    return cursor.execute(sql, params)


def community_households(conn, community_code):
    """{id: (address, head_name, phone)} of the households in the community's grids."""
    unit = conn.execute("SELECT path FROM units WHERE code = ?", (community_code,)).fetchone()
    if unit is None:
        return {}
    rows = conn.execute(
        "SELECT h.id, h.address, h.head_name, h.phone FROM households h WHERE h.grid_code IN"
        " (SELECT code FROM units WHERE level = 'grid' AND path LIKE ? ESCAPE '\\')",
        (like_prefix(unit[0]),),
    )
    return {row[0]: tuple(row[1:]) for row in rows}


def household_fields(conn, household_id):
    """(address, head_name, phone) of one household, or None."""
    row = conn.execute(
        "SELECT address, head_name, phone FROM households WHERE id = ?", (household_id,)
    ).fetchone()
    return tuple(row) if row is not None else None


# --- visit ledger -----------------------------------------------------------------------

_HOUSEHOLD_ORDER = (
    "h.address, coalesce(h.building, ''), coalesce(h.unit_no, ''), coalesce(h.room, ''), h.id"
)
_VISITED_SQL = (
    "EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id AND v.outcome = 'met'{period})"
)


def _period(column, lo, hi):
    sql = ""
    if lo is not None:
        sql += f" AND {column} >= :lo"
    if hi is not None:
        sql += f" AND {column} <= :hi"
    return sql


def ledger_households(
    conn,
    grid_code,
    *,
    lo=None,
    hi=None,
    after=None,
    limit=500,
    visited=None,
    tag=None,
    deleted=False,
):
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
    sql = (
        f"SELECT h.id, h.address, h.building, h.unit_no, h.room, h.head_name, h.phone,"
        f" h.tags, {visited_sql} AS visited FROM households h WHERE {' AND '.join(where)}"
        f" ORDER BY {_HOUSEHOLD_ORDER} LIMIT :limit"
    )
    out = []
    for row in conn.execute(sql, params):
        seq += 1
        household = dict(row)
        visited_flag = bool(household.pop("visited"))
        household["tags"] = json.loads(household["tags"])
        cursor = [
            household["address"],
            household["building"] or "",
            household["unit_no"] or "",
            household["room"] or "",
            household["id"],
            seq,
        ]
        out.append((seq, household, visited_flag, cursor))
    return out


def visits_of(conn, household_ids, *, lo=None, hi=None):
    """{household_id: [visit, …]} in the period, oldest first."""
    out = {hid: [] for hid in household_ids}
    ids = list(household_ids)
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        names = [f"h{j}" for j in range(len(chunk))]
        params = dict(zip(names, chunk, strict=True), lo=lo, hi=hi)
        sql = (
            "SELECT v.id, v.household_id, v.visited_at, v.outcome, v.notes,"
            " coalesce(nullif(u.display_name, ''), u.username) AS visitor"
            " FROM visits v LEFT JOIN users u ON u.id = v.visitor_id"
            f" WHERE v.household_id IN ({', '.join(':' + n for n in names)})"
            f"{_period('v.visited_at_utc', lo, hi)} ORDER BY v.visited_at_utc, v.id"
        )
        for row in conn.execute(sql, params):
            visit = dict(row)
            out[visit.pop("household_id")].append(visit)
    return out


# --- the CSV lines of the problem lists ---------------------------------------------------------
# For a CSV, SQLite writes each whole line (printf of the csv form's cells, quoted as
# csv.writer quotes: a cell holding , " CR or LF in double quotes, its quotes doubled). The
# household's cells come from a temporary table the caller fills (masked, formula-safe), and
# 剩余时限 from TIME_LEFT_SQL.

_NEEDS_QUOTES = "'*[,\"\r\n]*'"


def _csv_quoted(expr):
    return (
        f"CASE WHEN {expr} GLOB {_NEEDS_QUOTES}"
        f" THEN '\"' || replace({expr}, '\"', '\"\"') || '\"' ELSE {expr} END"
    )


def _csv_text(expr):
    """A free-text cell: formula-safe, then quoted if need be. Most text needs neither: one
    unicode() and one GLOB decide that before the full expression runs."""
    return (
        f"CASE WHEN unicode({expr}) NOT IN (61, 64, 43, 45, 9, 13)"
        f" AND NOT {expr} GLOB {_NEEDS_QUOTES} THEN {expr}"
        f" ELSE {_csv_quoted(_safe_text(expr))} END"
    )


def _csv_cell(key, labels):
    """The CSV cell of a PROBLEM_FIELDS key: a labelled column's labels are quoted once,
    as constants (SQLite works out constant expressions before the first row)."""
    expr, kind = PROBLEM_FIELDS[key]
    if labels is not None and kind != FLAG:
        whens = " ".join(
            f"WHEN {_quote(code)} THEN {_csv_quoted(_quote(text))}" for code, text in labels.items()
        )
        unknown = _csv_quoted(expr) if kind == TEXT else expr
        return f"CASE {expr} {whens} ELSE {unknown} END"
    cell = _field_sql(key, "csv", labels)
    return _csv_text(expr) if kind == TEXT and labels is None else cell


# The small tables' texts (grid and category names) are rendered once per export into
# temporary tables, joined by code (in memory, one lookup each) instead of units and
# categories (an index and a table lookup each, and the rendering per row).
_STAGED = {
    "grid_name": "eg.name",
    "category_group": "ec.grp",
    "category_name": "ec.name",
}
_STAGED_FROM = """FROM problems p
LEFT JOIN temp.export_grids eg ON eg.code = p.grid_code
LEFT JOIN temp.export_categories ec ON ec.code = p.category
LEFT JOIN temp.export_households eh ON eh.id = p.household_id"""


def stage_names(conn, render):
    """Every grid's name and every category's name and group (its parent's name, as
    PROBLEM_FIELDS reads them) through render (an SQL expression → the cell's SQL) into
    temp.export_grids and temp.export_categories."""
    for table in ("export_grids", "export_categories"):
        conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
    conn.execute("CREATE TEMP TABLE export_grids (code TEXT PRIMARY KEY, name TEXT) WITHOUT ROWID")
    conn.execute(
        "CREATE TEMP TABLE export_categories (code TEXT PRIMARY KEY, grp TEXT, name TEXT)"
        " WITHOUT ROWID"
    )
    conn.execute(
        f"INSERT INTO temp.export_grids SELECT g.code, {render(PROBLEM_FIELDS['grid_name'][0])}"
        " FROM units g WHERE g.level = 'grid'"
    )
    group, name = PROBLEM_FIELDS["category_group"][0], PROBLEM_FIELDS["category_name"][0]
    conn.execute(
        f"INSERT INTO temp.export_categories SELECT c.code, {render(group)}, {render(name)}"
        " FROM categories c LEFT JOIN categories cp ON cp.code = c.parent_code"
    )


def stage_households(conn, rows):
    """rows (id, address, head_name, phone), as the export shows them, into the temporary
    table temp.export_households that the export queries join."""
    conn.execute("DROP TABLE IF EXISTS temp.export_households")
    conn.execute(
        "CREATE TEMP TABLE export_households (id TEXT PRIMARY KEY, address TEXT,"
        " head_name TEXT, phone TEXT) WITHOUT ROWID"
    )
    conn.executemany("INSERT INTO temp.export_households VALUES (?, ?, ?, ?)", rows)


def list_households(conn, community_code, *, now, kind, **filters):
    """(id, address, head_name, phone) of every household a row of the list names (wherever
    it lives now), stored values."""
    where, params = _list_where(community_code, kind, now, **filters)
    return conn.execute(
        "SELECT h.id, h.address, h.head_name, h.phone FROM households h WHERE h.id IN"
        f" (SELECT p.household_id FROM problems p WHERE {' AND '.join(where)})",
        params,
    )


# 剩余时限 in SQL: done, or the text of the due date's row in temp.export_time_left (staged
# by the caller from deadlines.TimeLeft.day_texts for every due date of the list), or empty.
_DUE_DAY = _local_ts("p.due_at", "date")


def time_left_sql(render=lambda text: text, columns=("t.late", "t.ahead")):
    """剩余时限 of the row: render (an SQL expression → the cell's SQL) is applied to a
    parameter, a constant or one of the staged columns (once past due, while not), never to
    this whole expression, so that the cell is worked out once."""
    late, ahead = columns
    return (
        f"CASE WHEN p.status IN ({', '.join(_quote(s) for s in DONE)})"
        f" THEN {render(':time_left_done')}"
        f" WHEN {deadline_runs_sql('p')} THEN (SELECT CASE WHEN p.due_at < :now"
        f" THEN {late} ELSE {ahead} END FROM temp.export_time_left t"
        f" WHERE t.day = {_DUE_DAY}) ELSE {render(chr(39) * 2)} END"
    )


TIME_LEFT_SQL = time_left_sql()


def due_days(conn, community_code, *, now, kind, **filters):
    """The local due dates (ISO text) of the list's rows whose deadline runs."""
    where, params = _list_where(community_code, kind, now, **filters)
    where.append(deadline_runs_sql("p"))
    sql = f"SELECT DISTINCT {_DUE_DAY} FROM problems p WHERE {' AND '.join(where)}"
    return [day for (day,) in conn.execute(sql, params)]


def stage_time_left(conn, rows):
    """rows (day, text while not past due, text once past due) into temp.export_time_left,
    which TIME_LEFT_SQL reads."""
    conn.execute("DROP TABLE IF EXISTS temp.export_time_left")
    conn.execute(
        "CREATE TEMP TABLE export_time_left (day TEXT PRIMARY KEY, ahead TEXT, late TEXT)"
        " WITHOUT ROWID"
    )
    conn.executemany("INSERT INTO temp.export_time_left VALUES (?, ?, ?)", rows)


def problem_csv_lines(
    conn,
    community_code,
    keys,
    *,
    now,
    kind,
    done_text,
    labels=None,
    **filters,
):
    """A cursor of 1-tuples: the CSV line (without seq and line end) of each row, in list
    order. keys: PROBLEM_FIELDS and HOUSEHOLD_FIELDS keys and time_left (done_text: its
    text for a rectified or closed problem)."""
    where, params = _list_where(community_code, kind, now, **filters)
    params["time_left_done"] = done_text
    labels = labels or {}
    stage_names(conn, _csv_text)
    cells = []
    for key in keys:
        if key == "time_left":
            cells.append(TIME_LEFT_SQL)
        elif key in HOUSEHOLD_FIELDS:
            cells.append(_csv_quoted(f"eh.{key}"))
        elif key in _STAGED:
            cells.append(_STAGED[key])
        else:
            cells.append(_csv_cell(key, labels.get(key)))
    sql = (
        f"SELECT printf('{','.join(['%s'] * len(cells))}', {', '.join(cells)}) {_STAGED_FROM}"
        f" WHERE {' AND '.join(where)} ORDER BY p.reported_at, p.number"
    )
    cursor = conn.cursor()
    cursor.row_factory = None
    return cursor.execute(sql, params)


# --- the XLSX rows of the problem lists ---------------------------------------------------------
# SQLite writes each row's cells as the XML the XLSX writer puts in the sheet: the caller gives
# each column's cell head ('<c r="B…" s="5"', the row number left for it to fill in), the kind
# of the written cell, its labels and, for wrapped text, the characters a line holds; each row
# comes back with the number of lines its wrapped text takes (the row's height). Text a quick
# check cannot pass as it is (XML specials, control characters, '_x', space at either end) goes
# through the SQL function xlsx_text(head, text) that the caller registers; the parameters
# :xml_special (a GLOB) and :xml_space (the characters str.isspace() knows) come with it.


def _xml_text(head, expr):
    return (
        f"CASE WHEN {expr} IS NULL OR {expr} = '' THEN {_quote(head + '/>')}"
        f" WHEN NOT {expr} GLOB :xml_special AND trim({expr}, :xml_space) = {expr}"
        f" AND instr({expr}, char(0)) = 0"
        f" THEN {_quote(head + ' t=' + chr(34) + 'inlineStr' + chr(34) + '><is><t>')}"
        f" || {expr} || '</t></is></c>' ELSE xlsx_text({_quote(head)}, {expr}) END"
    )


def _xml_value(head, expr, attributes=""):
    """A number cell; expr is its text."""
    return f"{_quote(head + attributes + '><v>')} || {expr} || '</v></c>'"


def _xml_lines(expr, units):
    """Lines of wrapped text (exports/xlsx_writer.text_lines: a character is one unit, a
    CJK one two; a line holds units; every newline adds one), 1 for empty text. Text whose
    UTF-8 length fits on a line and has no newline takes one, without the arithmetic."""
    size = f"length(CAST({expr} AS BLOB))"
    return (
        f"CASE WHEN {expr} IS NULL OR {expr} = '' THEN 1"
        f" WHEN {size} <= {units} AND instr({expr}, char(10)) = 0 THEN 1"
        f" ELSE max(1, (length({expr}) + ({size} - length({expr})) / 2 + {units - 1}) / {units}"
        f" + length({expr}) - length(replace({expr}, char(10), ''))) END"
    )


def _xml_cell(head, key, expr, cell_kind, labels):
    """The SQL of a cell's XML (PROBLEM_FIELDS kind of key, or TEXT for the staged ones)."""
    kind = PROBLEM_FIELDS[key][1] if key in PROBLEM_FIELDS else TEXT
    if labels is not None:
        if kind == FLAG:
            yes, no = _xml_text(head, _quote(labels[True])), _xml_text(head, _quote(labels[False]))
            return f"CASE WHEN {expr} THEN {yes} ELSE {no} END"
        whens = " ".join(
            f"WHEN {_quote(code)} THEN {_xml_text(head, _quote(text))}"
            for code, text in labels.items()
        )
        return f"CASE {expr} {whens} ELSE {_xml_text(head, expr)} END"
    empty = _quote(head + "/>")
    if kind == DATETIME:
        serial = f"printf('%.16g', ({_unix_seconds(expr)} + 28800) / 86400.0 + 25569)"
        value = _xml_value(head, serial)
        return f"CASE WHEN {expr} IS NULL OR {expr} = '' THEN {empty} ELSE {value} END"
    if kind == FLAG:
        one, zero = (_xml_value(head, f"'{v}'", ' t="b"') for v in (1, 0))
        return f"CASE WHEN {expr} IS NULL THEN {empty} WHEN {expr} THEN {one} ELSE {zero} END"
    if cell_kind in ("int", "number"):
        value = _xml_value(head, f"printf('%.16g', {expr})")
        return f"CASE WHEN {expr} IS NULL OR {expr} = '' THEN {empty} ELSE {value} END"
    return _xml_text(head, expr)


def _xml_row_lines(key, expr, units, labels):
    if labels is not None and PROBLEM_FIELDS.get(key, ("", TEXT))[1] == FLAG:
        yes, no = (_xml_lines(_quote(labels[v]), units) for v in (True, False))
        return f"CASE WHEN {expr} THEN {yes} ELSE {no} END"
    if labels is not None:
        whens = " ".join(
            f"WHEN {_quote(code)} THEN {_xml_lines(_quote(text), units)}"
            for code, text in labels.items()
        )
        return f"CASE {expr} {whens} ELSE {_xml_lines(expr, units)} END"
    return _xml_lines(expr, units)


def problem_xml_rows(
    conn,
    community_code,
    cells,
    *,
    now,
    kind,
    done_text,
    xml_special,
    xml_space,
    **filters,
):
    """A cursor of (cells' XML, lines) of each row, in list order.

    cells: (key, head, cell kind, labels or None, units a line holds or None when not
    wrapped) per column; keys as for problem_csv_lines."""
    where, params = _list_where(community_code, kind, now, **filters)
    params.update(time_left_done=done_text, xml_special=xml_special, xml_space=xml_space)
    stage_names(conn, lambda expr: expr)
    plan = {key: (head, cell_kind, labels, units) for key, head, cell_kind, labels, units in cells}
    staged = _render_staged(conn, plan, params)
    parts, lines = [], []
    for key, head, cell_kind, labels, units in cells:
        if key in staged:
            cell, cell_lines = staged[key]
            parts.append(cell)
            if units:
                lines.append(cell_lines)
            continue
        expr = PROBLEM_FIELDS[key][0]
        parts.append(_xml_cell(head, key, expr, cell_kind, labels))
        if units:
            lines.append(_xml_row_lines(key, expr, units, labels))
    row_lines = f"max(1, {', '.join(lines)})" if lines else "1"
    sql = (  # printf builds the row at once (|| would copy it at every cell)
        f"SELECT printf('{'%s' * len(parts)}', {', '.join(parts)}), {row_lines} {_STAGED_FROM}"
        f" WHERE {' AND '.join(where)} ORDER BY p.reported_at, p.number"
    )
    cursor = conn.cursor()
    cursor.row_factory = None
    return cursor.execute(sql, params)


# The staged tables' texts, rendered once per grid, category, household and due date as the
# cells of their columns: table → (key column, {key: column}).
_STAGED_TABLES = {
    "export_grids": ("code", {"grid_name": "name"}),
    "export_categories": ("code", {"category_group": "grp", "category_name": "name"}),
    "export_households": ("id", {k: k for k in HOUSEHOLD_FIELDS}),
    "export_time_left": ("day", {"time_left": "late", "time_left.ahead": "ahead"}),
}


def _render_staged(conn, plan, params):
    """Replace each staged table by one holding its texts as the XML cells (and lines) of
    the plan's columns; returns {key: (the cell's SQL, the lines' SQL)} for the row query."""
    out = {}
    for table, (key_column, keys) in _STAGED_TABLES.items():
        alias = {"export_grids": "eg", "export_categories": "ec", "export_households": "eh"}
        selects, names = [key_column], [f"{key_column} TEXT PRIMARY KEY"]
        for key, column in keys.items():
            found = plan.get(key.split(".")[0])
            if found is None:
                continue
            head, _kind, _labels, units = found
            selects += [_xml_text(head, column), _xml_lines(column, units or 1)]
            names += [f"{column} TEXT", f"{column}_lines INTEGER"]
            if table in alias:  # (a LEFT JOIN that finds nothing: an empty cell)
                out[key] = (
                    f"coalesce({alias[table]}.{column}, {_quote(head + '/>')})",
                    f"coalesce({alias[table]}.{column}_lines, 1)",
                )
        conn.execute(f"DROP TABLE IF EXISTS temp.{table}_xml")
        conn.execute(f"CREATE TEMP TABLE {table}_xml ({', '.join(names)}) WITHOUT ROWID")
        conn.execute(
            f"INSERT INTO temp.{table}_xml SELECT {', '.join(selects)} FROM temp.{table}",
            params,
        )
        conn.execute(f"DROP TABLE temp.{table}")
        conn.execute(f"ALTER TABLE temp.{table}_xml RENAME TO {table}")
    if "time_left" in plan:
        head, _kind, _labels, units = plan["time_left"]
        cell = time_left_sql(lambda text: _xml_text(head, text), ("t.late", "t.ahead"))
        lines = time_left_sql(
            lambda text: _xml_lines(text, units or 1), ("t.late_lines", "t.ahead_lines")
        )
        out["time_left"] = (f"coalesce({cell}, {_quote(head + '/>')})", f"coalesce({lines}, 1)")
    return out
