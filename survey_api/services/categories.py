"""Problem categories: everyone reads them; admin adds groups and leaves and edits them."""

from ..categories_seed import DEFAULT_WORKING_DAYS
from ..db import write_tx
from ..errors import ApiError, validation_error
from ..roles import ADMIN
from ..storage import audit
from ..storage import categories as category_store

PUBLIC = ("code", "name", "parent_code", "working_days")


def public(row):
    return {k: row[k] for k in PUBLIC}


def list_categories(conn, *, after=None, limit=100):
    """Categories in display order (each group followed by its leaves), with their sort key."""
    return category_store.list_categories(conn, after=after, limit=limit)


def get_category(conn, code):
    row = category_store.get(conn, code)
    if row is None:
        raise ApiError(404, "NOT_FOUND", f"No category {code}.")
    return public(row)


def _check_new(conn, code, parent_code, working_days):
    """A group has no dot and no working days; a leaf `group.leaf` names its group. Returns the
    leaf's working days (the default when not given)."""
    if category_store.get(conn, code):
        raise validation_error({"code": ["A category with this code exists."]})
    if parent_code is None:
        if "." in code:
            raise validation_error({"parent_code": ["A leaf 'group.leaf' needs its group."]})
        if working_days is not None:
            raise validation_error({"working_days": ["Groups have no working days."]})
        return None
    parent = category_store.get(conn, parent_code)
    if parent is None or parent["parent_code"] is not None:
        raise validation_error({"parent_code": ["Must name an existing group."]})
    if not code.startswith(parent_code + "."):
        raise validation_error({"code": [f"A leaf of {parent_code} is '{parent_code}.<name>'."]})
    return DEFAULT_WORKING_DAYS if working_days is None else working_days


def create_category(conn, scope, code, name, parent_code, working_days=None, *, ip=None):
    """Add a group, or a leaf with its working days (admin only)."""
    scope.require_role(ADMIN)
    with write_tx(conn):
        working_days = _check_new(conn, code, parent_code, working_days)
        row = public(category_store.insert(conn, code, name, parent_code, working_days))
        audit.record(
            conn, actor=scope.user_id, action="category.create", target=code, ip=ip, details=row
        )
    return row


def update_category(conn, scope, code, changes, *, ip=None):
    """Rename a category or change a leaf's working days (admin only; deadlines computed
    afterwards use them)."""
    scope.require_role(ADMIN)
    with write_tx(conn):
        row = category_store.get(conn, code)
        if row is None:
            raise ApiError(404, "NOT_FOUND", f"No category {code}.")
        if "working_days" in changes:
            is_group = row["parent_code"] is None
            if is_group and changes["working_days"] is not None:
                raise validation_error({"working_days": ["Groups have no working days."]})
            if not is_group and changes["working_days"] is None:
                raise validation_error({"working_days": ["A leaf needs its working days."]})
        row = category_store.update(conn, code, changes)
        audit.record(
            conn, actor=scope.user_id, action="category.update", target=code, ip=ip, details=changes
        )
    return public(row)
