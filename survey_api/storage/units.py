"""The unit tree: district > street > community > grid, with materialized paths."""

from ..timeutil import now_iso

COLUMNS = "code, name, level, parent_code, path"


def get(conn, code):
    row = conn.execute(f"SELECT {COLUMNS} FROM units WHERE code = ?", (code,)).fetchone()
    return dict(row) if row else None


def get_many(conn, codes):
    codes = list(codes)
    if not codes:
        return []
    marks = ",".join("?" * len(codes))
    rows = conn.execute(f"SELECT {COLUMNS} FROM units WHERE code IN ({marks})", codes)
    return [dict(r) for r in rows]


def upsert(conn, code, name, level, parent_code):
    """Insert or update one unit and re-root its subtree's paths when its parent moved."""
    parent_path = "/"
    if parent_code:
        parent = get(conn, parent_code)
        parent_path = parent["path"]
    path = f"{parent_path}{code}/"
    ts = now_iso()
    old = get(conn, code)
    if old is None:
        conn.execute(
            "INSERT INTO units (code, name, level, parent_code, path, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (code, name, level, parent_code, path, ts, ts),
        )
    else:
        conn.execute(
            "UPDATE units SET name = ?, level = ?, parent_code = ?, path = ?, updated_at = ? "
            "WHERE code = ?",
            (name, level, parent_code, path, ts, code),
        )
        if old["path"] != path:
            conn.execute(
                "UPDATE units SET path = ? || substr(path, ?) WHERE path LIKE ? AND code != ?",
                (path, len(old["path"]) + 1, like_prefix(old["path"]), code),
            )
    return get(conn, code)


def like_prefix(path):
    """A LIKE pattern for everything under path (codes hold no % or _ wildcards we allow)."""
    return path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def under_paths_sql(paths, column="path"):
    """SQL condition + params: `column` (a unit path) lies under any of the paths (none: false)."""
    if not paths:
        return "0", []
    cond = " OR ".join(f"{column} LIKE ? ESCAPE '\\'" for _ in paths)
    return f"({cond})", [like_prefix(p) for p in paths]


def grids_under_sql(column, paths):
    """SQL condition + params: `column` (a grid code) names a grid under any of the paths."""
    cond, params = under_paths_sql(paths)
    return f"{column} IN (SELECT code FROM units WHERE level = 'grid' AND {cond})", params


def list_units(conn, path_prefixes, *, level=None, parent_code=None, after=None, limit=100):
    """Units under any of the given paths (None = all), ordered by code."""
    where, params = [], []
    if path_prefixes is not None:
        if not path_prefixes:
            return []
        cond, cond_params = under_paths_sql(path_prefixes)
        where.append(cond)
        params += cond_params
    if level:
        where.append("level = ?")
        params.append(level)
    if parent_code:
        where.append("parent_code = ?")
        params.append(parent_code)
    if after:
        where.append("code > ?")
        params.append(after)
    sql = f"SELECT {COLUMNS} FROM units"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY code LIMIT ?"
    params.append(limit)
    return [dict(r) for r in conn.execute(sql, params)]


def children(conn, code):
    rows = conn.execute(f"SELECT {COLUMNS} FROM units WHERE parent_code = ? ORDER BY code", (code,))
    return [dict(r) for r in rows]


def grids_under(conn, paths):
    """Codes of the grids under any of the given paths."""
    if not paths:
        return []
    cond, params = under_paths_sql(paths)
    rows = conn.execute(
        f"SELECT code FROM units WHERE level = 'grid' AND {cond} ORDER BY code", params
    )
    return [r[0] for r in rows]


def ancestor_of_level(conn, code, level):
    """The unit of the given level above (or at) code, e.g. a grid's community."""
    unit = get(conn, code)
    if unit is None:
        return None
    for part in unit["path"].strip("/").split("/"):
        u = get(conn, part)
        if u and u["level"] == level:
            return u
    return None
