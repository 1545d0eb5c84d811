"""Problems, their numbers and their events (办理轨迹): SQL and the API representation."""

import json

from .. import ids
from ..statuses import REPORTED
from ..timeutil import now_iso
from . import blobs
from .changes import record_change
from .chunks import chunks
from .overdue import is_overdue

# Built once: json.dumps with options makes a new encoder per call (same text).
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

# Columns a caller may set through insert()/update(); the rest are bookkeeping.
WRITABLE = {
    "visit_id",
    "household_id",
    "grid_code",
    "community_code",
    "source",
    "category",
    "description",
    "urgency",
    "lat",
    "lng",
    "accuracy_m",
    "photos_before",
    "status",
    "suspended_from",
    "suspended_at",
    "level",
    "responsible_unit",
    "responsible_person",
    "responsible_user_id",
    "measures",
    "accepted_at",
    "due_at",
    "due_estimated",
    "rectified_at",
    "photos_after",
    "verified_by",
    "verified_at",
    "closed_at",
    "rating",
    "rating_comment",
    "cost_share_resident",
    "cost_share_society",
    "cost_share_subsidy",
    "supervised",
    "deleted",
    "create_hash",
    "created_by",
    "created_at_client",
    "updated_at_client",
}
JSON_COLUMNS = ("photos_before", "photos_after")


def next_number(conn, community_code, year):
    """The next gap-free number of a community's year: 370303001001-2026-0042.

    Runs inside the inserting transaction, so a rolled-back insert gives its number back.
    """
    row = conn.execute(
        "INSERT INTO problem_counters (community_code, year, last) VALUES (?, ?, 1) "
        "ON CONFLICT (community_code, year) DO UPDATE SET last = last + 1 RETURNING last",
        (community_code, year),
    ).fetchone()
    return number_text(community_code, year, row[0])


def _encode(fields):
    out = dict(fields)
    for key in JSON_COLUMNS:
        if key in out and not isinstance(out[key], str):
            out[key] = json.dumps(out[key] or [])
    return out


def insert(conn, problem_id, number, fields, *, reread=True):
    """Insert a problem (status reported, level grid unless given); returns the row.

    reread=False returns only the values written (id, version, reported_at, …), not the
    full row with its column defaults: for callers that need no more (a push result).
    """
    seq = record_change(conn, "problem", problem_id, fields["grid_code"])
    values = row_values(problem_id, number, fields, ts=now_iso(), seq=seq)
    cols = ", ".join(values)
    marks = ", ".join("?" * len(values))
    conn.execute(f"INSERT INTO problems ({cols}) VALUES ({marks})", list(values.values()))
    insert_refs(conn, [values])
    return get_row(conn, problem_id) if reread else values


def row_values(problem_id, number, fields, *, ts, seq):
    """The columns of a new problem (reported at ts, its change logged at seq)."""
    unknown = set(fields) - WRITABLE
    if unknown:
        raise ValueError(f"not writable: {sorted(unknown)}")
    values = _encode(fields)
    values.update(
        id=problem_id, number=number, reported_at=ts, created_at=ts, updated_at=ts, version=1
    )
    values.setdefault("status", REPORTED)
    values.setdefault("level", "grid")
    values.setdefault("responsible_unit", fields["grid_code"])
    values["seq"] = seq
    return values


def insert_refs(conn, rows):
    """The photo references of new problems (row_values dicts); a new id has none yet."""
    for values in rows:
        before = json.loads(values.get("photos_before") or "[]")
        after = json.loads(values.get("photos_after") or "[]")
        if before or after:
            _refresh_refs(conn, values["id"], values["grid_code"], before, after)


def last_number(conn, community_code, year):
    """The last sequence number drawn for a community's year (0 when none)."""
    row = conn.execute(
        "SELECT last FROM problem_counters WHERE community_code = ? AND year = ?",
        (community_code, year),
    ).fetchone()
    return row[0] if row else 0


def set_last_numbers(conn, lasts):
    """Store {(community_code, year): last} drawn in memory by one transaction."""
    conn.executemany(
        "INSERT INTO problem_counters (community_code, year, last) VALUES (?, ?, ?) "
        "ON CONFLICT (community_code, year) DO UPDATE SET last = excluded.last",
        [(community, year, last) for (community, year), last in lasts.items()],
    )


def number_text(community_code, year, seq):
    return f"{community_code}-{year}-{seq:04d}"


