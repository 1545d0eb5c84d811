"""Problems found and rectified per ISO week (Asia/Shanghai) under a unit: the dashboard's
trend chart.

found: problems reported that week, rejected and deleted excluded (the summary's
`problems`, spread over the weeks). rectified: problems now rectified or closed whose
rectified_at falls in that week (the summary's `rectified` condition, dated by when the work
was done). Both read only the covering index problems_rollup (migration 4), one range per
grid of the subtree, and group by the Monday of the local week inside SQLite: a few hundred
rows reach Python at the full district.
"""

from .summary import _SUBTREE_GRIDS
from .units import like_prefix

# Stored datetimes are UTC ISO text ('…+00:00'): the Monday of their Asia/Shanghai ISO week.
_MONDAY = "date(substr({col}, 1, 19), '+8 hours', 'weekday 0', '-6 days')"


def problems_per_week(conn, path, lo=None, hi=None):
    """{monday (YYYY-MM-DD): [found, rectified]} for the subtree at `path` in [lo, hi]."""
    params = {"prefix": like_prefix(path), "lo": lo, "hi": hi}
    base = ("FROM problems p"
            f" WHERE p.grid_code IN {_SUBTREE_GRIDS} AND p.deleted = 0")
    found_period = "".join(
        cond for cond, value in ((" AND p.reported_at >= :lo", lo),
                                 (" AND p.reported_at <= :hi", hi)) if value is not None)
    done_period = "".join(
        cond for cond, value in ((" AND p.rectified_at >= :lo", lo),
                                 (" AND p.rectified_at <= :hi", hi)) if value is not None)
    sql = f"""
        SELECT week, sum(found), sum(rectified) FROM (
            SELECT {_MONDAY.format(col='p.reported_at')} AS week, 1 AS found, 0 AS rectified
            {base} AND p.status != 'rejected'{found_period}
            UNION ALL
            SELECT {_MONDAY.format(col='p.rectified_at')}, 0, 1
            {base} AND p.status IN ('rectified', 'closed') AND p.rectified_at IS NOT NULL
            {done_period})
        GROUP BY week ORDER BY week"""
    return {row[0]: [row[1], row[2]] for row in conn.execute(sql, params)}
