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

_FOUND = (
    f"SELECT {week_of('reported_at')} AS week, count(*) FROM problems"
    f" WHERE deleted = 0 AND status != 'rejected' AND grid_code IN {_SUBTREE_GRIDS}"
)
_DONE = (
    f"SELECT {week_of('rectified_at')} AS week, count(*) FROM problems"
    " WHERE deleted = 0 AND status IN ('rectified', 'closed') AND rectified_at IS NOT NULL"
    f" AND grid_code IN {_SUBTREE_GRIDS}"
)


def _series(conn, sql, column, path, lo, hi):
    params = {"prefix": like_prefix(path)}
    if lo is not None:
        sql += f" AND {week_of(column)} >= :lo_week AND {column} >= :lo"
        params.update(lo=lo, lo_week=_week_of_bound(conn, lo))
    if hi is not None:
        sql += f" AND {week_of(column)} <= :hi_week AND {column} <= :hi"
        params.update(hi=hi, hi_week=_week_of_bound(conn, hi))
    return dict(conn.execute(sql + " GROUP BY week", params).fetchall())


def _week_of_bound(conn, value):
    return conn.execute(f"SELECT {week_of(':v')}", {"v": value}).fetchone()[0]


def problems_per_week(conn, path, lo=None, hi=None):
    """{monday (YYYY-MM-DD): [found, rectified]} for the subtree at `path` in [lo, hi]."""
    found = _series(conn, _FOUND, "reported_at", path, lo, hi)
    done = _series(conn, _DONE, "rectified_at", path, lo, hi)
    return {week: [found.get(week, 0), done.get(week, 0)] for week in sorted({*found, *done})}
