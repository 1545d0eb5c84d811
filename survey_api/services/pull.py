"""Pull: everything in the caller's scope changed since an opaque cursor.

The cursor is signed state (HMAC of SECRET_KEY): database id, user id, the scope snapshot it
was issued for, the change-log position `s`, and a queue of pending phases:
  ["r", grid set, kind, after id]           revoke records of grids that left the scope
  ["l", grid set, kind, after id, bound]    load records of grids (rows with seq <= bound)
When the queue is empty the pull follows the change log (seq > s) in the current scope.
A first pull is a load of the whole scope bound at the current max seq, with s = that seq;
a scope change queues a revoke of the removed grids and a load of the added ones. Loads and
revokes are filtered by the current scope when they run, so queued phases never leak or
revoke a record the caller may see. Every page is read in one read transaction.
"""

import base64
import hashlib
import hmac
import json

from ..db import read_tx, write_tx
from ..errors import ApiError
from ..storage import audit, pull_queries
from ..storage import households as household_store
from ..storage import problems as problem_store
from ..storage import visits as visit_store
from ..storage.changes import max_seq
from ..timeutil import iso, now
from .masking import mask

LOAD_KINDS = ("households", "problems", "visits")
REVOKE_KINDS = ("households", "problems")
ENTITY_KIND = {"household": "households", "problem": "problems", "visit": "visits"}


def _b64(raw):
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(state, secret):
    raw = json.dumps(state, separators=(",", ":")).encode()
    sig = hmac.new(secret.encode(), raw, hashlib.sha256).digest()[:16]
    return f"{_b64(raw)}.{_b64(sig)}"


def _expired(detail):
    return ApiError(410, "CURSOR_EXPIRED", detail + " Start again without a cursor.")


def decode_cursor(cursor, secret, database_id, user_id):
    """The cursor's state; 410 CURSOR_EXPIRED for anything this server cannot continue."""
    try:
        body, sig = cursor.split(".")
        raw = _unb64(body)
        good = hmac.new(secret.encode(), raw, hashlib.sha256).digest()[:16]
        if not hmac.compare_digest(good, _unb64(sig)):
            raise ValueError("bad signature")
        state = json.loads(raw)
        if (
            not isinstance(state, dict)
            or not isinstance(state.get("ph"), list)
            or not isinstance(state.get("s"), int)
        ):
            raise ValueError("not a cursor")
    except (ValueError, TypeError):
        raise _expired("This cursor is not valid here.") from None
    if state.get("db") != database_id:
        raise _expired("This cursor belongs to another database.")
    if state.get("u") != user_id:
        raise _expired("This cursor belongs to another user.")
    return state


def _snapshot(conn, user_id, grids):
    snap_id, digest = pull_queries.find_snapshot(conn, user_id, grids)
    if snap_id is None:
        with write_tx(conn):
            snap_id = pull_queries.insert_snapshot(conn, user_id, grids, digest)
    return snap_id


def _scope_changed(conn, scope, state, grids_now, snap_now):
    """Queue a revoke of removed grids and a load of added ones (never expire the cursor)."""
    found, old = pull_queries.snapshot_grids(conn, scope.user_id, state["sc"])
    if not found:
        raise _expired("This cursor's scope is unknown here.")
    old_set = set(pull_queries.all_grids(conn) if old is None else old)
    new_set = set(pull_queries.all_grids(conn) if grids_now is None else grids_now)
    removed, added = old_set - new_set, new_set - old_set
    phases = list(state["ph"])
    if removed:
        phases.insert(0, ["r", _snapshot(conn, scope.user_id, sorted(removed)), 0, ""])
    if added:
        with read_tx(conn):
            bound = max_seq(conn)
        phases.append(["l", _snapshot(conn, scope.user_id, sorted(added)), 0, "", bound])
    state.update(sc=snap_now, ph=phases)


class _Page:
    """Collects one page's records (unique per kind) against the limit."""

    def __init__(self, conn, scope, grids_now, unmask):
        self.conn, self.scope, self.grids_now, self.unmask = conn, scope, grids_now, unmask
        self.rows = {k: {} for k in LOAD_KINDS}
        self.deleted = {"households": [], "problems": []}
        self.revoked = {"households": [], "problems": []}
        self.count = 0

    def in_scope(self, grid_code):
        return self.grids_now is None or grid_code in self.grids_now

    def add_row(self, kind, row):
        self.rows[kind][row["id"]] = row
        self.count += 1

    def body(self, next_cursor, has_more):
        households = [household_store.to_api(r) for r in self.rows["households"].values()]
        if not (self.unmask or self.scope.is_grid_worker):
            households = [mask(h) for h in households]
        return {
            "changes": {
                "households": {"upserted": households, "deleted": self.deleted["households"]},
                "problems": {
                    "upserted": problem_store.rows_to_api(
                        self.conn, list(self.rows["problems"].values())
                    ),
                    "deleted": self.deleted["problems"],
                },
                "visits": {
                    "upserted": visit_store.rows_to_api(
                        self.conn, list(self.rows["visits"].values())
                    )
                },
            },
            "revoked": self.revoked,
            "next_cursor": next_cursor,
            "has_more": has_more,
            "server_time": iso(now()),
        }


