"""The change sequence pulls read: one row per change, written in the change's transaction."""


def record_change(conn, entity, record_id, grid_code):
    """Log a change of a household/visit/problem in grid_code; returns its seq.

    Call inside the write transaction that makes the change, then store the seq on
    the record's `seq` column. A record that moves grid logs once for each grid.
    """
    cur = conn.execute(
        "INSERT INTO changes (entity, record_id, grid_code) VALUES (?, ?, ?)",
        (entity, record_id, grid_code),
    )
    return cur.lastrowid


def max_seq(conn):
    return conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
