"""The one place that opens SQLite connections and starts transactions."""

import os
import sqlite3
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import sqlite_utils
from flask import current_app, g

from . import sqlite_library

# Before any connection opens (see sqlite_library: a mutex on every SQLite allocation).
sqlite_library.disable_memory_statistics()


def connect(path, busy_timeout_ms=15000):
    """Open a connection with the pragmas every connection needs."""
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000
    )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    # FULL: a push we acknowledged survives power loss, not only a killed process.
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA cache_size = -32000")
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


_thread = threading.local()
_MAX_THREAD_CONNECTIONS = 4


def _thread_connection(path, busy_timeout_ms):
    """One long-lived connection per thread and database file.

    Closing the last connection to a WAL database checkpoints it; doing that after
    every request cost the push path ~15% of its time. Worker threads keep theirs.
    """
    conns = getattr(_thread, "conns", None)
    if conns is None:
        conns = _thread.conns = OrderedDict()
    conn = conns.get(path)
    if conn is None:
        conn = conns[path] = connect(path, busy_timeout_ms)
        while len(conns) > _MAX_THREAD_CONNECTIONS:  # many databases: tests, the bench
            conns.popitem(last=False)[1].close()
    conns.move_to_end(path)
    return conn


def get_db() -> sqlite_utils.Database:
    """The request's database handle (kept per thread, or per request when configured)."""
    if "db" not in g:
        config = current_app.config
        if config.get("PERSISTENT_CONNECTIONS", True):
            conn = _thread_connection(config["DATABASE"], config["BUSY_TIMEOUT_MS"])
            g.db_owned = False
        else:
            conn = connect(config["DATABASE"], config["BUSY_TIMEOUT_MS"])
            g.db_owned = True
        g.db = sqlite_utils.Database(conn)
    return g.db


def own_connection():
    """A fresh connection with the app's settings, closed by whoever opened it (a streamed
    export outlives the request and its connection)."""
    config = current_app.config
    return connect(config["DATABASE"], config["BUSY_TIMEOUT_MS"])


def close_db(exc=None):
    """Teardown: never leave a transaction open; close per-request connections."""
    db = g.pop("db", None)
    if db is None:
        return
    if db.conn.in_transaction:
        db.conn.execute("ROLLBACK")
    if g.pop("db_owned", True):
        db.conn.close()


@contextmanager
def write_tx(db):
    """A write transaction that takes the write lock up front (BEGIN IMMEDIATE).

    A deferred BEGIN upgrades its lock on the first write and fails at once with
    "database is locked" when another process got there first; IMMEDIATE waits
    for busy_timeout instead.
    """
    conn = db.conn if isinstance(db, sqlite_utils.Database) else db
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def read_tx(db):
    """A read transaction: every query inside sees one consistent snapshot."""
    conn = db.conn if isinstance(db, sqlite_utils.Database) else db
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")


@contextmanager
def savepoint(conn, name="item"):
    """A nested atomic step inside a write transaction: all of it or none of it."""
    conn.execute(f"SAVEPOINT {name}")
    try:
        yield conn
    except BaseException:
        conn.execute(f"ROLLBACK TO {name}")
        conn.execute(f"RELEASE {name}")
        raise
    conn.execute(f"RELEASE {name}")


# --- independent reads side by side -------------------------------------------------------
# A roll-up is a few large independent scans (households, problems, the weekly series). Run
# one after the other they add up; run on two threads they take about the longest one, since
# SQLite releases the GIL while it steps. Each runs in a read transaction of its own on its
# thread's connection: every scan is consistent in itself, and scans counting different
# things may see snapshots a few milliseconds apart (a write committed in between).

READ_THREADS = 2
_pool = None  # (pid, executor): a pool made before a fork has no threads in the child


def _read_pool():
    global _pool
    if _pool is None or _pool[0] != os.getpid():
        _pool = (os.getpid(), ThreadPoolExecutor(READ_THREADS, thread_name_prefix="read"))
    return _pool[1]


def _database_file(conn):
    for row in conn.execute("PRAGMA database_list"):
        if row[1] == "main":
            return row[2]
    return ""


def _read_on_thread(path, busy_timeout_ms, read):
    conn = _thread_connection(path, busy_timeout_ms)
    with read_tx(conn):
        return read(conn)


def parallel_reads(conn, reads, busy_timeout_ms=15000):
    """{name: read(connection)} for reads {name: function of a connection}, run side by side
    on the read threads, longest first as given. An in-memory database (no file to share)
    runs them in turn on `conn`."""
    path = _database_file(conn)
    if not path:
        return {name: read(conn) for name, read in reads.items()}
    pool = _read_pool()
    futures = {
        name: pool.submit(_read_on_thread, path, busy_timeout_ms, read)
        for name, read in reads.items()
    }
    return {name: future.result() for name, future in futures.items()}


def init_app(app):
    app.teardown_appcontext(close_db)
