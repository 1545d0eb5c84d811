"""Users and the units each one is bound to."""

import uuid

from ..timeutil import now_iso
from .units import under_paths_sql

PUBLIC_COLUMNS = "id, username, display_name, role, active, created_at, updated_at"


def _with_units(conn, row):
    if row is None:
        return None
    user = dict(row)
    user["active"] = bool(user["active"])
    user["unit_codes"] = [
        r[0]
        for r in conn.execute(
            "SELECT unit_code FROM user_units WHERE user_id = ? ORDER BY unit_code", (user["id"],)
        )
    ]
    return user


def get(conn, user_id):
    row = conn.execute(
        f"SELECT {PUBLIC_COLUMNS}, token_generation FROM users WHERE id = ?", (user_id,)
    ).fetchone()
    return _with_units(conn, row)


def get_by_username(conn, username):
    row = conn.execute(
        f"SELECT {PUBLIC_COLUMNS}, token_generation, password_hash FROM users WHERE username = ?",
        (username,),
    ).fetchone()
    return _with_units(conn, row)


def create(conn, *, username, password_hash, role, unit_codes, display_name="", user_id=None):
    user_id = user_id or str(uuid.uuid4())
    ts = now_iso()
    conn.execute(
        "INSERT INTO users (id, username, display_name, password_hash, role, created_at, "
        "updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (user_id, username, display_name or "", password_hash, role, ts, ts),
    )
    set_units(conn, user_id, unit_codes)
    return get(conn, user_id)


def set_units(conn, user_id, unit_codes):
    conn.execute("DELETE FROM user_units WHERE user_id = ?", (user_id,))
    conn.executemany(
        "INSERT INTO user_units (user_id, unit_code) VALUES (?, ?)",
        [(user_id, code) for code in dict.fromkeys(unit_codes)],
    )


def update(conn, user_id, fields):
    """Update the given columns (display_name, role, active, password_hash)."""
    allowed = {"display_name", "role", "active", "password_hash"}
    sets = {k: v for k, v in fields.items() if k in allowed}
    if sets:
        assignments = ", ".join(f"{k} = ?" for k in sets)
        conn.execute(
            f"UPDATE users SET {assignments}, updated_at = ? WHERE id = ?",
            [*sets.values(), now_iso(), user_id],
        )
    return get(conn, user_id)


def touch(conn, user_id):
    conn.execute("UPDATE users SET updated_at = ? WHERE id = ?", (now_iso(), user_id))


def bump_token_generation(conn, user_id):
    """Revoke every token the user holds."""
    conn.execute(
        "UPDATE users SET token_generation = token_generation + 1 WHERE id = ?", (user_id,)
    )


def list_users(conn, *, unit_paths=None, roles=None, after=None, limit=100):
    """Users by username; unit_paths keeps those all of whose units lie under the paths."""
    where, params = [], []
    if unit_paths is not None:
        if not unit_paths:
            return []
        cond, cond_params = under_paths_sql(unit_paths, "u.path")
        where.append(
            "EXISTS (SELECT 1 FROM user_units uu WHERE uu.user_id = users.id) AND NOT EXISTS ("
            "SELECT 1 FROM user_units uu JOIN units u ON u.code = uu.unit_code "
            f"WHERE uu.user_id = users.id AND NOT {cond})"
        )
        params += cond_params
    if roles is not None:
        where.append("role IN (" + ",".join("?" * len(roles)) + ")")
        params += list(roles)
    if after:
        where.append("username > ?")
        params.append(after)
    sql = f"SELECT {PUBLIC_COLUMNS} FROM users"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY username LIMIT ?"
    params.append(limit)
    return [_with_units(conn, r) for r in conn.execute(sql, params).fetchall()]


def count(conn):
    return conn.execute("SELECT count(*) FROM users").fetchone()[0]