def _grid_set(conn, scope, snapshot_id):
    found, grids = pull_queries.snapshot_grids(conn, scope.user_id, snapshot_id)
    if not found:
        raise _expired("This cursor's scope is unknown here.")
    return grids


def _run_phase(conn, scope, page, phase, budget, cutoff):
    """Advance one queued phase by up to budget records; True when it is finished."""
    grids = _grid_set(conn, scope, phase[1])
    while budget > 0:
        kinds = REVOKE_KINDS if phase[0] == "r" else LOAD_KINDS
        if phase[2] >= len(kinds):
            return True
        kind = kinds[phase[2]]
        if phase[0] == "r":
            ids = pull_queries.revoke_ids(
                conn,
                kind,
                grids=grids,
                scope_grids=page.grids_now,
                after=phase[3],
                limit=budget + 1,
            )
            for record_id in ids[:budget]:
                page.revoked[kind].append(record_id)
                page.count += 1
            got = ids
        else:
            got = pull_queries.load_rows(
                conn,
                kind,
                grids=grids,
                scope_grids=page.grids_now,
                after=phase[3],
                bound=phase[4],
                cutoff=cutoff,
                limit=budget + 1,
            )
            for row in got[:budget]:
                page.add_row(kind, row)
        if len(got) > budget:
            last = got[budget - 1]
            phase[3] = last if isinstance(last, str) else last["id"]
            return False
        budget -= len(got)
        phase[2], phase[3] = phase[2] + 1, ""
    kinds = REVOKE_KINDS if phase[0] == "r" else LOAD_KINDS
    return phase[2] >= len(kinds)


def _follow_changes(conn, page, state, budget):
    """Read the change log after state['s'] until budget distinct records; advance s."""
    pending = {k: [] for k in LOAD_KINDS}
    seen = set()
    seq = state["s"]
    while len(seen) < budget:
        rows = pull_queries.changes_after(conn, seq, page.grids_now, max(2 * budget, 100))
        if not rows:
            break
        for change_seq, entity, record_id in rows:
            key = (entity, record_id)
            if key not in seen:
                if len(seen) == budget:
                    break
                seen.add(key)
                pending[ENTITY_KIND[entity]].append(record_id)
            seq = change_seq
        else:
            continue
        break
    state["s"] = seq
    for kind, ids in pending.items():
        for record_id, row in pull_queries.rows_by_id(conn, kind, ids).items():
            if not page.in_scope(row["grid_code"]):
                if kind in page.revoked:
                    page.revoked[kind].append(record_id)
                    page.count += 1
            elif kind != "visits" and row["deleted"]:
                page.deleted[kind].append(record_id)
                page.count += 1
            else:
                page.add_row(kind, row)


def pull(conn, scope, cursor, limit, *, secret, unmask=False, ip=None):
    """One pull page: {changes, revoked, next_cursor, has_more, server_time}."""
    database_id = pull_queries.database_id(conn)
    # A cursor that cannot be continued is refused before anything (a snapshot) is written.
    state = None if cursor is None else decode_cursor(cursor, secret, database_id, scope.user_id)
    if state is not None:
        with read_tx(conn):
            last = max_seq(conn)
        if max([state["s"], *(p[4] for p in state["ph"] if p[0] == "l")]) > last:
            # e.g. the database was restored from a backup older than the cursor
            raise _expired("This cursor is ahead of this database.")
    grids_now = scope.grids()
    snap_now = _snapshot(conn, scope.user_id, grids_now)
    if state is None:
        with read_tx(conn):
            bound = max_seq(conn)
        state = {
            "db": database_id,
            "u": scope.user_id,
            "sc": snap_now,
            "s": bound,
            "ph": [["l", snap_now, 0, "", bound]],
        }
    else:
        if state.get("sc") != snap_now:
            _scope_changed(conn, scope, state, grids_now, snap_now)
    page = _Page(conn, scope, None if grids_now is None else set(grids_now), unmask)
    cutoff = pull_queries.cutoff_iso(now())
    with read_tx(conn):
        while state["ph"] and page.count < limit:
            if _run_phase(conn, scope, page, state["ph"][0], limit - page.count, cutoff):
                state["ph"].pop(0)
        if not state["ph"] and page.count < limit:
            _follow_changes(conn, page, state, limit - page.count)
        has_more = bool(state["ph"]) or bool(
            pull_queries.changes_after(conn, state["s"], page.grids_now, 1)
        )
        body = page.body(encode_cursor(state, secret), has_more)
    if unmask:
        with write_tx(conn):
            audit.record(
                conn,
                actor=scope.user_id,
                action="unmask",
                target="sync.pull",
                ip=ip,
                details={"households": len(body["changes"]["households"]["upserted"])},
            )
    return body
