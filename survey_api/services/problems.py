"""Problem records: reporting (creation), and edits or deletion while still `reported`.

Everything after reporting is a lifecycle action (services/lifecycle.py). A problem may be
edited (category, description, urgency, source, location, photos_before) or deleted by anyone
whose scope holds its grid, only while its status is `reported`; otherwise 409
INVALID_TRANSITION. Edits and deletes take base_version (stale → 409 STALE_VERSION, no merge).
"""

import weakref

from schemas.problems import ProblemCreateSchema, ProblemPatchSchema

from ..db import write_tx
from ..errors import ApiError, validation_error
from ..storage import audit
from ..storage import categories as category_store
from ..storage import problems as store
from ..timeutil import local_date, now
from . import creates
from .records import visible, visible_row

_CREATE = ProblemCreateSchema()
_PATCH = ProblemPatchSchema()


def present(conn, row):
    return store.rows_to_api(conn, [row])[0]


def read(conn, scope, problem_id):
    """GET /problems/{id}: the problem with its events, or 404 / 410."""
    return present(conn, get_visible(conn, scope, problem_id))


def get_visible(conn, scope, problem_id):
    """A problem the caller may see: 404 otherwise, 410 when deleted."""
    return visible_row(scope, store.get_row(conn, problem_id), "problem")


def _check_category(conn, code, scope=None):
    if scope is not None:
        memo = _LEAVES.setdefault(scope, {})
        if code not in memo:
            memo[code] = category_store.is_leaf(conn, code)
        ok = memo[code]
    else:
        ok = category_store.is_leaf(conn, code)
    if not ok:
        raise validation_error({"category": ["Not a leaf category code."]})


# Per-request memo of category checks, keyed by the scope object.
_LEAVES = weakref.WeakKeyDictionary()


def _location_columns(fields):
    if "location" not in fields:
        return {}
    loc = fields.pop("location") or {}
    return {"lat": loc.get("lat"), "lng": loc.get("lng"), "accuracy_m": loc.get("accuracy_m")}


def _normalise(fields, data):
    fields.update(_location_columns(fields))
    fields["household_id"] = (fields.get("household_id") or "").lower() or None
    fields["visit_id"] = (fields.get("visit_id") or "").lower() or None
    fields["photos_before"] = list(dict.fromkeys(fields.get("photos_before") or []))
    return fields


def new_record(record_id, data, at_client=None):
    """A create's id, hash and loaded fields: no database (a push runs it before its lock)."""
    return creates.new_record(_CREATE, record_id, data, at_client, _normalise)


def check_create(conn, scope, new, lookups):
    """Every rule of reporting a problem that reads the database; the fields to insert
    (community_code among them: the number is drawn by the caller)."""
    fields = creates.check_new(
        conn, scope, new, lookups, "problems", store.get_row, lambda r: present(conn, r)
    )
    grid = creates.writable_grid(conn, scope, fields["grid_code"])
    _check_category(conn, fields["category"], scope)
    household_id, visit_id = fields["household_id"], fields["visit_id"]
    if household_id:
        household = lookups.household(household_id)
        if household is None or not lookups.holds_grid(household["grid_code"]):
            raise ApiError(
                404,
                "NOT_FOUND",
                "No such household.",
                errors={"household_id": ["No such household."]},
            )
        if household["deleted"]:
            raise ApiError(
                410,
                "GONE",
                "The household was deleted.",
                errors={"household_id": ["The household was deleted."]},
            )
        if household["grid_code"] != grid["code"]:
            raise validation_error({"household_id": ["The household is in another grid."]})
    if visit_id:
        visit = lookups.visit(visit_id)
        if visit is None or not lookups.holds_grid(visit["grid_code"]):
            raise ApiError(
                404, "NOT_FOUND", "No such visit.", errors={"visit_id": ["No such visit."]}
            )
        if household_id and visit["household_id"] != household_id:
            raise validation_error({"visit_id": ["The visit is of another household."]})
        household_id = household_id or visit["household_id"]
    return dict(
        fields,
        household_id=household_id,
        community_code=grid["parent_code"],
        create_hash=new.digest,
        created_by=scope.user_id,
        created_at_client=new.at_client,
    )


def create(conn, scope, record_id, data, at_client=None, *, represent=True):
    """Report a problem (status reported, level grid, numbered); creates.Duplicate on a repeat."""
    new = new_record(record_id, data, at_client)
    fields = check_create(conn, scope, new, creates.Lookups(conn, scope))
    number = store.next_number(conn, fields["community_code"], local_date(now()).year)
    row = store.insert(conn, new.id, number, fields, reread=represent)
    store.add_event(
        conn,
        new.id,
        action="report",
        from_status=None,
        to_status="reported",
        actor_id=scope.user_id,
        at=row["reported_at"],
    )
    return present(conn, row) if represent else row


def _editable(conn, scope, problem_id, base_version):
    row = get_visible(conn, scope, problem_id)
    if row["status"] != "reported":
        raise ApiError(
            409,
            "INVALID_TRANSITION",
            f"A {row['status']} problem can no longer be edited.",
            current=present(conn, row),
        )
    if base_version != row["version"]:
        raise ApiError(
            409,
            "STALE_VERSION",
            f"The problem is at version {row['version']}.",
            current=present(conn, row),
        )
    return row


def update(conn, scope, problem_id, base_version, data, at_client=None, *, represent=True):
    """Edit a reported problem."""
    fields = creates.load(_PATCH, data)
    _editable(conn, scope, problem_id, base_version)
    if "category" in fields:
        _check_category(conn, fields["category"])
    fields.update(_location_columns(fields))
    if fields:
        fields["updated_at_client"] = creates.at_client_iso(at_client)
        row = store.update(conn, problem_id, fields)
    else:
        row = store.get_row(conn, problem_id)
    return present(conn, row) if represent else row


def delete(conn, scope, problem_id, base_version, at_client=None):
    """Withdraw a reported problem: 'deleted', or 'absent'/'already_deleted'."""
    row = store.get_row(conn, problem_id)
    if not visible(scope, row):
        return "absent"
    if row["deleted"]:
        return "already_deleted"
    _editable(conn, scope, problem_id, base_version)
    store.update(
        conn, problem_id, {"deleted": 1, "updated_at_client": creates.at_client_iso(at_client)}
    )
    return "deleted"


def report(conn, scope, data, *, ip=None):
    """POST /problems: create (in its own write transaction, audited) → (record, created);
    a repeated create of the same data answers the stored record, created False."""
    try:
        with write_tx(conn):
            record = create(conn, scope, None, data)
            audit.record(
                conn,
                actor=scope.user_id,
                action="problem.create",
                target=record["id"],
                ip=ip,
                details={"number": record["number"]},
            )
    except creates.Duplicate as d:
        return d.record, False
    return record, True
