"""Who may see what: the one scope mechanism every endpoint uses.

A user's scope is the subtrees of its units (admin: everything). Scope is read from
the database on every request, so changing a user's units takes effect at once.
"""

from flask import g
from flask_jwt_extended import current_user

from .db import get_db
from .errors import ApiError
from .roles import ADMIN, GRID_WORKER, RANK
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

    def at_least(self, role):
        return RANK[self.role] >= RANK[role]

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

    def grid_filter(self, column):
        """SQL condition + params restricting `column` (a grid code) to this scope."""
        if self.is_admin:
            return "1", []
        if not self.paths:
            return "0", []
        cond = " OR ".join("path LIKE ? ESCAPE '\\'" for _ in self.paths)
        sql = f"{column} IN (SELECT code FROM units WHERE level = 'grid' AND ({cond}))"
        return sql, [unit_store.like_prefix(p) for p in self.paths]

    def unit_for_list(self, code):
        """A unit named by a list/export/write: 404 when unknown, 403 when outside scope."""
        unit = unit_store.get(self.conn, code)
        if unit is None:
            raise ApiError(404, "NOT_FOUND", f"No unit {code}.")
        if not self.holds(unit):
            raise ApiError(403, "OUT_OF_SCOPE", f"Unit {code} is outside your scope.")
        return unit

    def require_role(self, *roles):
        if self.role not in roles:
            raise ApiError(403, "FORBIDDEN", "Your role may not use this endpoint.")


def current_scope() -> Scope:
    """The caller's scope (needs a verified access token)."""
    if "scope" not in g:
        g.scope = Scope(get_db().conn, current_user)
    return g.scope
