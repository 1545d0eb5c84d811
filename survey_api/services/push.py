"""Applying a push: the Idempotency-Key protocol and the per-item rules (DESIGN §5, Appendices).

- The key is claimed with an in-flight mark in its own short transaction; a live mark is 409,
  a mark older than IDEMPOTENCY_STALE_SECONDS belongs to a dead worker and is taken over. A
  key already known is judged by a plain read before anything else (a replay costs no more).
- Before the claim and the write lock, every item is judged on its own (`prepare`): its own fields
  (schemas.sync.PushItemSchema; a wrong one is its `rejected` VALIDATION_ERROR result, the item
  is the unit of failure), and a create's id, hash and data (services/*.new_record). op_ids
  already answered are read then too. Two workers do this in parallel.
- Inside ONE write transaction (BEGIN IMMEDIATE) only what needs the database's current state:
  items are applied in order, each atomically. A create is checked (its lookups answered by a
  PushBatch from one round of queries) and kept; kept creates are written with executemany
  (services/push_batch.py) before any item that reads or writes on its own, which runs in a
  savepoint. The response is stored and the key marked done in that same transaction, so an
  acknowledged push is durable (synchronous=FULL) and a killed push leaves nothing.
- op_id results are kept per user: a resent op_id answers its first result (applied →
  duplicate). Results the phone should retry (NOT_FOUND, PARENT_FAILED) are not kept, so a
  retry is evaluated afresh; nor are those of items without a valid op_id (nothing to key).
"""

import random
from datetime import datetime

from marshmallow import ValidationError

from schemas.fastload import FastLoader
from schemas.sync import PushItemSchema

from ..db import savepoint, write_tx
from ..errors import ApiError
from ..storage import audit
from ..storage import households as household_store
from ..storage import idempotency as idem
from ..storage import problems as problem_store
from ..timeutil import iso, now
from . import households, problems, visits
from .creates import Duplicate, at_client_iso
from .push_batch import PushBatch, new_row

RETRYABLE = {"NOT_FOUND", "PARENT_FAILED"}
CONFLICT_CODES = {"STALE_VERSION", "INVALID_TRANSITION", "ID_REUSED"}
STATUSES = ("applied", "duplicate", "conflict", "rejected")
SERVICES = {"household": households, "visit": visits, "problem": problems}
RECORDS = {"household": household_store, "problem": problem_store}
_ITEM = FastLoader(PushItemSchema())  # schema.load, well-formed items faster


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
            response = _known_key(row, body_sha256, stale_seconds)
            if response is not None:
                return "replay", response
        return "run", idem.mark_in_flight(conn, scope.user_id, key, body_sha256)


def _known_key(row, body_sha256, stale_seconds):
    """The stored response of a finished key; 422 for another body, 409 for a live mark;
    None for a dead mark (to be taken over)."""
    if row["body_sha256"] != body_sha256:
        raise ApiError(
            422,
            "IDEMPOTENCY_KEY_REUSED",
            "This Idempotency-Key was used with another body.",
        )
    if row["state"] == "done":
        return row["response"]
    if now().timestamp() - row["started_at"] < stale_seconds:
        raise ApiError(
            409,
            "IDEMPOTENCY_KEY_IN_FLIGHT",
            "A push with this Idempotency-Key is still being applied.",
            headers={"Retry-After": "1"},
        )
    return None


def run(conn, scope, key, body_sha256, envelope, *, stale_seconds, ttl_days, ip=None):
    """The push response as JSON text: new, or the stored one for a replay (same bytes).

    The items are prepared before the key is claimed: the claim is a write transaction, so it
    waits while another push holds the write lock, and preparing meanwhile keeps both
    workers busy. A key already known is judged by a plain read first (a replay prepares
    nothing); the claim judges it again under the lock.
    """
    row = idem.get_key(conn, scope.user_id, key)
    if row is not None:
        response = _known_key(row, body_sha256, stale_seconds)
        if response is not None:
            return response
    items, ops = prepare(conn, scope, envelope["items"])
    state, value = claim(conn, scope, key, body_sha256, stale_seconds)
    if state == "replay":
        return value
    token = value
    try:
        with write_tx(conn):
            row = idem.get_key(conn, scope.user_id, key)
            if row is None or row["state"] != "in_flight" or row["started_at"] != token:
                if row is not None and row["state"] == "done" and row["body_sha256"] == body_sha256:
                    return row["response"]
                raise ApiError(
                    409,
                    "IDEMPOTENCY_KEY_IN_FLIGHT",
                    "Another request took over this Idempotency-Key.",
                    headers={"Retry-After": "1"},
                )
            results, texts = apply_items(conn, scope, items, ops)
            response = _response(envelope, results)
            text = idem.encode_response(response, texts)
            idem.finish(conn, scope.user_id, key, text)
            audit.record(
                conn,
                actor=scope.user_id,
                action="sync.push",
                target=key,
                ip=ip,
                details={
                    "device_id": envelope.get("device_id"),
                    "items": len(results),
                    **response["summary"],
                },
            )
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


