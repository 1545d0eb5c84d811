"""A household's history for the console: its last visit, all its visits, its problems."""

from .chunks import chunks


def last_visits(conn, household_ids):
    """{household_id: {visited_at, outcome, visitor}} of each household's latest visit (any
    outcome), found through the index visits_met (household_id, …): a few rows each."""
    out = {}
    for chunk, marks in chunks(household_ids):
        # SQLite: the bare columns of a max() aggregate come from the row holding the max.
        rows = conn.execute(
            "SELECT v.household_id, max(v.visited_at_utc), v.visited_at, v.outcome,"
            " coalesce(nullif(u.display_name, ''), u.username)"
            " FROM visits v LEFT JOIN users u ON u.id = v.visitor_id"
            f" WHERE v.household_id IN ({marks}) GROUP BY v.household_id",
            chunk,
        )
        for hid, _utc, visited_at, outcome, visitor in rows:
            out[hid] = {"visited_at": visited_at, "outcome": outcome, "visitor": visitor}
    return out


def visits(conn, household_id, limit=200):
    """The household's visits, newest first, with the visitor's name."""
    rows = conn.execute(
        "SELECT v.id, v.visited_at, v.outcome, v.notes,"
        " coalesce(nullif(u.display_name, ''), u.username) AS visitor"
        " FROM visits v LEFT JOIN users u ON u.id = v.visitor_id"
        " WHERE v.household_id = ? ORDER BY v.visited_at_utc DESC, v.id DESC LIMIT ?",
        (household_id, limit),
    )
    return [dict(r) for r in rows]


def problems(conn, grid_code, household_id, limit=200):
    """The household's problems, newest first (found through the grid's index)."""
    rows = conn.execute(
        "SELECT id, number, category, description, status, urgency, reported_at, due_at,"
        " rectified_at, supervised FROM problems"
        " WHERE grid_code = ? AND household_id = ? AND deleted = 0"
        " ORDER BY reported_at DESC, id DESC LIMIT ?",
        (grid_code, household_id, limit),
    )
    return [dict(r) for r in rows]
