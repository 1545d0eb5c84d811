"""The audit log: every write, every export, every unmasking of personal data."""

import json

from ..timeutil import now_iso


def record(conn, *, actor, action, target=None, ip=None, details=None):
    conn.execute(
        "INSERT INTO audit_log (actor, action, target, at, ip, details) VALUES (?, ?, ?, ?, ?, ?)",
        (
            actor,
            action,
            target,
            now_iso(),
            ip,
            json.dumps(details or {}, ensure_ascii=False, separators=(",", ":")),
        ),
    )


def list_entries(conn, *, action=None, actor=None, lo=None, hi=None, before_id=None, limit=100):
    """Newest first."""
    where, params = [], []
    for cond, value in (
        ("action = ?", action),
        ("actor = ?", actor),
        ("at >= ?", lo),
        ("at <= ?", hi),
        ("id < ?", before_id),
    ):
        if value is not None:
            where.append(cond)
            params.append(value)
    sql = "SELECT id, actor, action, target, at, ip, details FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(limit)
    items = []
    for row in conn.execute(sql, params):
        item = dict(row)
        item["details"] = json.loads(item["details"])
        items.append(item)
    return items
