"""Households: SQL, per-field versions and the API representation."""

import json

from ..timeutil import now_iso
from .changes import record_change

FIELDS = (
    "grid_code",
    "address",
    "building",
    "unit_no",
    "room",
    "head_name",
    "phone",
    "members",
    "tags",
    "notes",
)


def get_row(conn, household_id):
    row = conn.execute("SELECT * FROM households WHERE id = ?", (household_id,)).fetchone()
    return dict(row) if row else None


def get_brief(conn, household_id):
    """Just what a visit or problem needs of its household: id, grid_code, deleted."""
    row = conn.execute(
        "SELECT id, grid_code, deleted FROM households WHERE id = ?", (household_id,)
    ).fetchone()
    return {"id": row[0], "grid_code": row[1], "deleted": row[2]} if row else None


def _encode(fields):
    out = {k: fields[k] for k in FIELDS if k in fields}
    if "tags" in out:
        out["tags"] = json.dumps(list(out["tags"] or []), ensure_ascii=False)
    return out


def insert(
    conn, household_id, fields, *, created_by=None, create_hash=None, created_at_client=None
):
    """Insert a household at version 1 and log the change; returns the row."""
    seq = record_change(conn, "household", household_id, fields["grid_code"])
    values = row_values(
        household_id,
        fields,
        seq=seq,
        ts=now_iso(),
        created_by=created_by,
        create_hash=create_hash,
        created_at_client=created_at_client,
    )
    cols = ", ".join(values)
    marks = ", ".join("?" * len(values))
    conn.execute(f"INSERT INTO households ({cols}) VALUES ({marks})", list(values.values()))
    return get_row(conn, household_id)


def row_values(
    household_id, fields, *, seq, ts, created_by=None, create_hash=None, created_at_client=None
):
    """The columns of a new household at version 1 (its change logged at seq)."""
    return with_write(
        new_row(household_id, fields, create_hash=create_hash, created_at_client=created_at_client),
        seq=seq,
        ts=ts,
        created_by=created_by,
    )


def new_row(household_id, fields, *, create_hash=None, created_at_client=None):
    """The columns of a new household that follow from the create alone (a push builds them
    before its write lock); with_write adds the rest."""
    values = _encode(fields)
    values.setdefault("tags", "[]")
    values.update(
        id=household_id,
        version=1,
        field_versions=json.dumps({k: 1 for k in FIELDS if k in fields}),
        create_hash=create_hash,
        created_at_client=created_at_client,
    )
    return values


def with_write(row, *, seq, ts, created_by):
    """A new_row completed with what its write transaction sets: the seq of its change, the
    time and the writer."""
    return dict(row, created_at=ts, updated_at=ts, seq=seq, created_by=created_by)


def changed_fields(row, fields):
    """The subset of fields whose value differs from the row."""
    current = to_api(row)
    return {
        k: v
        for k, v in fields.items()
        if k in FIELDS and (list(v or []) if k == "tags" else v) != current[k]
    }


def update(conn, household_id, fields, *, updated_at_client=None):
    """Write the given fields: version + 1, their field versions, change rows (old and new grid)."""
    row = get_row(conn, household_id)
    version = row["version"] + 1
    field_versions = json.loads(row["field_versions"])
    for key in fields:
        field_versions[key] = version
    new_grid = fields.get("grid_code", row["grid_code"])
    seq = None
    if new_grid != row["grid_code"]:
        record_change(conn, "household", household_id, row["grid_code"])
    seq = record_change(conn, "household", household_id, new_grid)
    values = _encode(fields)
    values.update(
        version=version,
        field_versions=json.dumps(field_versions),
        updated_at=now_iso(),
        seq=seq,
        updated_at_client=updated_at_client,
    )
    assignments = ", ".join(f"{k} = ?" for k in values)
    conn.execute(
        f"UPDATE households SET {assignments} WHERE id = ?", [*values.values(), household_id]
    )
    return get_row(conn, household_id)


def mark_deleted(conn, household_id, *, updated_at_client=None):
    """Tombstone a household: deleted, version + 1, logged."""
    row = get_row(conn, household_id)
    seq = record_change(conn, "household", household_id, row["grid_code"])
    conn.execute(
        "UPDATE households SET deleted = 1, version = version + 1, updated_at = ?, seq = ?, "
        "updated_at_client = ? WHERE id = ?",
        (now_iso(), seq, updated_at_client, household_id),
    )
    return get_row(conn, household_id)


def fields_changed_since(row, base_version):
    """Fields the server changed after base_version."""
    return {k for k, v in json.loads(row["field_versions"]).items() if v > base_version}


def find_match(conn, grid_code, address, building, unit_no, room):
    """A live household at the same place (the roster import's natural key)."""
    row = conn.execute(
        "SELECT * FROM households WHERE grid_code = ? AND address = ? AND building IS ? "
        "AND unit_no IS ? AND room IS ? AND deleted = 0 ORDER BY created_at LIMIT 1",
        (grid_code, address, building, unit_no, room),
    ).fetchone()
    return dict(row) if row else None


def to_api(row):
    """The household as GET /households/{id} and pulls return it (unmasked)."""
    return {
        "id": row["id"],
        "grid_code": row["grid_code"],
        "address": row["address"],
        "building": row["building"],
        "unit_no": row["unit_no"],
        "room": row["room"],
        "head_name": row["head_name"],
        "phone": row["phone"],
        "members": row["members"],
        "tags": json.loads(row["tags"]),
        "notes": row["notes"],
        "deleted": bool(row["deleted"]),
        "version": row["version"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "created_at_client": row["created_at_client"],
        "updated_at_client": row["updated_at_client"],
    }


def list_rows(
    conn,
    *,
    scope_sql,
    scope_params,
    grid=None,
    tag=None,
    q=None,
    deleted=False,
    after=None,
    limit=100,
):
    """Households ordered by (grid_code, id), keyset-paginated."""
    where, params = [scope_sql], list(scope_params)
    if not deleted:
        where.append("deleted = 0")
    if grid:
        where.append("grid_code = ?")
        params.append(grid)
    if tag:
        where.append("EXISTS (SELECT 1 FROM json_each(households.tags) WHERE value = ?)")
        params.append(tag)
    if q:
        where.append(
            "(address LIKE ? ESCAPE '\\' OR head_name LIKE ? ESCAPE '\\' "
            "OR notes LIKE ? ESCAPE '\\')"
        )
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params += [pattern] * 3
    if after:
        where.append("(grid_code, id) > (?, ?)")
        params += list(after)
    sql = (
        "SELECT * FROM households WHERE " + " AND ".join(where) + " ORDER BY grid_code, id LIMIT ?"
    )
    params.append(limit)
    return [dict(r) for r in conn.execute(sql, params)]
