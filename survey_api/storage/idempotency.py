"""Push bookkeeping: Idempotency-Key marks and stored responses, and first results by op_id."""

import json
import time
from datetime import timedelta

from ..timeutil import iso, now, now_iso
from .chunks import chunks


def get_key(conn, user_id, key):
    row = conn.execute(
        "SELECT * FROM idempotency_keys WHERE user_id = ? AND key = ?", (user_id, key)
    ).fetchone()
    return dict(row) if row else None


def mark_in_flight(conn, user_id, key, body_sha256):
    """Take the key (insert or take over a dead mark); returns the mark's token (started_at)."""
    token = time.time()
    conn.execute(
        "INSERT INTO idempotency_keys (user_id, key, body_sha256, state, started_at, created_at) "
        "VALUES (?, ?, ?, 'in_flight', ?, ?) ON CONFLICT (user_id, key) DO UPDATE SET "
        "body_sha256 = excluded.body_sha256, state = 'in_flight', started_at = excluded.started_at",
        (user_id, key, body_sha256, token, now_iso()),
    )
    return token


# Built once (json.dumps with options makes a new encoder per call); same text as json.dumps.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode_result(result):
    """One push result as kept for its op_id and as it appears in the response."""
    return _COMPACT.encode(result)


def encode_response(response, result_texts=None):
    """The push response as stored and as sent: a replay gets these exact bytes.

    result_texts: response["results"] already encoded (encode_result), in order; the text is
    then built around them instead of encoding every result a second time (the same bytes:
    "results" is the response's last key)."""
    if result_texts is None:
        return _COMPACT.encode(response)
    *keys, last = response
    if last != "results" or len(result_texts) != len(response["results"]):
        raise ValueError("results must be the last key, with one text per result")
    head = _COMPACT.encode({k: response[k] for k in keys})[:-1]
    return f'{head}{"," if keys else ""}"results":[{",".join(result_texts)}]}}'


def finish(conn, user_id, key, response_text):
    conn.execute(
        "UPDATE idempotency_keys SET state = 'done', response = ? WHERE user_id = ? AND key = ?",
        (response_text, user_id, key),
    )


def release(conn, user_id, key, token):
    """Drop our in-flight mark (the push failed before it was stored)."""
    conn.execute(
        "DELETE FROM idempotency_keys WHERE user_id = ? AND key = ? "
        "AND state = 'in_flight' AND started_at = ?",
        (user_id, key, token),
    )


def purge(conn, ttl_days):
    """Forget keys and op results older than the retention period."""
    cutoff = iso(now() - timedelta(days=ttl_days))
    conn.execute("DELETE FROM idempotency_keys WHERE created_at < ? AND state = 'done'", (cutoff,))
    conn.execute("DELETE FROM push_ops WHERE created_at < ?", (cutoff,))


def get_ops(conn, user_id, op_ids):
    """{op_id: first result} for the op_ids already seen from this user."""
    op_ids = list(dict.fromkeys(op_ids))
    found = {}
    for chunk, marks in chunks(op_ids):
        for op_id, result in conn.execute(
            f"SELECT op_id, result FROM push_ops WHERE user_id = ? AND op_id IN ({marks})",
            [user_id, *chunk],
        ):
            found[op_id] = json.loads(result)
    return found


def put_ops(conn, user_id, results, created_at):
    """Keep many first results: [(op_id, result text of encode_result), …]."""
    conn.executemany(
        "INSERT OR IGNORE INTO push_ops (user_id, op_id, result, created_at) VALUES (?, ?, ?, ?)",
        [(user_id, op_id, text, created_at) for op_id, text in results],
    )
