"""GET /problems: the filtered, keyset-paginated problem collection."""

from .overdue import deadline_runs_sql, overdue_sql


def list_rows(conn, *, scope_sql, scope_params, unit_path_like=None, status=None, category=None,
              overdue=None, due_soon_until=None, now_iso=None, lo=None, hi=None, after=None,
              limit=100):
    """Problems newest reported first, ordered by (reported_at, id) descending."""
    where, params = [scope_sql, "deleted = 0"], list(scope_params)
    if unit_path_like:
        where.append("grid_code IN (SELECT code FROM units WHERE path LIKE ? ESCAPE '\\')")
        params.append(unit_path_like)
    if status:
        where.append("status = ?")
        params.append(status)
    if category:
        where.append("(category = ? OR category LIKE ? ESCAPE '\\')")
        params += [category, category.replace("_", "\\_") + ".%"]
    if overdue is not None:
        where.append(overdue_sql() if overdue else f"NOT {overdue_sql()}")
        params.append(now_iso)
    if due_soon_until is not None:
        where.append(f"({deadline_runs_sql()} AND due_at >= ? AND due_at <= ?)")
        params += [now_iso, due_soon_until]
    for cond, value in (("reported_at >= ?", lo), ("reported_at <= ?", hi)):
        if value is not None:
            where.append(cond)
            params.append(value)
    if after:
        where.append("(reported_at, id) < (?, ?)")
        params += list(after)
    sql = ("SELECT * FROM problems WHERE " + " AND ".join(where)
           + " ORDER BY reported_at DESC, id DESC LIMIT ?")
    params.append(limit)
    return [dict(r) for r in conn.execute(sql, params)]
