"""db.parallel_reads: independent reads side by side, each in its own read transaction."""

import threading

import pytest

from survey_api.db import connect, parallel_reads, read_tx


@pytest.fixture
def conn(tmp_path):
    c = connect(str(tmp_path / "reads.db"))
    c.execute("CREATE TABLE t (n INTEGER)")
    c.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(100)])
    yield c
    c.close()


def test_results_by_name_as_run_alone(conn):
    reads = {
        "sum": lambda c: c.execute("SELECT sum(n) FROM t").fetchone()[0],
        "odd": lambda c: c.execute("SELECT count(*) FROM t WHERE n % 2").fetchone()[0],
        "max": lambda c: c.execute("SELECT max(n) FROM t").fetchone()[0],
    }
    with read_tx(conn):
        out = parallel_reads(conn, reads)
    assert out == {"sum": 4950, "odd": 50, "max": 99}
    assert list(out) == ["sum", "odd", "max"]


def test_each_read_runs_off_the_callers_thread_in_a_transaction(conn):
    seen = []

    def read(c):
        seen.append((threading.current_thread() is threading.main_thread(), c.in_transaction))
        return c is conn

    out = parallel_reads(conn, {"a": read, "b": read})
    assert out == {"a": False, "b": False}  # the read threads' own connections
    assert seen == [(False, True), (False, True)]


def test_a_failing_read_raises_in_the_caller(conn):
    def broken(c):
        c.execute("SELECT * FROM no_such_table")

    with pytest.raises(Exception, match="no_such_table"):
        parallel_reads(conn, {"ok": lambda c: 1, "broken": broken})
    # the read thread's connection is usable afterwards (its transaction ended)
    count = {"n": lambda c: c.execute("SELECT count(*) FROM t").fetchone()[0]}
    assert parallel_reads(conn, count) == {"n": 100}


def test_in_memory_database_reads_in_turn_on_the_connection():
    mem = connect(":memory:")
    mem.execute("CREATE TABLE t (n INTEGER)")
    mem.execute("INSERT INTO t VALUES (7)")
    read = {"n": lambda c: (c is mem, c.execute("SELECT n FROM t").fetchone()[0])}
    out = parallel_reads(mem, read)
    assert out == {"n": (True, 7)}
    mem.close()
