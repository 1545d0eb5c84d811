"""Working-calendar overrides: the admin-edited days that beat the holiday package."""


def get(conn, day):
    """The override of one day (YYYY-MM-DD text) or None."""
    row = conn.execute(
        "SELECT date, is_workday, name FROM calendar_overrides WHERE date = ?", (day,)
    ).fetchone()
    return _row(row) if row else None


def between(conn, lo, hi):
    """{date text: override} for lo <= date <= hi (YYYY-MM-DD texts)."""
    rows = conn.execute(
        "SELECT date, is_workday, name FROM calendar_overrides WHERE date BETWEEN ? AND ?", (lo, hi)
    )
    return {r["date"]: _row(r) for r in rows}


def put(conn, day, is_workday, name=None):
    """Insert or replace the override of a day; True when it was new."""
    existed = get(conn, day) is not None
    conn.execute(
        "INSERT INTO calendar_overrides (date, is_workday, name) VALUES (?, ?, ?) "
        "ON CONFLICT (date) DO UPDATE SET is_workday = excluded.is_workday, name = excluded.name",
        (day, 1 if is_workday else 0, name),
    )
    return not existed


def delete(conn, day):
    """Remove a day's override; True when there was one."""
    return conn.execute("DELETE FROM calendar_overrides WHERE date = ?", (day,)).rowcount > 0


def _row(row):
    return {"date": row["date"], "is_workday": bool(row["is_workday"]), "name": row["name"]}
