"""A problem as the console's problem page shows it: the record, the names behind its codes,
its household (masked unless unmasked and audited), its events with their authors, and the
actions the reader may take now (services/lifecycle.actions_now)."""

from ..db import write_tx
from ..errors import ApiError
from ..storage import audit
from ..storage import categories as category_store
from ..storage import households as household_store
from ..storage import units as unit_store
from ..storage import users as user_store
from . import households, lifecycle
from . import problems as problem_service


def may_unmask(scope):
    """Whether the reader may see personal data in full (scope.check_unmask: secretaries and
    above)."""
    try:
        scope.check_unmask()
    except ApiError:
        return False
    return True


def details(conn, scope, problem_id, *, unmask=False, ip=None):
    """Everything the problem page shows; 404 outside scope, 410 when deleted.

    unmask=True shows the household in full and writes the audit entry (403 for a role
    that may not).
    """
    row = problem_service.get_visible(conn, scope, problem_id)
    record = problem_service.present(conn, row)
    category = category_store.get(conn, row["category"])
    group = (
        category_store.get(conn, category["parent_code"])
        if category and category["parent_code"]
        else None
    )
    names = _unit_names(conn, [row["grid_code"], row["responsible_unit"]])
    actors = {e["actor_id"] for e in record["events"]} | {row["verified_by"]}
    people = {uid: _person(conn, uid) for uid in actors if uid}
    household = None
    if row["household_id"]:
        household_row = household_store.get_row(conn, row["household_id"])
        if household_row is not None:
            if unmask:
                _audit_unmask(conn, scope, row, ip)
            household = households.shown_to(scope, household_row, unmask=unmask)
    elif unmask:
        raise ApiError(404, "NOT_FOUND", "This problem has no household.")
    return {
        "problem": record,
        "category_name": category["name"] if category else row["category"],
        "category_group": group["name"] if group else None,
        "unit_names": names,
        "people": people,
        "household": household,
        "unmasked": unmask,
        "may_unmask": may_unmask(scope) and household is not None and not unmask,
        "actions": lifecycle.actions_now(scope, row),
    }


def _audit_unmask(conn, scope, row, ip):
    scope.check_unmask()
    with write_tx(conn):
        audit.record(
            conn,
            actor=scope.user_id,
            action="unmask",
            target=row["household_id"],
            ip=ip,
            details={"endpoint": "console.problem", "problem": row["id"]},
        )


def _unit_names(conn, codes):
    return {u["code"]: u["name"] for u in unit_store.get_many(conn, [c for c in codes if c])}


def _person(conn, user_id):
    user = user_store.get(conn, user_id)
    if user is None:
        return user_id
    return user["display_name"] or user["username"]
