"""SQLite's memory statistics are off in a process that uses survey_api.db (one mutex per
allocation, sqlite_library), and left alone when something already holds SQLite memory."""

import subprocess
import sys

from survey_api import db, sqlite_library


def test_connections_of_the_app_allocate_without_statistics(tmp_path):
    library = sqlite_library._library()
    assert library is not None
    conn = db.connect(str(tmp_path / "s.db"))
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.executemany("INSERT INTO t VALUES (?)", [("x" * 100,)] * 1000)
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 1000
    # With the statistics on, an open connection and its cache count their bytes.
    assert library.sqlite3_memory_used() == 0
    conn.close()


def _run(code):
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.split()


def test_a_fresh_process_switches_them_off_once():
    out = _run(
        "import sqlite3\n"
        "from survey_api import sqlite_library as s\n"
        "first = s.disable_memory_statistics()\n"
        "c = sqlite3.connect(':memory:'); c.execute('CREATE TABLE t (x)')\n"
        "print(first, s.disable_memory_statistics(), s._library().sqlite3_memory_used())"
    )
    assert out == ["True", "True", "0"]


def test_memory_in_use_leaves_the_library_alone():
    out = _run(
        "import sqlite3\n"
        "c = sqlite3.connect(':memory:'); c.execute('CREATE TABLE t (x)')\n"
        "from survey_api import sqlite_library as s\n"
        "off = s.disable_memory_statistics()\n"
        "c.execute('INSERT INTO t VALUES (1)')\n"
        "used = s._library().sqlite3_memory_used()\n"
        "print(off, used > 0, c.execute('SELECT x FROM t').fetchone()[0])"
    )
    assert out == ["False", "True", "1"]
