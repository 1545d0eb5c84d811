"""The filtered problem collection: GET /problems and the console's queues (SQL only).

A query is described by a criteria dict (services/problem_queue.py builds it); `condition`
turns one into a WHERE fragment, `list_rows` pages it, `count` counts it.
"""

from .overdue import deadline_runs_sql, overdue_sql


def _escape_like(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def condition(c):
    """(sql, params) for a criteria dict; every key optional:

    scope_sql/scope_params, unit_path_like, statuses (list), category (a leaf or a parent),
    source, supervised (bool), overdue (bool), due_soon_until (ISO), now_iso, lo, hi (ISO
    bounds of reported_at), q (words of the number or the description).
    """
    where, params = ["deleted = 0"], []
    if c.get("scope_sql"):
        where.append(c["scope_sql"])
        params += c.get("scope_params", [])
    if c.get("unit_path_like"):
        where.append("grid_code IN (SELECT code FROM units WHERE path LIKE ? ESCAPE '\\')")
        params.append(c["unit_path_like"])
    if c.get("statuses"):
        where.append(f"status IN ({', '.join('?' * len(c['statuses']))})")
        params += list(c["statuses"])
    if c.get("category"):
        where.append("(category = ? OR category LIKE ? ESCAPE '\\')")
        params += [c["category"], _escape_like(c["category"]) + ".%"]
    if c.get("source"):
        where.append("source = ?")
        params.append(c["source"])
    if c.get("supervised") is not None:
        where.append("supervised = ?")
        params.append(1 if c["supervised"] else 0)
    if c.get("overdue") is not None:
        where.append(overdue_sql() if c["overdue"] else f"NOT {overdue_sql()}")
        params.append(c["now_iso"])
    if c.get("due_soon_until") is not None:
        where.append(f"({deadline_runs_sql()} AND due_at >= ? AND due_at <= ?)")
        params += [c["now_iso"], c["due_soon_until"]]
    for cond, key in (("reported_at >= ?", "lo"), ("reported_at <= ?", "hi")):
        if c.get(key) is not None:
            where.append(cond)
            params.append(c[key])
    for word in (c.get("q") or "").split():
        where.append("(number LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\')")
        like = f"%{_escape_like(word)}%"
        params += [like, like]
    return " AND ".join(where), params


def list_rows(conn, criteria, *, after=None, offset=0, limit=100):
    """Problems newest reported first, ordered by (reported_at, id) descending.

    after: the (reported_at, id) of the last row of the previous page (keyset), or offset.
    """
    where, params = condition(criteria)
    if after:
        where += " AND (reported_at, id) < (?, ?)"
        params += list(after)
    # The ids first (from a covering index, sorted without touching the table), then the rows.
    ids = [
        r[0]
        for r in conn.execute(
            f"SELECT id FROM problems WHERE {where} ORDER BY reported_at DESC, id DESC"
            " LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
    ]
    if not ids:
        return []
    rows = {
        r["id"]: dict(r)
        for r in conn.execute(
            f"SELECT * FROM problems WHERE id IN ({', '.join('?' * len(ids))})", ids
        )
    }
    return [rows[i] for i in ids]


def count(conn, criteria):
    """How many problems match (one index range per grid and status, see migration 5)."""
    where, params = condition(criteria)
    return conn.execute(f"SELECT count(*) FROM problems WHERE {where}", params).fetchone()[0]
