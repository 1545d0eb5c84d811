"""Who may see what: the one scope mechanism every endpoint uses.

A user's scope is the subtrees of its units (admin: everything). Scope is read from
the database on every request, so changing a user's units takes effect at once.
"""

from flask import g
from flask_jwt_extended import current_user

from .db import get_db
from .errors import ApiError
from .roles import ADMIN, GRID_WORKER
from .storage import units as unit_store


class Scope:
    def __init__(self, conn, user):
        self.conn = conn
        self.user = user
        self.user_id = user["id"]
        self.role = user["role"]
        self.units = unit_store.get_many(conn, user["unit_codes"])
        self.paths = [u["path"] for u in self.units]
        self._grids = None

    @property
    def is_admin(self):
        return self.role == ADMIN

    @property
    def is_grid_worker(self):
        return self.role == GRID_WORKER

    def holds(self, unit):
        """True when the unit (a dict with path) lies in this scope."""
        return self.is_admin or any(unit["path"].startswith(p) for p in self.paths)

    def holds_code(self, code):
        unit = unit_store.get(self.conn, code)
        return unit is not None and self.holds(unit)

    def grids(self):
        """Grid codes in scope, or None for admin (= every grid)."""
        if self.is_admin:
            return None
        if self._grids is None:
            self._grids = unit_store.grids_under(self.conn, self.paths)
        return self._grids

    def grid_set(self):
        grids = self.grids()
        return None if grids is None else set(grids)

    def holds_grid(self, grid_code):
        grids = self.grid_set()
        return grids is None or grid_code in grids

    def grid_filter(self, column, under=None):
        """SQL condition + params restricting `column` (a grid code) to this scope, and to the
        subtree of the unit `under` when one is given."""
        if self.is_admin:
            sql, params = "1", []
        else:
            sql, params = unit_store.grids_under_sql(column, self.paths)
        if under is not None:
            sub_sql, sub_params = unit_store.grids_under_sql(column, [under["path"]])
            sql, params = f"{sql} AND {sub_sql}", [*params, *sub_params]
        return sql, params

    def check_unmask(self, unit=None):
        """unmask=true: secretaries and above, in their own scope (else 403 UNMASK_FORBIDDEN)."""
        if self.is_grid_worker:
            raise ApiError(403, "UNMASK_FORBIDDEN", "Grid workers may not unmask personal data.")
        if unit is not None and not self.holds(unit):
            raise ApiError(403, "UNMASK_FORBIDDEN", f"Unit {unit['code']} is outside your scope.")

    def unit_for_list(self, code, *, level=None, unmask=False):
        """A unit named by a list, filter or write: 404 when unknown (or not of `level`), 403
        outside scope (OUT_OF_SCOPE; UNMASK_FORBIDDEN when unmasking, which grid workers may
        never do)."""
        if unmask:
            self.check_unmask()
        unit = unit_store.get(self.conn, code)
        if unit is None or (level is not None and unit["level"] != level):
            raise ApiError(404, "NOT_FOUND", f"No {level or 'unit'} {code}.")
        if unmask:
            self.check_unmask(unit)
        elif not self.holds(unit):
            raise ApiError(403, "OUT_OF_SCOPE", f"Unit {code} is outside your scope.")
        return unit

    def unit_for_report(self, list_name, code, *, level=None, unmask=False):
        """The unit a secretaries' list names (problem-list, rectification-list, visit-ledger,
        summary): the unmask, role, kind and scope checks, in that order. Grid workers read
        only their grids' visit ledger."""
        if unmask:
            self.check_unmask()
        if self.is_grid_worker and list_name != "visit-ledger":
            raise ApiError(
                403, "FORBIDDEN", "Grid workers may only read their grids' visit ledger."
            )
        return self.unit_for_list(code, level=level, unmask=unmask)

    def require_role(self, *roles):
        if self.role not in roles:
            raise ApiError(403, "FORBIDDEN", "Your role may not use this endpoint.")


def current_scope() -> Scope:
    """The caller's scope (needs a verified access token)."""
    if "scope" not in g:
        g.scope = Scope(get_db().conn, current_user)
    return g.scope