def update(conn, problem_id, fields):
    """Change columns, bump version, log the change; returns the new row."""
    unknown = set(fields) - WRITABLE
    if unknown:
        raise ValueError(f"not writable: {sorted(unknown)}")
    row = get_row(conn, problem_id)
    seq = record_change(conn, "problem", problem_id, fields.get("grid_code", row["grid_code"]))
    values = _encode(fields)
    assignments = "".join(f"{k} = ?, " for k in values)
    conn.execute(
        f"UPDATE problems SET {assignments}version = version + 1, updated_at = ?, seq = ? "
        "WHERE id = ?",
        [*values.values(), now_iso(), seq, problem_id],
    )
    new = get_row(conn, problem_id)
    if "photos_before" in fields or "photos_after" in fields:
        _refresh_refs(
            conn,
            problem_id,
            new["grid_code"],
            json.loads(new["photos_before"]),
            json.loads(new["photos_after"]),
        )
    return new


def _refresh_refs(conn, problem_id, grid_code, before, after):
    blobs.set_refs(conn, "problem", problem_id, grid_code, [*before, *after])


def get_row(conn, problem_id):
    row = conn.execute("SELECT * FROM problems WHERE id = ?", (problem_id,)).fetchone()
    return dict(row) if row else None


def add_event(
    conn, problem_id, *, action, from_status, to_status, actor_id, note=None, payload=None, at=None
):
    event_id = ids.time_ordered()
    add_events(
        conn,
        [
            (
                event_id,
                problem_id,
                action,
                from_status,
                to_status,
                actor_id,
                at or now_iso(),
                note,
                _COMPACT.encode(payload) if payload else "{}",
            )
        ],
    )
    return event_id


def add_events(conn, events):
    """Insert events given as (id, problem_id, action, from_status, to_status, actor_id, at,
    note, payload JSON) tuples with one executemany."""
    conn.executemany(
        "INSERT INTO problem_events (id, problem_id, action, from_status, to_status, actor_id, at,"
        " note, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        events,
    )


def events_for(conn, problem_ids):
    """{problem_id: [event, …]} oldest first."""
    ids = list(problem_ids)
    out = {pid: [] for pid in ids}
    for chunk, marks in chunks(ids):
        rows = conn.execute(
            "SELECT id, problem_id, action, from_status, to_status, actor_id, at, note, payload "
            f"FROM problem_events WHERE problem_id IN ({marks}) ORDER BY at, rowid",
            chunk,
        )
        for r in rows:
            event = dict(r)
            event["payload"] = json.loads(event["payload"])
            out[event.pop("problem_id")].append(event)
    return out


def to_api(row, events, photos_missing):
    """The problem as GET /problems/{id} and pulls return it."""
    location = None
    if row["lat"] is not None and row["lng"] is not None:
        location = {"lat": row["lat"], "lng": row["lng"], "accuracy_m": row["accuracy_m"]}
    cost_share = None
    if any(row[f"cost_share_{k}"] is not None for k in ("resident", "society", "subsidy")):
        cost_share = {k: row[f"cost_share_{k}"] for k in ("resident", "society", "subsidy")}
    return {
        "id": row["id"],
        "number": row["number"],
        "visit_id": row["visit_id"],
        "household_id": row["household_id"],
        "grid_code": row["grid_code"],
        "source": row["source"],
        "category": row["category"],
        "description": row["description"],
        "urgency": row["urgency"],
        "location": location,
        "photos_before": json.loads(row["photos_before"]),
        "status": row["status"],
        "level": row["level"],
        "responsible_unit": row["responsible_unit"],
        "responsible_person": row["responsible_person"],
        "responsible_user_id": row["responsible_user_id"],
        "measures": row["measures"],
        "accepted_at": row["accepted_at"],
        "due_at": row["due_at"],
        "due_estimated": bool(row["due_estimated"]),
        "overdue": is_overdue(row, now_iso()),
        "rectified_at": row["rectified_at"],
        "photos_after": json.loads(row["photos_after"]),
        "verified_by": row["verified_by"],
        "verified_at": row["verified_at"],
        "closed_at": row["closed_at"],
        "rating": row["rating"],
        "rating_comment": row["rating_comment"],
        "cost_share": cost_share,
        "supervised": bool(row["supervised"]),
        "version": row["version"],
        "reported_at": row["reported_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "created_at_client": row["created_at_client"],
        "updated_at_client": row["updated_at_client"],
        "photos_missing": photos_missing,
        "events": events,
    }


def load_api(conn, problem_id):
    """One problem as the API shows it, or None."""
    row = get_row(conn, problem_id)
    if row is None:
        return None
    return rows_to_api(conn, [row])[0]


def rows_to_api(conn, rows):
    """Many problems with their events and photos_missing, in three queries."""
    events = events_for(conn, [r["id"] for r in rows])
    shas = [s for r in rows for s in json.loads(r["photos_before"]) + json.loads(r["photos_after"])]
    stored = blobs.stored_among(conn, shas) if shas else set()
    out = []
    for r in rows:
        photos = json.loads(r["photos_before"]) + json.loads(r["photos_after"])
        missing = [s for s in dict.fromkeys(photos) if s not in stored]
        out.append(to_api(r, events[r["id"]], missing))
    return out
