"""Household rules: create (offline ids, duplicates), versioned update with per-field merge,
tombstone delete, and who sees them unmasked."""

from schemas.households import HouseholdCreateSchema, HouseholdPatchSchema

from ..db import write_tx
from ..errors import ApiError
from ..pagination import page
from ..storage import audit
from ..storage import households as store
from . import creates
from .masking import mask
from .records import visible, visible_row

_CREATE = HouseholdCreateSchema()
_PATCH = HouseholdPatchSchema()


def shown_to(scope, row, unmask=False):
    """The household as this caller may see it (unlike a visit or a problem, that depends on
    who asks): grid workers (own grids) and unmask=true see personal data, others it masked."""
    record = store.to_api(row)
    if unmask or scope.is_grid_worker:
        return record
    return mask(record)


def get_visible(conn, scope, household_id):
    """A household the caller may see: 404 otherwise, 410 when deleted."""
    return visible_row(scope, store.get_row(conn, household_id), "household")


def new_record(record_id, data, at_client=None):
    """A create's id, hash and loaded fields: no database (a push runs it before its lock)."""
    return creates.new_record(_CREATE, record_id, data, at_client)


def check_create(conn, scope, new, lookups):
    """Every rule of a household create that reads the database; the fields to insert."""
    fields = creates.check_new(
        conn, scope, new, lookups, "households", store.get_row, lambda r: shown_to(scope, r)
    )
    creates.writable_grid(conn, scope, fields["grid_code"])
    return fields


def create(conn, scope, record_id, data, at_client=None, *, represent=True):
    """Create a household; raises creates.Duplicate for a repeated identical create."""
    new = new_record(record_id, data, at_client)
    fields = check_create(conn, scope, new, creates.Lookups(conn, scope))
    row = store.insert(
        conn,
        new.id,
        fields,
        created_by=scope.user_id,
        create_hash=new.digest,
        created_at_client=new.at_client,
    )
    return shown_to(scope, row) if represent else row


def update(
    conn, scope, household_id, base_version, data, at_client=None, *, merge=True, represent=True
):
    """Apply changed fields at base_version.

    merge=True (push): a stale base_version still applies when none of the sent fields changed
    on the server after it; merge=False (REST If-Match): any stale version is 409.
    """
    row = get_visible(conn, scope, household_id)
    fields = creates.load(_PATCH, data)
    if "grid_code" in fields and fields["grid_code"] != row["grid_code"]:
        creates.writable_grid(conn, scope, fields["grid_code"])
    changes = store.changed_fields(row, fields)
    if base_version != row["version"]:
        overlap = store.fields_changed_since(row, base_version) & set(changes)
        if not merge or base_version > row["version"] or overlap:
            raise ApiError(
                409,
                "STALE_VERSION",
                f"The household is at version {row['version']}.",
                current=shown_to(scope, row),
            )
    if changes:
        row = store.update(
            conn, household_id, changes, updated_at_client=creates.at_client_iso(at_client)
        )
    return shown_to(scope, row) if represent else row


def delete(conn, scope, household_id, base_version, at_client=None):
    """Tombstone a household: 'deleted', or 'absent'/'already_deleted' when there is nothing to do.

    A stale base_version on a live household is 409 STALE_VERSION.
    """
    row = store.get_row(conn, household_id)
    if not visible(scope, row):
        return "absent"
    if row["deleted"]:
        return "already_deleted"
    if base_version != row["version"]:
        raise ApiError(
            409,
            "STALE_VERSION",
            f"The household is at version {row['version']}.",
            current=shown_to(scope, row),
        )
    store.mark_deleted(conn, household_id, updated_at_client=creates.at_client_iso(at_client))
    return "deleted"


# --- the API's entrances: each one transaction, audited -------------------------------------


def list_page(
    conn,
    scope,
    *,
    grid=None,
    tag=None,
    q=None,
    deleted=False,
    unmask=False,
    after=None,
    limit=100,
    ip=None,
):
    """A page of the caller's households by (grid, id), under the unit `grid` when given:
    masked for everyone unless unmask=true (secretaries and above, audited)."""
    unit = None
    if grid:
        unit = scope.unit_for_list(grid, unmask=unmask)
    elif unmask:
        scope.check_unmask()
    scope_sql, params = scope.grid_filter("grid_code", under=unit)
    rows = store.list_rows(
        conn,
        scope_sql=scope_sql,
        scope_params=params,
        tag=tag,
        q=q,
        deleted=deleted,
        after=after,
        limit=limit + 1,
    )
    items = [store.to_api(r) for r in rows]
    if unmask:
        with write_tx(conn):
            audit.record(
                conn,
                actor=scope.user_id,
                action="unmask",
                target=grid,
                ip=ip,
                details={"endpoint": "households.list", "count": min(len(items), limit)},
            )
    else:
        items = [mask(i) for i in items]
    return page(items, limit, key=lambda h: [h["grid_code"], h["id"]])


def add(conn, scope, data, *, ip=None):
    """POST /households: (record, created); a repeated identical create gives the first back."""
    try:
        with write_tx(conn):
            record = create(conn, scope, None, data)
            audit.record(
                conn, actor=scope.user_id, action="household.create", target=record["id"], ip=ip
            )
    except creates.Duplicate as d:
        return d.record, False
    return record, True


def read(conn, scope, household_id, *, unmask=False, ip=None):
    """One household: unmasked for its grid workers, masked for others unless unmask=true
    (secretaries and above, audited)."""
    row = get_visible(conn, scope, household_id)
    if unmask:
        scope.check_unmask()
        with write_tx(conn):
            audit.record(
                conn,
                actor=scope.user_id,
                action="unmask",
                target=row["id"],
                ip=ip,
                details={"endpoint": "households.get"},
            )
    return shown_to(scope, row, unmask)


def change(conn, scope, household_id, version, data, *, ip=None):
    """PATCH at the version the caller last read (a stale one is 409 with the current record)."""
    with write_tx(conn):
        record = update(conn, scope, household_id, version, data, merge=False)
        audit.record(
            conn,
            actor=scope.user_id,
            action="household.update",
            target=household_id,
            ip=ip,
            details={"fields": sorted(data)},
        )
    return record


def remove(conn, scope, household_id, version, *, ip=None):
    """DELETE (tombstone) at the version the caller last read: 404 unknown, 410 already gone."""
    with write_tx(conn):
        outcome = delete(conn, scope, household_id, version)
        if outcome == "absent":
            raise ApiError(404, "NOT_FOUND", "No such household.")
        if outcome == "already_deleted":
            raise ApiError(410, "GONE", "This household was deleted.")
        audit.record(
            conn, actor=scope.user_id, action="household.delete", target=household_id, ip=ip
        )
