"""Open and overdue are defined once (storage/overdue.py): the SQL twins agree with Python."""

import itertools
import sqlite3

import pytest

from survey_api.statuses import OPEN, STATUSES
from survey_api.storage import overdue

NOW = "2026-05-01T00:00:00.000000Z"
DUES = (None, "2026-04-30T00:00:00.000000Z", NOW, "2026-05-02T00:00:00.000000Z")


@pytest.fixture
def conn():
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    conn.execute("CREATE TABLE problems (id INTEGER PRIMARY KEY, status TEXT, due_at TEXT)")
    conn.executemany(
        "INSERT INTO problems (status, due_at) VALUES (?, ?)", itertools.product(STATUSES, DUES)
    )
    return conn


def test_overdue_sql_matches_python(conn):
    sql = f"SELECT status, due_at, {overdue.overdue_sql('p', ':now')} AS o FROM problems p"
    rows = conn.execute(sql, {"now": NOW}).fetchall()
    assert len(rows) == len(STATUSES) * len(DUES)
    for row in rows:
        assert bool(row["o"]) == overdue.is_overdue(row, NOW), dict(row)
    assert sum(row["o"] for row in rows) == len(overdue.DEADLINE_RUNS)  # only the past due_at


def test_open_sql_matches_python(conn):
    rows = conn.execute(f"SELECT status, {overdue.open_sql()} AS o FROM problems").fetchall()
    for row in rows:
        assert bool(row["o"]) == overdue.is_open(row) == (row["status"] in OPEN)


def test_suspended_is_open_but_never_overdue():
    row = {"status": "suspended", "due_at": "2000-01-01T00:00:00.000000Z"}
    assert overdue.is_open(row)
    assert not overdue.is_overdue(row, NOW)
