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


def record_many(conn, changes):
    """Log many changes [(entity, record_id, grid_code), …] in order with one executemany;
    returns their seqs. Call inside a BEGIN IMMEDIATE transaction: the seqs are numbered after
    every seq ever handed out (sqlite_sequence), as AUTOINCREMENT would number them."""
    if not changes:
        return []
    last = conn.execute(
        "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0), "
        "coalesce((SELECT max(seq) FROM changes), 0))"
    ).fetchone()[0]
    seqs = range(last + 1, last + 1 + len(changes))
    conn.executemany(
        "INSERT INTO changes (seq, entity, record_id, grid_code) VALUES (?, ?, ?, ?)",
        [(seq, *change) for seq, change in zip(seqs, changes, strict=True)],
    )
    return list(seqs)


def insert_rows(conn, table, rows):
    """INSERT many rows (dicts) with one executemany per set of columns (a row names only the
    columns it sets; the others take their defaults, as a single INSERT would)."""
    groups = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(tuple(row.values()))
    for columns, values in groups.items():
        conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            values,
        )


def max_seq(conn):
    return conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