class Item:
    """One push item as judged before the write lock.

    op_id: as sent; key: the lowercase op_id when valid, else None (the result is not kept);
    errors: the item's own field errors (then it is rejected); new: a create's
    creates.NewRecord; at_client: ISO text; applied: a create's result when it applies and
    that result's text, built before the lock. An item whose op_id was answered before needs
    no more (`answered`): its first result is its answer, whatever else it says; `answer` holds
    that answer and its text, built before the lock too (a first result never changes).
    """

    __slots__ = (
        "op_id",
        "key",
        "entity",
        "op",
        "id",
        "base",
        "data",
        "at_client",
        "new",
        "errors",
        "applied",
        "answer",
    )

    def __init__(self, raw):
        fields = raw if isinstance(raw, dict) else {}
        self.op_id = fields.get("op_id")
        self.new = self.applied = self.answer = None
        try:
            item = _ITEM.load(raw)
        except ValidationError as e:
            self.errors = e.messages if isinstance(e.messages, dict) else {"_schema": e.messages}
            valid_op_id = isinstance(self.op_id, str) and "op_id" not in self.errors
            self.key = self.op_id.lower() if valid_op_id else None
            self.entity, self.op = fields.get("entity"), fields.get("op")
            self.id = fields["id"].lower() if isinstance(fields.get("id"), str) else None
            self.base = self.data = self.at_client = None
            return
        self.errors = None
        self.key = item["op_id"].lower()
        self.entity, self.op = item["entity"], item["op"]
        self.id = item["id"].lower() if item.get("id") else None
        self.base, self.data = item.get("base_version"), item.get("data")
        self.at_client = at_client_iso(item.get("at_client"))

    @classmethod
    def answered(cls, raw, key, first):
        """An item whose op_id (key) has a stored first result: nothing else is read."""
        item = cls.__new__(cls)
        item.op_id, item.key, item.new, item.errors = raw["op_id"], key, None, None
        item.applied = None
        item.entity, item.op = raw.get("entity"), raw.get("op")
        item.id = raw["id"].lower() if isinstance(raw.get("id"), str) else None
        item.base = item.data = item.at_client = None
        answer = _resent(first, item.op_id)
        item.answer = (answer, idem.encode_result(answer))
        return item


def _resent(first, op_id):
    """The answer to a resent op_id: its first result, `applied` coming back as `duplicate`."""
    result = dict(first, op_id=op_id)
    if result["status"] == "applied":
        result["status"] = "duplicate"
    return result


def _op_key(raw):
    """The lowercase op_id of a raw item, when it is a string (stored ones are valid UUIDs)."""
    if isinstance(raw, dict) and isinstance(raw.get("op_id"), str):
        return raw["op_id"].lower()
    return None


def prepare(conn, scope, raw_items):
    """Before the write lock: the op_ids already answered read (such items need nothing
    more), every other item judged on its own and its create loaded and hashed.

    Returns (items, {op_id key: first result})."""
    keys = [_op_key(raw) for raw in raw_items]
    ops = idem.get_ops(conn, scope.user_id, [k for k in keys if k])
    items = []
    for raw, key in zip(raw_items, keys, strict=True):
        if key in ops:
            items.append(Item.answered(raw, key, ops[key]))
            continue
        item = Item(raw)
        if item.errors is None and item.op == "create":
            item.new = SERVICES[item.entity].new_record(item.id, item.data, item.at_client)
            new_row(item.entity, item.new)
            if item.new.id is not None:
                result = _ok(item, "applied", item.new.id, 1)
                item.applied = (result, idem.encode_result(result))
        items.append(item)
    return items, ops


def _response(envelope, results):
    server_time = now()
    device_time = envelope.get("device_time")
    offset = None
    if isinstance(device_time, datetime):
        offset = round((server_time - device_time).total_seconds(), 3)
    summary = dict.fromkeys(STATUSES, 0)
    for r in results:
        summary[r["status"]] += 1
    return {
        "server_time": iso(server_time),
        "clock_offset_s": offset,
        "summary": summary,
        "results": results,
    }


def _parents(item):
    """Ids this item depends on: the record itself (not for a create) and referenced parents."""
    data = item.data if isinstance(item.data, dict) else {}
    refs = [str(data[k]).lower() for k in ("household_id", "visit_id") if data.get(k)]
    if item.op != "create" and item.id:
        refs.append(item.id)
    return refs


