"""Pull queries: scope snapshots, the initial load, revocations and the change log."""

import hashlib
import json

from ..statuses import CLOSED
from ..timeutil import iso
from .chunks import chunks
from .overdue import open_sql

ALL = None  # a grid set of None means every grid (admin)


def database_id(conn):
    return conn.execute("SELECT value FROM meta WHERE key = 'database_id'").fetchone()[0]


def _grids_json(grids):
    return json.dumps(None if grids is None else sorted(grids))


def find_snapshot(conn, user_id, grids):
    digest = hashlib.sha256(_grids_json(grids).encode()).hexdigest()
    row = conn.execute(
        "SELECT id FROM scope_snapshots WHERE user_id = ? AND grids_hash = ?", (user_id, digest)
    ).fetchone()
    return (row[0] if row else None), digest


def insert_snapshot(conn, user_id, grids, digest):
    conn.execute(
        "INSERT OR IGNORE INTO scope_snapshots (user_id, grids_hash, grids) VALUES (?, ?, ?)",
        (user_id, digest, _grids_json(grids)),
    )
    return conn.execute(
        "SELECT id FROM scope_snapshots WHERE user_id = ? AND grids_hash = ?", (user_id, digest)
    ).fetchone()[0]


def snapshot_grids(conn, user_id, snapshot_id):
    """(found, grids) of a stored grid set of this user."""
    row = conn.execute(
        "SELECT grids FROM scope_snapshots WHERE id = ? AND user_id = ?", (snapshot_id, user_id)
    ).fetchone()
    if row is None:
        return False, None
    return True, json.loads(row[0])


def all_grids(conn):
    return [r[0] for r in conn.execute("SELECT code FROM units WHERE level = 'grid'")]


def grid_condition(column, grids):
    """SQL + params: column in the grid set (None = all)."""
    if grids is None:
        return "1", []
    return f"{column} IN (SELECT value FROM json_each(?))", [json.dumps(list(grids))]


def load_rows(conn, kind, *, grids, scope_grids, after, bound, cutoff, limit):
    """Initial-load rows of one kind in a grid set (and the current scope), by id."""
    in_set, p1 = grid_condition("grid_code", grids)
    in_scope, p2 = grid_condition("grid_code", scope_grids)
    where = [in_set, in_scope, "id > ?", "seq <= ?"]
    params = [*p1, *p2, after, bound]
    if kind == "households":
        where.append("deleted = 0")
    elif kind == "problems":
        # open problems, and those closed in the last 90 days (DESIGN §5: not the rejected)
        where.append(f"deleted = 0 AND ({open_sql()} OR (status = '{CLOSED}' AND closed_at >= ?))")
        params.append(cutoff)
    else:
        where.append("visited_at_utc >= ?")
        params.append(cutoff)
    sql = f"SELECT * FROM {kind} WHERE {' AND '.join(where)} ORDER BY id LIMIT ?"
    return [dict(r) for r in conn.execute(sql, [*params, limit])]


def revoke_ids(conn, kind, *, grids, scope_grids, after, limit):
    """Ids of one kind in removed grids that are not in the current scope, by id."""
    in_set, p1 = grid_condition("grid_code", grids)
    in_scope, p2 = grid_condition("grid_code", scope_grids)
    sql = (
        f"SELECT id FROM {kind} WHERE {in_set} AND NOT ({in_scope}) AND id > ? ORDER BY id LIMIT ?"
    )
    return [r[0] for r in conn.execute(sql, [*p1, *p2, after, limit])]


def changes_after(conn, seq, scope_grids, limit):
    """(seq, entity, record_id) of change rows in scope after seq, oldest first."""
    in_scope, params = grid_condition("grid_code", scope_grids)
    return conn.execute(
        f"SELECT seq, entity, record_id FROM changes WHERE seq > ? AND {in_scope} "
        "ORDER BY seq LIMIT ?",
        [seq, *params, limit],
    ).fetchall()


def rows_by_id(conn, table, ids):
    out = {}
    ids = list(ids)
    for chunk, marks in chunks(ids):
        for r in conn.execute(f"SELECT * FROM {table} WHERE id IN ({marks})", chunk):
            out[r["id"]] = dict(r)
    return out


def cutoff_iso(now, days=90):
    from datetime import timedelta

    return iso(now - timedelta(days=days))
