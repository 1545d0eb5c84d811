"""What the clients saw acknowledged, and the database checked against it.

lost       = an acknowledged item (applied or duplicate in a 200 answer) whose record is missing.
duplicated = a record stored twice: more than one change-log row for a record the soak only
             created, more than one `report` event for a problem, a push applied twice (two
             sync.push audit rows for one Idempotency-Key), or problem numbers taken twice
             (the counters ahead of the problems stored).
"""

import sqlite3
import threading

from ..storage.chunks import chunks

TABLES = {"household": "households", "visit": "visits", "problem": "problems"}
ACKED = ("applied", "duplicate")


class Ledger:
    """Acknowledged record ids by entity; safe to share between client threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self.acked = {entity: set() for entity in TABLES}
        self.unexpected = 0  # results other than applied/duplicate (the soak sends valid items)

    def record(self, body, answer):
        """Take a 200 push answer for `body`; returns the ids acknowledged by it."""
        ids = {entity: [] for entity in TABLES}
        with self._lock:
            for item, result in zip(body["items"], answer["results"], strict=True):
                if result["status"] in ACKED and result.get("id", item["id"]) == item["id"]:
                    self.acked[item["entity"]].add(item["id"])
                    ids[item["entity"]].append(item["id"])
                else:
                    self.unexpected += 1
        return ids

    def snapshot(self):
        with self._lock:
            return {entity: set(ids) for entity, ids in self.acked.items()}

    def count(self):
        with self._lock:
            return sum(len(ids) for ids in self.acked.values())


def open_readonly(db_path):
    """A connection that cannot write (query_only: mode=ro could not recover a WAL index)."""
    conn = sqlite3.connect(db_path, timeout=60)
    conn.execute("PRAGMA busy_timeout = 60000")
    conn.execute("PRAGMA query_only = 1")
    return conn


def integrity_ok(db_path):
    conn = open_readonly(db_path)
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()
    return rows == ["ok"], rows[:5]


def stored(conn, entity, ids):
    """Which of `ids` have a row in the entity's table."""
    found = set()
    for chunk, marks in chunks(ids):
        found.update(
            r[0]
            for r in conn.execute(f"SELECT id FROM {TABLES[entity]} WHERE id IN ({marks})", chunk)
        )
    return found


def missing(conn, acked):
    """How many acknowledged ids have no row."""
    return sum(len(ids - stored(conn, entity, ids)) for entity, ids in acked.items())


def duplicates(conn):
    """Records stored twice, by kind (see the module docstring)."""
    one = lambda sql: conn.execute(sql).fetchone()[0] or 0  # noqa: E731
    return {
        "change_rows": one(
            "SELECT count(*) FROM (SELECT 1 FROM changes "
            "GROUP BY entity, record_id HAVING count(*) > 1)"
        ),
        "report_events": one(
            "SELECT count(*) FROM (SELECT 1 FROM problem_events "
            "WHERE action = 'report' GROUP BY problem_id HAVING count(*) > 1)"
        ),
        "pushes_applied_twice": one(
            "SELECT count(*) FROM (SELECT 1 FROM audit_log WHERE "
            "action = 'sync.push' GROUP BY actor, target "
            "HAVING count(*) > 1)"
        ),
        "numbers_taken_twice": max(
            0, one("SELECT sum(last) FROM problem_counters") - one("SELECT count(*) FROM problems")
        ),
    }


def check(db_path, acked):
    """{'lost', 'duplicated', 'duplicated_by_kind', 'stuck_keys'} for a database at rest."""
    conn = open_readonly(db_path)
    try:
        dups = duplicates(conn)
        return {
            "lost": missing(conn, acked),
            "duplicated": sum(dups.values()),
            "duplicated_by_kind": dups,
            "stuck_keys": conn.execute(
                "SELECT count(*) FROM idempotency_keys WHERE state = 'in_flight'"
            ).fetchone()[0],
        }
    finally:
        conn.close()
