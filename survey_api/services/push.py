"""Applying a push: the Idempotency-Key protocol and the per-item rules (DESIGN §5, Appendix A).

- The key is claimed with an in-flight mark in its own short transaction; a live mark is 409,
  a mark older than IDEMPOTENCY_STALE_SECONDS belongs to a dead worker and is taken over.
- All items are applied in ONE write transaction (BEGIN IMMEDIATE), each inside a SAVEPOINT so a
  failed item leaves nothing behind; the response is stored and the key marked done in that
  same transaction. An acknowledged push is therefore durable, and a killed push leaves nothing.
- op_id results are kept per user: a resent op_id answers its first result (applied → duplicate).
  Results the phone should retry (NOT_FOUND, PARENT_FAILED) are not kept, so a retry is
  evaluated afresh.
"""

import random
from datetime import datetime

from ..db import write_tx
from ..errors import ApiError
from ..storage import audit
from ..storage import idempotency as idem
from ..timeutil import iso, now
from . import households, problems, visits
from .creates import Batch, Duplicate, at_client_iso

RETRYABLE = {"NOT_FOUND", "PARENT_FAILED"}
CONFLICT_CODES = {"STALE_VERSION", "INVALID_TRANSITION", "ID_REUSED"}
STATUSES = ("applied", "duplicate", "conflict", "rejected")


def claim(conn, scope, key, body_sha256, stale_seconds):
    """Short write tx: ('replay', response) for a finished key, else ('run', token).

    The in-flight mark need not survive a power loss (it expires after stale_seconds), so this
    commit skips the fsync (synchronous=NORMAL under WAL); the push itself commits with FULL.
    """
    conn.execute("PRAGMA synchronous = NORMAL")
    try:
        return _claim(conn, scope, key, body_sha256, stale_seconds)
    finally:
        conn.execute("PRAGMA synchronous = FULL")


def _claim(conn, scope, key, body_sha256, stale_seconds):
    with write_tx(conn):
        row = idem.get_key(conn, scope.user_id, key)
        if row is not None:
            if row["body_sha256"] != body_sha256:
                raise ApiError(422, "IDEMPOTENCY_KEY_REUSED",
                               "This Idempotency-Key was used with another body.")
            if row["state"] == "done":
                return "replay", row["response"]
            if now().timestamp() - row["started_at"] < stale_seconds:
                raise ApiError(409, "IDEMPOTENCY_KEY_IN_FLIGHT",
                               "A push with this Idempotency-Key is still being applied.",
                               headers={"Retry-After": "1"})
        return "run", idem.mark_in_flight(conn, scope.user_id, key, body_sha256)


def run(conn, scope, key, body_sha256, envelope, *, stale_seconds, ttl_days, ip=None):
    """The push response as JSON text: new, or the stored one for a replay (same bytes)."""
    state, value = claim(conn, scope, key, body_sha256, stale_seconds)
    if state == "replay":
        return value
    token = value
    try:
        with write_tx(conn):
            row = idem.get_key(conn, scope.user_id, key)
            if row is None or row["state"] != "in_flight" or row["started_at"] != token:
                if row is not None and row["state"] == "done" and \
                        row["body_sha256"] == body_sha256:
                    return row["response"]
                raise ApiError(409, "IDEMPOTENCY_KEY_IN_FLIGHT",
                               "Another request took over this Idempotency-Key.",
                               headers={"Retry-After": "1"})
            results = apply_items(conn, scope, envelope["items"])
            response = _response(envelope, results)
            text = idem.encode_response(response)
            idem.finish(conn, scope.user_id, key, text)
            audit.record(conn, actor=scope.user_id, action="sync.push", target=key, ip=ip,
                         details={"device_id": envelope.get("device_id"),
                                  "items": len(results), **response["summary"]})
            if random.random() < 0.01:
                idem.purge(conn, ttl_days)
    except BaseException:
        try:
            with write_tx(conn):
                idem.release(conn, scope.user_id, key, token)
        except Exception:  # the mark expires after stale_seconds anyway
            pass
        raise
    return text


def _response(envelope, results):
    server_time = now()
    device_time = envelope.get("device_time")
    offset = None
    if isinstance(device_time, datetime):
        offset = round((server_time - device_time).total_seconds(), 3)
    summary = dict.fromkeys(STATUSES, 0)
    for r in results:
        summary[r["status"]] += 1
    return {"server_time": iso(server_time), "clock_offset_s": offset, "summary": summary,
            "results": results}


def _parents(item):
    """Ids this item depends on: the record itself (not for a create) and referenced parents."""
    data = item.get("data") if isinstance(item.get("data"), dict) else {}
    refs = [str(data[k]).lower() for k in ("household_id", "visit_id") if data.get(k)]
    if item["op"] != "create" and item.get("id"):
        refs.append(item["id"].lower())
    return refs


