"""Visits (append-only): SQL and the API representation."""

import json

from ..timeutil import iso, now_iso, parse_iso
from . import blobs
from .changes import record_change


def get_row(conn, visit_id):
    row = conn.execute("SELECT * FROM visits WHERE id = ?", (visit_id,)).fetchone()
    return dict(row) if row else None


_COLUMNS = (
    "id",
    "household_id",
    "grid_code",
    "visitor_id",
    "visited_at",
    "visited_at_utc",
    "outcome",
    "notes",
    "lat",
    "lng",
    "accuracy_m",
    "photos",
    "create_hash",
    "received_at",
    "created_at_client",
    "seq",
)
_INSERT = f"INSERT INTO visits ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"


def insert(
    conn, visit_id, fields, *, grid_code, visitor_id, create_hash=None, created_at_client=None
):
    """Insert a visit (fields: household_id, visited_at (ISO text), outcome, notes, location,
    photos); logs the change and the photo references; returns the row."""
    seq = record_change(conn, "visit", visit_id, grid_code)
    values = row_values(
        visit_id,
        fields,
        grid_code=grid_code,
        visitor_id=visitor_id,
        create_hash=create_hash,
        created_at_client=created_at_client,
        received_at=now_iso(),
        seq=seq,
    )
    insert_many(conn, [values])
    return dict(zip(_COLUMNS, values, strict=True))


def row_values(
    visit_id, fields, *, grid_code, visitor_id, create_hash, created_at_client, received_at, seq
):
    """The column values (in _COLUMNS order) of a new visit whose change is logged at seq."""
    return with_write(
        new_row(visit_id, fields, create_hash=create_hash, created_at_client=created_at_client),
        household_id=fields["household_id"],
        grid_code=grid_code,
        visitor_id=visitor_id,
        received_at=received_at,
        seq=seq,
    )


def new_row(visit_id, fields, *, create_hash, created_at_client):
    """The column values (in _COLUMNS order) of a new visit that follow from the create alone
    (a push builds them before its write lock); those with_write sets are None."""
    location = fields.get("location") or {}
    photos = list(dict.fromkeys(fields.get("photos") or []))
    visited_at = fields["visited_at"]
    if not isinstance(visited_at, str):
        visited_at = visited_at.isoformat()
    return (
        visit_id,
        None,  # household_id: as the checks found it
        None,  # grid_code: the household's
        None,  # visitor_id
        visited_at,
        iso(parse_iso(visited_at)),
        fields["outcome"],
        fields.get("notes"),
        location.get("lat"),
        location.get("lng"),
        location.get("accuracy_m"),
        json.dumps(photos) if photos else "[]",
        create_hash,
        None,  # received_at
        created_at_client,
        None,  # seq
    )


def with_write(row, *, household_id, grid_code, visitor_id, received_at, seq):
    """A new_row completed with its household and what its write transaction sets."""
    return (row[0], household_id, grid_code, visitor_id, *row[4:13], received_at, row[14], seq)


def insert_many(conn, rows):
    """Insert visits given as row_values tuples (one executemany) and their photo refs."""
    conn.executemany(_INSERT, rows)
    for row in rows:
        if row[11] != "[]":
            blobs.set_refs(conn, "visit", row[0], row[2], json.loads(row[11]))


def to_api(row, photos_missing=None):
    """The visit as GET /visits/{id} and pulls return it."""
    photos = json.loads(row["photos"])
    location = None
    if row["lat"] is not None:
        location = {"lat": row["lat"], "lng": row["lng"], "accuracy_m": row["accuracy_m"]}
    return {
        "id": row["id"],
        "household_id": row["household_id"],
        "grid_code": row["grid_code"],
        "visitor_id": row["visitor_id"],
        "visited_at": row["visited_at"],
        "outcome": row["outcome"],
        "notes": row["notes"],
        "location": location,
        "photos": photos,
        "photos_missing": photos if photos_missing is None else photos_missing,
        "received_at": row["received_at"],
        "created_at_client": row["created_at_client"],
    }


def rows_to_api(conn, rows):
    """Many visits with photos_missing in one blob query."""
    shas = [s for r in rows for s in json.loads(r["photos"])]
    stored = blobs.stored_among(conn, shas) if shas else set()
    return [to_api(r, [s for s in json.loads(r["photos"]) if s not in stored]) for r in rows]


def list_rows(
    conn,
    *,
    scope_sql,
    scope_params,
    grid=None,
    household=None,
    lo=None,
    hi=None,
    after=None,
    limit=100,
):
    """Visits newest first, keyset-paginated on (visited_at_utc, id)."""
    where, params = [scope_sql], list(scope_params)
    for cond, value in (
        ("grid_code = ?", grid),
        ("household_id = ?", household),
        ("visited_at_utc >= ?", lo),
        ("visited_at_utc <= ?", hi),
    ):
        if value is not None:
            where.append(cond)
            params.append(value)
    if after:
        where.append("(visited_at_utc, id) < (?, ?)")
        params += list(after)
    sql = (
        "SELECT * FROM visits WHERE "
        + " AND ".join(where)
        + " ORDER BY visited_at_utc DESC, id DESC LIMIT ?"
    )
    params.append(limit)
    return [dict(r) for r in conn.execute(sql, params)]


def iso_utc(visited_at):
    """The sortable UTC form of a visited_at as sent."""
    return iso(parse_iso(visited_at))