def apply_items(conn, scope, items, ops):
    """Apply items strictly in order, each atomically; (results, their encoded texts): one
    result per item.

    ops: {op_id key: first result} read before the lock; the op_ids not in it are looked up
    again here, under the lock, in case a push of the same user stored them meanwhile.
    """
    ops = dict(ops)
    ops.update(
        idem.get_ops(conn, scope.user_id, [i.key for i in items if i.key and i.key not in ops])
    )
    batch = PushBatch(conn, scope, [i for i in items if i.errors is None and i.key not in ops])
    failed_creates, failed = set(), set()
    to_keep, results = [], []
    for item in items:
        first = ops.get(item.key) if item.key else None
        if item.answer is not None:
            result = item.answer[0]
        elif first is not None:  # stored since prepare, or earlier in this push
            result = _resent(first, item.op_id)
        else:
            result = _apply_new(conn, scope, item, batch, failed, failed_creates)
            if item.key:
                if result.get("code") not in RETRYABLE:
                    to_keep.append((item.key, len(results)))
                ops[item.key] = result
        if result["status"] in ("conflict", "rejected") and item.id:
            failed.add(item.id)
            if item.op == "create":
                failed_creates.add(item.id)
        results.append(result)
    batch.flush()
    texts = [_text(item, result) for item, result in zip(items, results, strict=True)]
    idem.put_ops(conn, scope.user_id, [(key, texts[i]) for key, i in to_keep], iso(now()))
    return results, texts


def _text(item, result):
    """A result's JSON text: the one built before the lock when the result is that one."""
    for ready in (item.answer, item.applied):
        if ready is not None and result is ready[0]:
            return ready[1]
    return idem.encode_result(result)


def _apply_new(conn, scope, item, batch, failed, failed_creates):
    """The result of an item whose op_id was not answered before."""
    if item.errors is not None:
        return _rejected(
            item, "VALIDATION_ERROR", "The item's own fields are wrong.", errors=item.errors
        )
    parents = _parents(item) if failed else ()  # nothing failed yet: no parent did
    if any(p in failed_creates for p in parents):
        return _rejected(
            item, "PARENT_FAILED", "A record it depends on failed in this push.", retryable=True
        )
    result = apply_one(conn, scope, item, batch)
    if (
        result["status"] == "rejected"
        and result["code"] == "NOT_FOUND"
        and any(p in failed for p in parents)
    ):
        return _rejected(
            item, "PARENT_FAILED", "A record it depends on failed in this push.", retryable=True
        )
    return result


def _ok(item, status, record_id, version):
    return {"op_id": item.op_id, "status": status, "id": record_id, "version": version}


def _rejected(item, code, detail=None, *, retryable=False, errors=None):
    result = {
        "op_id": item.op_id,
        "status": "rejected",
        "id": item.id,
        "code": code,
        "retryable": retryable,
    }
    if detail:
        result["detail"] = detail
    if errors:
        result["errors"] = errors
    return result


def apply_one(conn, scope, item, batch):
    """One item, atomically, mapped to a result.

    A create only reads (its checks) and is then kept by the batch, to be written with the
    others: it has nothing to undo. Every other item first lets the batch write what it
    kept, then runs in a savepoint.
    """
    try:
        if item.new is not None:
            _create(conn, scope, item, batch)
            return item.applied[0]  # built before the lock: id, version 1
        batch.flush()
        try:
            with savepoint(conn, "push_item"):
                record_id, version = _dispatch(conn, scope, item)
        finally:
            if item.entity == "household":
                batch.changed_household(item.id)
    except Duplicate as d:
        return _ok(item, "duplicate", d.record["id"], d.record.get("version", 1))
    except ApiError as e:
        if e.status == 409 or e.code in CONFLICT_CODES:
            return {
                "op_id": item.op_id,
                "status": "conflict",
                "id": item.id,
                "code": e.code,
                "retryable": False,
                "detail": e.detail,
                "server": e.extra.get("current"),
            }
        return _rejected(item, e.code, e.detail, retryable=e.code in RETRYABLE, errors=e.errors)
    return _ok(item, "applied", record_id, version)


def _create(conn, scope, item, batch):
    """Check a create against the database and keep it for the batch's bulk write; raises
    Duplicate or ApiError when it does not apply."""
    new = item.new
    if item.entity == "household":
        batch.add_household(new, households.check_create(conn, scope, new, batch))
    elif item.entity == "visit":
        batch.add_visit(new, *visits.check_create(conn, scope, new, batch))
    else:
        batch.add_problem(new, problems.check_create(conn, scope, new, batch))


def _dispatch(conn, scope, item):
    """Route an update, delete or action to its service; (record id, version)."""
    if item.entity == "problem_action":
        from . import lifecycle

        record = lifecycle.apply_action(
            conn, scope, item.id, item.base, item.data, at_client=item.at_client
        )
        return record["id"], record["version"]
    service = SERVICES[item.entity]
    if item.op == "update":
        row = service.update(
            conn, scope, item.id, item.base, item.data, item.at_client, represent=False
        )
        return row["id"], row["version"]
    if service.delete(conn, scope, item.id, item.base, item.at_client) == "absent":
        return item.id, None  # unknown, or outside scope: nothing to show (no existence leak)
    row = RECORDS[item.entity].get_row(conn, item.id)  # already deleted: its tombstone
    return item.id, row["version"] if row else None
