"""Problems found and rectified per ISO week (Asia/Shanghai) under a unit: the dashboard's
trend chart.

found: problems reported that week, rejected and deleted excluded (the summary's
`problems`, spread over the weeks). rectified: problems now rectified or closed whose
rectified_at falls in that week (the summary's `rectified` condition, dated by when the work
was done). Each series reads one index ordered by the week (migration 6:
problems_found_week, problems_done_week), so SQLite counts in index order without sorting
the subtree's problems; the week expression here must stay the index's text.
"""

from ..migrations import week_of
from .summary import _SUBTREE_GRIDS
from .units import like_prefix

# {source}: the table, or the table by its week index; {grid}: the grid column, or +grid_code
# (unary +) so that the grid test cannot drive the plan.
_FOUND = (
    f"SELECT {week_of('reported_at')} AS week, count(*) FROM {{source}}"
    f" WHERE deleted = 0 AND status != 'rejected' AND {{grid}} IN {_SUBTREE_GRIDS}"
)
_DONE = (
    f"SELECT {week_of('rectified_at')} AS week, count(*) FROM {{source}}"
    " WHERE deleted = 0 AND status IN ('rectified', 'closed') AND rectified_at IS NOT NULL"
    f" AND {{grid}} IN {_SUBTREE_GRIDS}"
)


# A subtree holding more than this share of all grids reads the week index from end to end;
# a smaller one seeks its own grids' problems and groups them (full bench district, 1,000
# grids, 130,000 problems: the district's two series ~530 → ~100 ms by the week indexes; a
# community of 800 problems ~3 ms by its grids against ~30 ms through the week indexes).
WIDE_SHARE = 0.2


def _series(conn, sql, column, index, path, lo, hi, wide):
    params = {"prefix": like_prefix(path)}
    if wide:  # the week index, in week order
        sql = sql.format(source=f"problems INDEXED BY {index}", grid="+grid_code")
    else:
        sql = sql.format(source="problems", grid="grid_code")
    if lo is not None:
        sql += f" AND {week_of(column)} >= :lo_week AND {column} >= :lo"
        params.update(lo=lo, lo_week=_week_of_bound(conn, lo))
    if hi is not None:
        sql += f" AND {week_of(column)} <= :hi_week AND {column} <= :hi"
        params.update(hi=hi, hi_week=_week_of_bound(conn, hi))
    return dict(conn.execute(sql + " GROUP BY week", params).fetchall())


def _week_of_bound(conn, value):
    return conn.execute(f"SELECT {week_of(':v')}", {"v": value}).fetchone()[0]


def _is_wide(conn, path):
    under, everywhere = conn.execute(
        "SELECT count(*) FILTER (WHERE path LIKE ? ESCAPE '\\'), count(*) FROM units"
        " WHERE level = 'grid'",
        (like_prefix(path),),
    ).fetchone()
    return under > WIDE_SHARE * everywhere


def reads(conn, path, lo=None, hi=None):
    """The two series' scans for db.parallel_reads: {"found": …, "done": …}, each a function
    of a connection giving {monday (YYYY-MM-DD): n} for the subtree at `path` in [lo, hi]."""
    wide = _is_wide(conn, path)
    return {
        "found": lambda c: _series(
            c, _FOUND, "reported_at", "problems_found_week", path, lo, hi, wide
        ),
        "done": lambda c: _series(
            c, _DONE, "rectified_at", "problems_done_week", path, lo, hi, wide
        ),
    }


def per_week(found, done):
    """{monday: [found, rectified]} from the two series, weeks in order."""
    return {week: [found.get(week, 0), done.get(week, 0)] for week in sorted({*found, *done})}


def problems_per_week(conn, path, lo=None, hi=None):
    """{monday (YYYY-MM-DD): [found, rectified]} for the subtree at `path` in [lo, hi]."""
    series = {name: read(conn) for name, read in reads(conn, path, lo, hi).items()}
    return per_week(series["found"], series["done"])
