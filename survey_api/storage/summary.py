"""SQL of the roll-ups: per-grid counts, which the service adds up the unit tree.

Everything is counted per grid with one grouped query per measure; a parent's figures are
then the sums of its grids', so every parent equals the sum of its children by
construction (problems are summed from their per-grid counts to the unit's children inside
SQLite, households and visits in the service). Periods are arbitrary, so there are no
per-period counters: the queries are driven by indexes (migrations 2 and 4) and by one
maintained value, households.last_met_at (migration 3, kept by triggers on visits), which
answers "visited in the period" from an index for every household not met again after the
period. Measurements: docs/lists.md.
"""

from ..statuses import DONE
from .overdue import overdue_sql
from .units import like_prefix

COUNT_KEYS = ("problems", "rectified", "on_time", "overdue", "supervised", "rated", "satisfied")


def leaf_categories(conn):
    """[(code, name)] of the leaf categories, in the categories' order (the export's
    per-category columns)."""
    rows = conn.execute(
        "SELECT code, name FROM categories WHERE parent_code IS NOT NULL ORDER BY sort, code"
    )
    return [(r[0], r[1]) for r in rows]


def grids_under(conn, path):
    """[(grid code, grid path)] of the grids in a subtree."""
    rows = conn.execute(
        "SELECT code, path FROM units WHERE level = 'grid' AND path LIKE ? ESCAPE '\\'",
        (like_prefix(path),),
    )
    return [(r[0], r[1]) for r in rows]


_SUBTREE_GRIDS = "(SELECT code FROM units WHERE level = 'grid' AND path LIKE :prefix ESCAPE '\\')"


def households_by_grid(conn, path, lo, hi):
    """{grid code: (live households, of them visited in the period)}: one pass over the index
    households_grid_met.

    Visited = a visit of outcome `met` in the period. households.last_met_at (kept by
    triggers, migration 3) answers it from the index: last met before `from` → not visited;
    between `from` and `to` → visited; only a household met again after `to` is probed in
    visits_met. Counting both in one pass reads the district's 250,000 index entries once.
    """
    params = {"prefix": like_prefix(path), "lo": lo, "hi": hi}
    visited = ["h.last_met_at IS NOT NULL"]
    if lo is not None:
        visited.append("h.last_met_at >= :lo")
    if hi is not None:
        period = " AND v.visited_at_utc <= :hi"
        if lo is not None:
            period += " AND v.visited_at_utc >= :lo"
        visited.append(
            "(h.last_met_at <= :hi OR EXISTS (SELECT 1 FROM visits v"
            f" WHERE v.household_id = h.id AND v.outcome = 'met'{period}))"
        )
    rows = conn.execute(
        f"SELECT h.grid_code, count(*), count(CASE WHEN {' AND '.join(visited)} THEN 1 END)"
        f" FROM households h INDEXED BY households_grid_met"
        f" WHERE h.deleted = 0 AND h.grid_code IN {_SUBTREE_GRIDS} GROUP BY h.grid_code",
        params,
    )
    return {row[0]: (row[1], row[2]) for row in rows}


def problems_by_child(conn, path, lo, hi, now, category=None):
    """{child code: {category: {count key: n}}} for problems reported in the period, not
    rejected, under the unit at `path`, rolled up by SQLite to the unit's children.

    The child is the code right after `path` in the grid's path. Counted per (grid, category)
    over the covering index problems_rollup (migration 4), then summed per (child, category):
    ~10 × 16 rows reach Python instead of 1,000 × 16 (docs/benchmarks.md).
    """
    where = ["p.deleted = 0", "p.status != 'rejected'", f"p.grid_code IN {_SUBTREE_GRIDS}"]
    params = {"prefix": like_prefix(path), "now": now, "plen": len(path)}
    if lo is not None:
        where.append("p.reported_at >= :lo")
        params["lo"] = lo
    if hi is not None:
        where.append("p.reported_at <= :hi")
        params["hi"] = hi
    if category:
        where.append(
            "p.category IN (SELECT code FROM categories WHERE code = :category"
            " OR parent_code = :category)"
        )
        params["category"] = category
    done = f"p.status IN ({', '.join(repr(s) for s in DONE)})"
    # count(CASE WHEN … THEN 1 END) rather than sum(…): ~20 % less per row over the district
    sql = f"""
        SELECT substr(u.path, :plen + 1, instr(substr(u.path, :plen + 1), '/') - 1) AS child,
               g.category, sum(g.c0), sum(g.c1), sum(g.c2), sum(g.c3), sum(g.c4), sum(g.c5),
               sum(g.c6)
        FROM (SELECT p.grid_code, p.category, count(*) AS c0,
                     count(CASE WHEN {done} THEN 1 END) AS c1,
                     count(CASE WHEN {done} AND p.rectified_at IS NOT NULL
                         AND (p.due_at IS NULL OR p.rectified_at <= p.due_at) THEN 1 END) AS c2,
                     count(CASE WHEN {overdue_sql("p", ":now")} THEN 1 END) AS c3,
                     count(CASE WHEN p.supervised != 0 THEN 1 END) AS c4,
                     count(p.rating) AS c5,
                     count(CASE WHEN p.rating >= 3 THEN 1 END) AS c6
              FROM problems p INDEXED BY problems_rollup WHERE {" AND ".join(where)}
              GROUP BY p.grid_code, p.category) g
        JOIN units u ON u.code = g.grid_code
        GROUP BY child, g.category"""
    out = {}
    for row in conn.execute(sql, params):
        child, category, *counts = row
        out.setdefault(child, {})[category] = dict(
            zip(COUNT_KEYS, (int(c or 0) for c in counts), strict=True)
        )
    return out