def apply_items(conn, scope, items):
    """Apply items strictly in order, each atomically; one result per item."""
    failed_creates, failed = set(), set()
    batch_ops = idem.get_ops(conn, scope.user_id, [i["op_id"].lower() for i in items])
    batch = Batch(conn, scope, [i for i in items if i["op_id"].lower() not in batch_ops])
    to_keep = []
    at = iso(now())
    results = []
    for item in items:
        op_id = item["op_id"]
        key = op_id.lower()
        first = batch_ops.get(key)
        if first is not None:
            result = dict(first, op_id=op_id)
            if result["status"] == "applied":
                result["status"] = "duplicate"
        else:
            parents = _parents(item) if failed else ()  # nothing failed yet: no parent did
            if any(p in failed_creates for p in parents):
                result = _rejected(item, "PARENT_FAILED", "A record it depends on failed in "
                                   "this push.", retryable=True)
            else:
                result = apply_one(conn, scope, item, batch)
                if result["status"] == "rejected" and result["code"] == "NOT_FOUND" and any(
                        p in failed for p in parents):
                    result = _rejected(item, "PARENT_FAILED", "A record it depends on failed "
                                       "in this push.", retryable=True)
            if result.get("code") not in RETRYABLE:
                to_keep.append((key, result))
            batch_ops[key] = result
        if result["status"] in ("conflict", "rejected") and item.get("id"):
            failed.add(item["id"].lower())
            if item["op"] == "create":
                failed_creates.add(item["id"].lower())
        results.append(result)
    idem.put_ops(conn, scope.user_id, to_keep, at)
    return results


def _ok(item, status, record_id, version):
    return {"op_id": item["op_id"], "status": status, "id": record_id, "version": version}


def _rejected(item, code, detail=None, *, retryable=False, errors=None):
    result = {"op_id": item["op_id"], "status": "rejected", "id": item.get("id"), "code": code,
              "retryable": retryable}
    if detail:
        result["detail"] = detail
    if errors:
        result["errors"] = errors
    return result


# Creates do every check before their first write (ids, schema, scope, parents), and any error
# other than ApiError/Duplicate aborts the whole push (its transaction rolls back). So a create
# that fails has written nothing and needs no savepoint of its own; apply_one verifies that
# with conn.total_changes and aborts the push rather than keep a half-written item.
_CHECKS_BEFORE_WRITES = {("household", "create"), ("visit", "create"), ("problem", "create")}


class HalfWrittenItem(RuntimeError):
    """A create failed after it had written: a bug; the whole push is rolled back."""


def apply_one(conn, scope, item, batch=None):
    """One item, atomically (a savepoint, or none needed for a create), mapped to a result."""
    try:
        if (item["entity"], item["op"]) in _CHECKS_BEFORE_WRITES:
            before = conn.total_changes
            try:
                record_id, version = _dispatch(conn, scope, item, batch)
            except (ApiError, Duplicate):
                if batch is not None:
                    batch.drop()
                if conn.total_changes != before:
                    raise HalfWrittenItem(f"{item['entity']} create failed after writing") \
                        from None
                raise
        else:
            conn.execute("SAVEPOINT push_item")
            try:
                record_id, version = _dispatch(conn, scope, item, batch)
            except BaseException:
                conn.execute("ROLLBACK TO push_item")
                conn.execute("RELEASE push_item")
                if batch is not None:
                    batch.drop()  # the savepoint rolled back what the item noted
                raise
            conn.execute("RELEASE push_item")
        if batch is not None:
            batch.keep()
    except Duplicate as d:
        return _ok(item, "duplicate", d.record["id"], d.record.get("version", 1))
    except ApiError as e:
        if e.status == 409 or e.code in CONFLICT_CODES:
            return {"op_id": item["op_id"], "status": "conflict", "id": item.get("id"),
                    "code": e.code, "retryable": False, "detail": e.detail,
                    "server": e.extra.get("current")}
        return _rejected(item, e.code, e.detail, retryable=e.code in RETRYABLE, errors=e.errors)
    return _ok(item, "applied", record_id, version)


def _dispatch(conn, scope, item, batch=None):
    """Route one item to its service; (record id, version)."""
    entity, op = item["entity"], item["op"]
    record_id = item["id"].lower() if item.get("id") else None
    data, base, at_client = item["data"], item.get("base_version"), item.get("at_client")
    if entity == "problem_action":
        from . import lifecycle

        record = lifecycle.apply_action(conn, scope, record_id, base, data,
                                        at_client=at_client_iso(at_client))
        return record["id"], record["version"]
    service = {"household": households, "visit": visits, "problem": problems}[entity]
    if op == "create":
        row = service.create(conn, scope, record_id, data, at_client, represent=False,
                             batch=batch)
        return row["id"], row.get("version", 1)
    if op == "update":
        row = service.update(conn, scope, record_id, base, data, at_client, represent=False)
        return row["id"], row["version"]
    if service.delete(conn, scope, record_id, base, at_client) == "absent":
        return record_id, None  # unknown, or outside scope: nothing to show (no existence leak)
    row = conn.execute(f"SELECT version FROM {entity}s WHERE id = ?", (record_id,)).fetchone()
    return record_id, row[0] if row else None
