"""Problem categories: a two-level table (group > leaf), leaves carry working_days."""

COLUMNS = "code, name, parent_code, working_days, sort"


def get(conn, code):
    row = conn.execute(f"SELECT {COLUMNS} FROM categories WHERE code = ?", (code,)).fetchone()
    return dict(row) if row else None


def is_leaf(conn, code):
    """True for an existing category with no children (only leaves classify problems)."""
    leaf = conn.execute(
        "SELECT 1 FROM categories c WHERE code = ? AND NOT EXISTS "
        "(SELECT 1 FROM categories k WHERE k.parent_code = c.code)",
        (code,),
    ).fetchone()
    return leaf is not None


def working_days(conn, code, default=3):
    """The deadline of a category in working days (default when unknown or unset)."""
    row = get(conn, code)
    if row is None or row["working_days"] is None:
        return default
    return row["working_days"]


def list_categories(conn, *, after=None, limit=100):
    """Categories in display order (group, then its leaves); after = (sort, code) of a cursor."""
    sql = f"SELECT {COLUMNS} FROM categories"
    params = []
    if after is not None:
        sql += " WHERE (sort, code) > (?, ?)"
        params += list(after)
    sql += " ORDER BY sort, code LIMIT ?"
    params.append(limit)
    return [dict(r) for r in conn.execute(sql, params)]


def insert(conn, code, name, parent_code, working_days):
    """Add a category at the end of its group (a group at the end of the list)."""
    if parent_code is None:
        sort = conn.execute("SELECT coalesce(max(sort), 0) + 1 FROM categories").fetchone()[0]
    else:
        # After the group's last leaf; later groups move down one place.
        last = conn.execute(
            "SELECT max(sort) FROM categories WHERE code = ? OR parent_code = ?",
            (parent_code, parent_code),
        ).fetchone()[0]
        conn.execute("UPDATE categories SET sort = sort + 1 WHERE sort > ?", (last,))
        sort = last + 1
    conn.execute(
        "INSERT INTO categories (code, name, parent_code, working_days, sort) "
        "VALUES (?, ?, ?, ?, ?)",
        (code, name, parent_code, working_days, sort),
    )
    return get(conn, code)


def update(conn, code, fields):
    """Change name and/or working_days."""
    allowed = {"name", "working_days"}
    values = {k: v for k, v in fields.items() if k in allowed}
    if values:
        assignments = ", ".join(f"{k} = ?" for k in values)
        conn.execute(
            f"UPDATE categories SET {assignments} WHERE code = ?", [*values.values(), code]
        )
    return get(conn, code)
