"""Refresh-token bookkeeping, revoked access tokens and failed-login counts."""

import time

from ..timeutil import now_iso


def record_refresh(conn, *, jti, user_id, access_jti, device_id, expires_at):
    conn.execute(
        "INSERT INTO refresh_tokens (jti, user_id, access_jti, device_id, issued_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (jti, user_id, access_jti, device_id, now_iso(), expires_at),
    )


def get_refresh(conn, jti):
    row = conn.execute("SELECT * FROM refresh_tokens WHERE jti = ?", (jti,)).fetchone()
    return dict(row) if row else None


def rotate(conn, jti):
    """Mark a live refresh token used; False when it was already used or revoked."""
    cur = conn.execute(
        "UPDATE refresh_tokens SET rotated_at = ? "
        "WHERE jti = ? AND rotated_at IS NULL AND revoked_at IS NULL",
        (now_iso(), jti),
    )
    return cur.rowcount == 1


def revoke_jti(conn, jti, expires_at):
    conn.execute(
        "INSERT OR IGNORE INTO revoked_tokens (jti, expires_at) VALUES (?, ?)", (jti, expires_at)
    )


def revoke_refresh(conn, jti):
    conn.execute(
        "UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE jti = ?",
        (now_iso(), jti),
    )


def is_revoked(conn, jti):
    return conn.execute("SELECT 1 FROM revoked_tokens WHERE jti = ?", (jti,)).fetchone() is not None


def purge_expired(conn):
    ts = now_iso()
    conn.execute("DELETE FROM revoked_tokens WHERE expires_at < ?", (ts,))
    conn.execute("DELETE FROM refresh_tokens WHERE expires_at < ?", (ts,))


def record_login_failure(conn, username, ip):
    conn.execute(
        "INSERT INTO login_failures (username, ip, at) VALUES (?, ?, ?)",
        (username, ip, time.time()),
    )


def login_failures_since(conn, column, value, since):
    """(count, oldest time) of failures for a username or an address since a unix time."""
    assert column in ("username", "ip")
    row = conn.execute(
        f"SELECT count(*), min(at) FROM login_failures WHERE {column} = ? AND at >= ?",
        (value, since),
    ).fetchone()
    return row[0], row[1]


def purge_login_failures(conn, before):
    conn.execute("DELETE FROM login_failures WHERE at < ?", (before,))
